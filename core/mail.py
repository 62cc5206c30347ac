"""Sending mail over SMTP (stdlib ``smtplib``), or into the app log when no server is set.

With ``MAIL_SERVER`` empty (the default) every message is written to the app log instead of being sent,
so the embedded demo works without an SMTP server: the links in the "mail" are there to copy.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app

TIMEOUT_SECONDS = 10


class MailNotSent(RuntimeError):
    """The SMTP server could not be reached or refused the message."""


def build(to: str, subject: str, body: str, sender_name: str | None = None) -> EmailMessage:
    """A plain-text message from ``MAIL_SENDER``, shown as ``sender_name`` (a tenant's name) when given."""
    default_name, address = parseaddr(current_app.config["MAIL_SENDER"])
    message = EmailMessage()
    message["From"] = formataddr((sender_name or default_name, address))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
    # Auto-Submitted tells mail servers not to send out-of-office answers to a no-reply address.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send(to: str, subject: str, body: str, sender_name: str | None = None) -> EmailMessage:
    """Send one plain-text message; raises ``MailNotSent`` when the server cannot take it."""
    message = build(to, subject, body, sender_name)
    config = current_app.config
    if not config["MAIL_SERVER"]:
        current_app.logger.warning("MAIL_SERVER is empty: this mail was not sent\n%s", message.as_string())
        return message
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=TIMEOUT_SECONDS) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.error("mail to %s not sent: %s", to, error)
        raise MailNotSent(str(error)) from error
    return message
