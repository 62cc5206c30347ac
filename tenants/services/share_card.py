"""The share card: the 1200 × 630 picture that LinkedIn, WhatsApp, X and Facebook show beside a shared link
(Open Graph), in the tenant's colours with its name and pledge headline in one language.

Arabic is shaped and set right to left by Pillow's raqm layout (libraqm); the fonts are Debian's: DejaVu Sans
for Latin, Cyrillic and Arabic, WenQuanYi Micro Hei for Chinese (packages fonts-dejavu-core, fonts-wqy-microhei).
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

from cachetools import LRUCache
from PIL import Image, ImageDraw, ImageFont, features

WIDTH, HEIGHT, MARGIN = 1200, 630, 80
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
CHINESE_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
RIGHT_TO_LEFT = {"ar"}

_cards: LRUCache = LRUCache(maxsize=256)  # a few tenants × six languages; about 30 kB each
_lock = threading.Lock()


def font_path(text: str) -> Path:
    """The font that has glyphs for ``text``: Chinese needs WenQuanYi, everything else DejaVu."""
    chinese = any("\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef"
                  for char in text)
    return CHINESE_FONT if chinese else LATIN_FONT


def font(text: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """``text``'s font at ``size``, laid out by raqm when the system has it; Pillow's own if the font is missing
    (a card in plain letters beats no card)."""
    path = font_path(text)
    if not path.exists():
        return ImageFont.load_default(size)
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(path), size, layout_engine=layout)


def card(key: tuple, name: str, headline: str, tagline: str, language: str, primary: str, accent: str
         ) -> tuple[bytes, str]:
    """The PNG and its ETag, drawn once per ``key`` (tenant, language, settings and wording) in this process."""
    with _lock:
        kept = _cards.get(key)
    if kept is None:
        png = _draw(name, headline, tagline, language, primary, accent)
        kept = (png, hashlib.sha256(png).hexdigest()[:32])
        with _lock:
            _cards[key] = kept
    return kept


def _draw(name: str, headline: str, tagline: str, language: str, primary: str, accent: str) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), primary)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT - 24, WIDTH, HEIGHT), fill=accent)
    rtl = language in RIGHT_TO_LEFT
    y = MARGIN
    y = _lines(draw, name, 44, y, rtl, language, max_lines=1) + 40
    _lines(draw, headline, 72, y, rtl, language, max_lines=3)
    _lines(draw, tagline, 36, HEIGHT - MARGIN - 60, rtl, language, max_lines=1)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _lines(draw: ImageDraw.ImageDraw, text: str, size: int, y: int, rtl: bool, language: str, max_lines: int
           ) -> int:
    """Draw ``text`` wrapped to the card's width from ``y``, smaller until it fits ``max_lines``; the y below it."""
    options = {"direction": "rtl", "language": language} if rtl and features.check("raqm") else {}
    while True:
        face = font(text, size)
        lines = _wrap(text, face, WIDTH - 2 * MARGIN, options)
        if len(lines) <= max_lines or size <= 24:
            break
        size -= 6
    for line in lines[:max_lines]:
        x, anchor = (WIDTH - MARGIN, "ra") if rtl else (MARGIN, "la")
        draw.text((x, y), line, font=face, fill="#ffffff", anchor=anchor, **options)
        y += int(size * 1.3)
    return y


def _wrap(text: str, face, width: int, options: dict) -> list[str]:
    """Greedy lines of whole words (of characters, in a script written without spaces)."""
    spaced = " " in text
    words = text.split(" ") if spaced else list(text)
    lines: list[str] = []
    for word in words:
        candidate = f"{lines[-1]} {word}" if lines and spaced else (lines[-1] + word if lines else word)
        if lines and face.getlength(candidate, **options) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines
