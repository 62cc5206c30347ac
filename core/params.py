"""What a request's address carries, read safely: page numbers, search text, no NUL bytes.

Anyone can type anything into an address: every paged or searchable page reads its parameters through
these, so that no value reaches the database that it cannot take.
"""

from __future__ import annotations

import unicodedata

from flask import abort, request

#: Past any real list (50 rows a page: five million rows), and small enough that no offset overflows.
MAX_PAGE = 100_000


def page_number(name: str = "page") -> int:
    """The page a list is asked for: a whole number from 1 to ``MAX_PAGE``. Anything else (missing, text,
    negative, huge) gives the nearest of those; each list also stops at its own last page."""
    value = request.args.get(name, 1, type=int)
    return min(max(value, 1), MAX_PAGE)


def search_text(name: str = "q", max_length: int = 200) -> str:
    """What a person typed to search, without control characters, trimmed and cut to ``max_length``."""
    typed = request.args.get(name, "")
    return "".join(c for c in typed if unicodedata.category(c) not in ("Cc", "Cs")).strip()[:max_length]


def refuse_nul_bytes() -> None:
    """No person types a NUL byte, and PostgreSQL refuses them in text: a request whose path or query
    holds one is answered 400 before any view runs. (Forms check their own fields: see ``core.forms``;
    reading the body here would bypass the upload limits that views set.)"""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                      for key, value in request.args.items(multi=True)):
        abort(400)
