"""A real SMTP server on the loopback for the tests: what the app sends arrives in ``smtp_server.messages``."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class _Collect:
    def __init__(self, messages: list[EmailMessage]):
        self.messages = messages

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_recipients = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted"


class SmtpServer:
    """The running server: its port and the messages received, parsed."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[EmailMessage] = []

    def last_to(self, address: str) -> EmailMessage:
        """The newest message sent to ``address``."""
        matches = [m for m in self.messages if address in m["To"]]
        assert matches, f"no mail to {address}; received: {[m['To'] for m in self.messages]}"
        return matches[-1]

    @staticmethod
    def link(message: EmailMessage) -> str:
        """The first web address in a message's text."""
        match = re.search(r"https?://\S+", message.get_content())
        assert match, "the mail has no link"
        return match.group(0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    """A local SMTP server (aiosmtpd) that collects every message; the app is set to send through it."""
    server = SmtpServer(_free_port())
    controller = Controller(_Collect(server.messages), hostname="127.0.0.1", port=server.port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False)
    yield server
    controller.stop()
