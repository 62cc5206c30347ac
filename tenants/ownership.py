"""Proof that a tenant controls a DNS name: a TXT record ``_heforshe-verification.<name>`` that holds the token
the tenant was given. Custom hostnames (the portal's branding) and email domains (single sign-on) are proved
alike, through the nameserver ``DNS_NAMESERVER`` names (the system's by default)."""

from __future__ import annotations

import secrets

import dns.exception
import dns.resolver
from flask import current_app
from flask_babel import gettext as _

VERIFICATION_PREFIX = "_heforshe-verification"
DNS_TIMEOUT_SECONDS = 5.0


class NotProven(ValueError):
    """The TXT record does not hold the token (yet); the message (translated) says what was found instead."""


def record_name(domain: str) -> str:
    """The DNS name whose TXT record proves control of ``domain``."""
    return f"{VERIFICATION_PREFIX}.{domain}"


def new_token() -> str:
    """A fresh token for the tenant to publish."""
    return secrets.token_urlsafe(24)


def _resolver() -> dns.resolver.Resolver:
    """The system's resolver, or the one named by ``DNS_NAMESERVER`` (``host`` or ``host:port``)."""
    nameserver = current_app.config.get("DNS_NAMESERVER") or ""
    if not nameserver:
        resolver = dns.resolver.Resolver()
    else:
        host, _sep, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        if port:
            resolver.port = int(port)
    resolver.lifetime = DNS_TIMEOUT_SECONDS
    return resolver


def txt_values(name: str) -> list[str]:
    """The TXT record values at a DNS name (several strings of one record are joined, as DNS intends)."""
    answer = _resolver().resolve(name, "TXT", raise_on_no_answer=False)
    return [b"".join(rdata.strings).decode("utf-8", "replace").strip() for rdata in answer]


def check(domain: str, token: str) -> None:
    """Look for ``token`` in the TXT record of ``domain``; raise ``NotProven`` saying what was found instead."""
    name = record_name(domain)
    try:
        values = txt_values(name)
    except dns.resolver.NXDOMAIN:
        raise NotProven(_("There is no TXT record at %(name)s yet. DNS changes can take a while to "
                          "arrive: please try again later.", name=name)) from None
    except dns.exception.DNSException as error:
        current_app.logger.warning("TXT lookup of %s failed: %r", name, error)
        raise NotProven(_("The DNS lookup of %(name)s failed. Please try again later.", name=name)) from None
    if token not in values:
        raise NotProven(_("The TXT record at %(name)s does not hold the verification code yet. DNS changes "
                          "can take a while to arrive: please try again later.", name=name))
