"""Pages that every visitor of a site sees alike, rendered at most once a second per site, page and language.

A campaign launch sends everyone to one page at once. The sign-up page took about 11 ms of a worker to render
(templates, the country list, units, texts, counts), some ten times what answering its form costs before the
database. Apart from a couple of values of each visit (the form's CSRF token, the signed time it was shown), it
is the same for every anonymous visitor of a site in a language until something on it changes. So a page is
kept for ``PAGE_CACHE_SECONDS`` (at most a second, as the counts on it are: ``core/stats.py``) with those values
replaced by markers, and each visit puts its own back in.

The key says what the page depends on (the caller's job): the site and a fingerprint of its settings, so that a
changed setting shows at once in the worker that made it, and within the host cache's 2 seconds in others.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable

from cachetools import TTLCache
from flask import Flask, current_app

MAX_PAGE_CACHE_SECONDS = 1.0


def page(key: Hashable, render: Callable[[], str], per_visit: dict[str, str]) -> str:
    """The page for ``key`` with this visit's values (``per_visit``: name -> value, each rendered into the page
    by ``render`` exactly as given); rendered by ``render`` when none is kept."""
    kept, lock = current_app.extensions["page_cache"]
    if kept is None:
        return render()
    with lock:
        template = kept.get(key)
    if template is None:
        page = render()
        template = page
        for name, value in per_visit.items():
            if page.count(value) != 1:  # not where a marker can stand for it alone: keep nothing
                return page
            template = template.replace(value, _marker(name))
        with lock:
            kept[key] = template
        return page
    for name, value in per_visit.items():
        template = template.replace(_marker(name), value)
    return template


def _marker(name: str) -> str:
    return f"\x00{name}-{_MARKERS_SALT}\x00"


_MARKERS_SALT = secrets.token_hex(8)  # so that no text on a page can be taken for a marker


def init_app(app: Flask) -> None:
    seconds = min(float(app.config["PAGE_CACHE_SECONDS"]), MAX_PAGE_CACHE_SECONDS)
    app.extensions["page_cache"] = (TTLCache(maxsize=2000, ttl=seconds) if seconds > 0 else None,
                                    threading.Lock())
