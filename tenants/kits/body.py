"""A kit's body: Markdown as written by the operator or a tenant's admin, turned into HTML that is safe to show.

markdown-it-py renders CommonMark with raw HTML off (typed tags come out as text); nh3 then keeps only the tags and
attributes a kit needs, so neither a careless paste nor a hostile admin can put a script, a style, an image from
elsewhere or a form on a page or into a PDF.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_BODY_CHARACTERS = 10_000

TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "a", "blockquote", "code", "pre", "hr", "br"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_HEADING = re.compile(r"<(/?)h1>")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def to_html(markdown: str) -> Markup:
    """The body as sanitised HTML. The page's title is its only ``h1``: a ``#`` heading in the body becomes ``h2``."""
    rendered = _HEADING.sub(r"<\1h2>", _parser().render(markdown or ""))
    return Markup(nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                            link_rel="noopener noreferrer nofollow"))

