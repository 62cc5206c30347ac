"""A real SMTP server on the loopback for the tests: what the mail worker sends arrives in
``smtp_server.messages``; ``smtp_server.delay`` makes it slow."""

from __future__ import annotations

import asyncio
import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from core import mail


class _Collect:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.server.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_recipients = list(envelope.rcpt_tos)
        self.server.messages.append(message)
        return "250 Message accepted"


class SmtpServer:
    """The running server: its port, the messages received (parsed), and how long it holds each one."""

    def __init__(self, app, port: int):
        self.app = app
        self.port = port
        self.delay = 0.0
        self.messages: list[EmailMessage] = []

    def deliver(self) -> int:
        """Run the mail worker once, as ``flask worker --once`` does for mail: send what is queued and due."""
        with self.app.app_context():
            return mail.deliver_due()

    def delivered(self) -> list[EmailMessage]:
        """Every message received, once the mail worker has sent what was queued."""
        self.deliver()
        return self.messages

    def last_to(self, address: str) -> EmailMessage:
        """The newest message sent to ``address`` (the mail worker runs first)."""
        matches = [m for m in self.delivered() if address in m["To"]]
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
    server = SmtpServer(app, _free_port())
    controller = Controller(_Collect(server), hostname="127.0.0.1", port=server.port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False)
    yield server
    controller.stop()
