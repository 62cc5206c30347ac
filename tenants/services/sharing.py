"""Sharing a commitment: plain links to the networks' own share pages (no script of theirs on ours) and the
thank-you page's personal greeting."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote, urlencode

from flask import session

THANKED_NAME, THANKED_COUNTRY = "thanked_name", "thanked_country"


class ShareLink(NamedTuple):
    network: str  # the network's name, or "email"
    href: str


def share_links(address: str, text: str, subject: str) -> list[ShareLink]:
    """Links that open each network's share page with ``address`` (the sign-up page) and ``text``; mail opens
    the visitor's own mail program with ``subject``."""
    with_address = f"{text} {address}"
    return [
        ShareLink("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": address})),
        ShareLink("WhatsApp", "https://wa.me/?" + urlencode({"text": with_address})),
        ShareLink("X", "https://x.com/intent/post?" + urlencode({"text": text, "url": address})),
        ShareLink("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": address})),
        # mailto takes %20 for a space, never "+" (RFC 6068)
        ShareLink("email", f"mailto:?subject={quote(subject, safe='')}&body={quote(with_address, safe='')}"),
    ]


def remember(name: str | None, country: str) -> None:
    """Keep the first word of the name just given and the country, for the thank-you page to greet its owner
    once and show them their place on the map."""
    first = (name or "").split()
    if first:
        session[THANKED_NAME] = first[0][:60]
    session[THANKED_COUNTRY] = country


def thanked() -> tuple[str | None, str | None]:
    """The name and country kept by ``remember``, forgotten as they are read: a reload or a shared link shows
    no one's."""
    return session.pop(THANKED_NAME, None), session.pop(THANKED_COUNTRY, None)
