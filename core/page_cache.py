"""Pages that every anonymous visitor of a site sees alike, rendered once and served from memory.

A campaign launch sends everyone to one page at once. The sign-up page took about 11 ms of a worker to render
(templates, the country list, units, texts, counts), some ten times what answering its form costs before the
database. Apart from a few values of each visit (the form's CSRF token, the signed time it was shown) and the
counts of the moment, it is the same for every anonymous visitor of a site in a language until one of the site's
settings changes. So a page is kept with those values replaced by markers, and each visit puts its own back in.

The key says what the page depends on (the caller's job): the site, its settings version
(``tenants.services.hosts.settings_fingerprint``, which moves with every change to what its pages show), address
and language. A changed setting then shows at once in the worker that made it, and within the host cache's 2
seconds in others. A page kept under its settings (``seconds`` None) is dropped after ``SETTINGS_PAGE_SECONDS``
all the same, should something it shows change without them; a page made of counts (the map, the global page) is
kept for ``PAGE_CACHE_SECONDS`` (at most a second, as the counts it shows: ``core/stats.py``).

The counts on a kept page are blocks of its template (``{% block counts %}``): the page is rendered with a marker in
their place (``render``), and each visit puts in the block as rendered at most once per ``PAGE_CACHE_SECONDS`` for
its key (``fragment``). Each kept page has a tag, a digest of what was kept: with the visit's own values, the
page's ETag (``answer``), so that a browser asking again for a page unchanged is answered 304, without a body.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from cachetools import TLRUCache, TTLCache
from flask import Flask, Response, current_app, request, session
from flask.signals import before_render_template, template_rendered
from markupsafe import Markup

MAX_PAGE_CACHE_SECONDS = 1.0
#: ``page``'s ``seconds`` for a page made of counts: kept for ``PAGE_CACHE_SECONDS``.
COUNTS_SECONDS = MAX_PAGE_CACHE_SECONDS
#: How long a page kept under its site's settings is kept at most: a safety net (a change to what it shows moves the
#: settings version and leaves the page at once), long enough that a site visited every few minutes is not
#: rendered again at each visit.
SETTINGS_PAGE_SECONDS = 600.0

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """A page for one visit, and the tag of the kept page it came from (None: it was not kept)."""

    body: str
    tag: str | None


@dataclass(frozen=True)
class _Kept:
    template: str  # the page with a marker for each value of a visit
    tag: str
    seconds: float


def page(key: Hashable, render: Callable[[], str], per_visit: dict[str, str], seconds: float | None = None) -> Page:
    """The page for ``key`` with this visit's values (``per_visit``: name -> value, each rendered into the page by
    ``render`` exactly as given, or drawn there as its marker by ``render`` below); rendered by ``render`` when none
    is kept. ``seconds``: how long it may be kept (None: for as long as its key stands)."""
    state = current_app.extensions["page_cache"]
    if state.pages is None:
        return Page(_fill(render(), per_visit), None)
    with state.lock:
        kept = state.pages.get(key)
    if kept is None:
        rendered = render()
        template = rendered
        for name, value in per_visit.items():
            if _marker(name) in template:  # a block drawn as its marker
                continue
            if template.count(value) != 1:  # not where a marker can stand for it alone: keep nothing
                return Page(_fill(rendered, per_visit), None)
            template = template.replace(value, _marker(name))
        lifetime = SETTINGS_PAGE_SECONDS if seconds is None else min(seconds, state.seconds)
        kept = _Kept(template, _digest(template), lifetime)
        with state.lock:
            state.pages[key] = kept
    return Page(_fill(kept.template, per_visit), kept.tag)


@dataclass(frozen=True)
class _Settled:
    value: object
    seconds: float = SETTINGS_PAGE_SECONDS


def settled(key: Hashable, compute: Callable[[], T]) -> T:
    """What ``compute`` gives, kept as long as a page kept under ``key`` would be: for what a kept page's counts
    block shows beside the counts that moves only with the site's settings (its published target, its match
    pledge), so that each visit reads only the counts. ``compute`` must give plain values, not database rows."""
    state = current_app.extensions["page_cache"]
    if state.pages is None:
        return compute()
    with state.lock:
        kept = state.pages.get(key)
    if kept is None:
        kept = _Settled(compute())
        with state.lock:
            state.pages[key] = kept
    return kept.value


def render(template_name: str, marked_blocks: Iterable[str] = (), **context) -> str:
    """A template rendered as ``render_template`` does, with a marker in place of each of ``marked_blocks`` (the
    parts of the page each visit gets afresh: ``page`` puts in the value of that name)."""
    app = current_app._get_current_object()
    template = app.jinja_env.get_or_select_template(template_name)
    app.update_template_context(context)
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    jinja_context = template.new_context(context)
    for name in marked_blocks:
        jinja_context.blocks[name] = [lambda _context, marker=_marker(name): iter((marker,))]
    try:
        text = template.environment.concat(template.root_render_func(jinja_context))
    except Exception:
        template.environment.handle_exception()
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    return text


def fragment(key: Hashable, template_name: str, block: str, context: Callable[[], dict]) -> Markup:
    """One block of a template, rendered alone with ``context()`` (and what every template gets), kept for
    ``PAGE_CACHE_SECONDS`` under ``key``: the counts of a kept page."""
    state = current_app.extensions["page_cache"]
    if state.fragments is not None:
        with state.lock:
            kept = state.fragments.get(key)
        if kept is not None:
            return kept
    app = current_app._get_current_object()
    template = app.jinja_env.get_or_select_template(template_name)
    values = context()
    app.update_template_context(values)
    text = Markup("".join(template.blocks[block](template.new_context(values))))
    if state.fragments is not None:
        with state.lock:
            state.fragments[key] = text
    return text


def answer(kept: Page, *depends_on: str, shared: bool = False, status: int = 200) -> Response:
    """The response for a page: when it was kept, with an ETag made of its tag and ``depends_on`` (the visit's
    values that the page's reuse depends on) and ``no-cache``, so that a browser (and, when ``shared``, a proxy in
    front) keeps it and asks each time whether it may use it, answered 304 while it may."""
    response = current_app.response_class(kept.body, status=status, mimetype="text/html")
    if kept.tag is None or status != 200:
        return response
    response.set_etag(_digest(kept.tag, *depends_on), weak=True)
    response.cache_control.no_cache = True
    if shared:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
    return response.make_conditional(request)


def session_token() -> tuple[str, str]:
    """What a kept page holding a form depends on besides the page: the session's CSRF token (as kept in the
    session: each page signs it anew), and the hour, so that a browser's copy of the signed token is used for an
    hour at most (it stays good for ``WTF_CSRF_TIME_LIMIT``)."""
    token = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "")
    return token, str(int(time.time()) // 3600)


def _fill(template: str, per_visit: dict[str, str]) -> str:
    for name, value in per_visit.items():
        template = template.replace(_marker(name), value)
    return template


def _digest(*parts: str) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _marker(name: str) -> str:
    return f"\x00{name}-{_MARKERS_SALT}\x00"


_MARKERS_SALT = secrets.token_hex(8)  # so that no text on a page can be taken for a marker


@dataclass
class _State:
    pages: TLRUCache | None
    fragments: TTLCache | None
    seconds: float
    lock: threading.Lock


def init_app(app: Flask) -> None:
    seconds = min(float(app.config["PAGE_CACHE_SECONDS"]), MAX_PAGE_CACHE_SECONDS)
    keep = seconds > 0
    app.extensions["page_cache"] = _State(
        pages=TLRUCache(maxsize=4000, ttu=lambda _key, kept, now: now + kept.seconds) if keep else None,
        fragments=TTLCache(maxsize=4000, ttl=seconds) if keep else None, seconds=seconds, lock=threading.Lock())
