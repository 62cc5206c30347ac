"""PDFs of action kits and event posters, drawn by WeasyPrint from the HTML of their templates.

Pango lays the text out, so Arabic is shaped and set right to left, and the fonts are Debian's (fonts-dejavu-core
for Latin, Cyrillic and Arabic, fonts-wqy-microhei for Chinese), named in the templates' style. Nothing is fetched
while a PDF is drawn: images come inside the HTML as data: URIs. A PDF is kept in this process under a key that names
everything it shows (the kit's words, the brand, the language, the address), so each is drawn once; the PDFs kept
are bounded in bytes, not in number, so that asking for every kit in every language on every site (a crawler) cannot
grow a worker's memory past ``MAX_KEPT_BYTES``: the least recently served are dropped first.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable

from cachetools import LRUCache

#: What the PDFs kept in one process may weigh at most: some 300 of 30 to 60 kB (a logo makes one larger).
MAX_KEPT_BYTES = 16 * 1024 * 1024
_kept: LRUCache = LRUCache(maxsize=MAX_KEPT_BYTES, getsizeof=lambda kept: len(kept[0]))
_lock = threading.Lock()


def render(html: str) -> bytes:
    """The PDF of a page of HTML."""
    from PIL import ImageFile
    from weasyprint import HTML  # about a second to import: only in the processes that draw a PDF
    from weasyprint.urls import URLFetcher

    # Importing WeasyPrint makes Pillow load cut images without complaint, in the whole process: an upload of a
    # damaged logo would then pass its check (tenant_portal/branding). What a PDF draws was checked on upload.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def cached(key: Hashable, html: Callable[[], str]) -> tuple[bytes, str]:
    """The PDF for ``key`` and its ETag, drawn from ``html()`` the first time (each time, for one larger than
    ``MAX_KEPT_BYTES``)."""
    with _lock:
        kept = _kept.get(key)
    if kept is None:
        pdf = render(html())
        kept = (pdf, hashlib.sha256(pdf).hexdigest()[:32])
        if len(pdf) <= MAX_KEPT_BYTES:
            with _lock:
                _kept[key] = kept
    return kept
