"""What every template can use: the page's language and direction, the tenant, numbers, field attributes."""

from __future__ import annotations

import html as html_text
import re
import zlib
from functools import lru_cache

from babel import numbers as babel_numbers
from babel.lists import format_list
from flask import current_app, g, request
from flask_babel import format_decimal, get_locale
from markupsafe import Markup, escape

from core import i18n


def field_attributes(field, autocomplete: str | None = None, hint: bool = False) -> dict:
    """ARIA attributes tying a field to its hint and its errors, so screen readers announce both."""
    described_by = ([f"{field.id}-hint"] if hint else []) + ([f"{field.id}-error"] if field.errors else [])
    attributes = {"aria-invalid": "true" if field.errors else "false"}
    if described_by:
        attributes["aria-describedby"] = " ".join(described_by)
    if autocomplete:
        attributes["autocomplete"] = autocomplete
    return attributes


def site_url(slug: str | None = None) -> str:
    """The address of a tenant's site (or the global one's), on the scheme and port of this request."""
    port = request.host.partition(":")[2]
    subdomain = f"{slug}." if slug else ""
    return f"{request.scheme}://{subdomain}{current_app.config['BASE_DOMAIN']}{':' + port if port else ''}/"


def version(*parts) -> str:
    """A short fingerprint of what a cached asset shows (the brand colours): its URL changes with it, so a
    browser never keeps old colours from its cache after a change. Images carry their own (``logo_version``)."""
    digest = 0
    for part in parts:
        digest = zlib.crc32(str(part).encode(), digest)
    return f"{digest:08x}"


@lru_cache(maxsize=8192)
def _formatted(value: int, locale: str) -> str:
    return babel_numbers.format_decimal(value, locale=locale)


def number(value) -> str:
    """A number as the page's language writes it (1,234 · 1 234 · ١٬٢٣٤). Whole numbers are remembered: a
    dashboard shows hundreds of them, mostly the same few."""
    if type(value) is int:
        return _formatted(value, str(get_locale()))
    return format_decimal(value)


def listing(items) -> str:
    """Items as a list in the page's language: "a, b and c", Arabic's "a وb وc", each with its own commas."""
    return format_list([str(item) for item in items], locale=get_locale())


_HEADERS = re.compile(r"<thead\b.*?</thead>", re.S)
_HEADER = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_TAG = re.compile(r"<[^>]+>")
_OPENING = re.compile(r"<(table|thead|tbody|tfoot|tr|th|td)\b([^>]*)>")


def stacked(html) -> Markup:
    """A table that becomes one card a row on a narrow screen (app.css, ``data-stacked``): each body cell is given
    its column's heading as ``data-label``, shown before it, and every part its ARIA role, since browsers that
    lay a table out as blocks may stop announcing it as a table."""
    html = str(html)
    headers = _HEADERS.search(html)
    labels = [html_text.unescape(" ".join(_TAG.sub("", cell).split()))
              for cell in _HEADER.findall(headers.group(0))] if headers else []
    column = 0
    in_head = False

    def label(match):
        nonlocal column, in_head
        tag, attributes = match.group(1), match.group(2)
        if tag == "table":
            return f'<table role="table" data-stacked{attributes}>'
        if tag in ("thead", "tbody", "tfoot"):
            in_head = tag == "thead"
            return f'<{tag} role="rowgroup"{attributes}>'
        if tag == "tr":
            column = 0
            return f'<tr role="row"{attributes}>'
        if in_head:
            return f'<{tag} role="columnheader"{attributes}>'
        role = "rowheader" if tag == "th" else "cell"
        extra = f' data-label="{escape(labels[column])}"' if column < len(labels) and labels[column] else ""
        column += 1
        return f'<{tag} role="{role}"{extra}{attributes}>'

    return Markup(_OPENING.sub(label, html))


def init_app(app) -> None:
    """Register the template globals and filters."""

    @app.context_processor
    def page_globals():
        return {
            "tenant": g.get("tenant"),
            "page_lang": str(get_locale()),
            "page_dir": i18n.text_direction(),
            "languages": [(code, i18n.language_name(code)) for code in i18n.available_languages()],
        }

    app.jinja_env.globals["field_attributes"] = field_attributes
    app.jinja_env.globals["site_url"] = site_url
    app.jinja_env.globals["version"] = version
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["country_name"] = i18n.country_name
    app.jinja_env.filters["language_name"] = i18n.language_name
    app.jinja_env.filters["listing"] = listing


    app.jinja_env.filters["stacked"] = stacked
