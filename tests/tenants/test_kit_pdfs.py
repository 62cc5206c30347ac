"""A kit's PDF reads as the kit in all six languages (its text extracted with pdfplumber), and the Arabic one is set
right to left with a glyph for every letter (its page drawn by poppler's pdftoppm, its fonts read with fontTools)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from difflib import SequenceMatcher
from functools import lru_cache

import lxml.html
import pdfplumber
import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from pdfplumber.utils import cluster_objects

from core.i18n import LANGUAGES
from tenants.kits import services as kits
from tenants.kits.body import to_html
from tests.conftest import cannot_run
from tests.helpers import host

KIT = "speak-up"


@pytest.fixture
def pdf_tools(app, db, weasyprint):
    """The starter kits, and what these checks need of Debian: Pango and the fonts (WeasyPrint), poppler."""
    for tool in ("pdftoppm", "fc-list"):
        if shutil.which(tool) is None:
            cannot_run("pdf", f"needs {tool} (apt-get install poppler-utils fontconfig)")
    if not {"DejaVu-Sans", "WenQuanYi-Micro-Hei"} <= font_files_by_name().keys():
        cannot_run("pdf", "needs Debian's fonts (apt-get install fonts-dejavu-core fonts-wqy-microhei)")
    kits.load_starter()
    db.session.commit()


@lru_cache(maxsize=1)
def font_files_by_name() -> dict[str, str]:
    """Each installed font's file by the name a PDF gives it (its full name with hyphens)."""
    listing = subprocess.run(["fc-list", "--format", "%{fullname}|%{file}\n"], capture_output=True, text=True,
                             check=True).stdout
    found = {}
    for line in listing.splitlines():
        names, path = line.rsplit("|", 1)
        for name in names.split(","):
            found.setdefault(name.replace(" ", "-"), path)
    return found


def kit_words(language: str) -> list[str]:
    """The kit's text as a reader reads it, block by block: title, summary, each paragraph, step and heading."""
    text = kits.read_text(kits.STARTER / f"{KIT}.{language}.md")
    html = lxml.html.fromstring(f"<div>{to_html(text.body)}</div>")
    return [text.title, text.summary] + [" ".join(block.text_content().split())
                                          for block in html.iter("h2", "p", "li")]


def reading_order(page) -> str:
    """The page's text line by line. Arabic lines are drawn right to left: their characters are read from the right,
    and each run of Latin letters or digits in them back from the left. (Marks sit a little above their line.)"""
    text = []
    for chars in cluster_objects(page.chars, "top", 3):
        if any("\u0600" <= c["text"][:1] <= "\u06ff" for c in chars):
            line = "".join(c["text"] for c in sorted(chars, key=lambda c: -c["x0"]))
            line = re.sub(r"[A-Za-z0-9]+", lambda run: run.group(0)[::-1], line)
        else:
            line = "".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"]))
        text.append(line)
    return "\n".join(text)


def letters(text: str) -> str:
    """Only letters and digits: line breaks, spaces, punctuation and list numbers fall where the layout puts them."""
    return re.sub(r"[\W_]+", "", text)


def kit_pdf(client, language: str) -> bytes:
    response = client.get(f"/kits/{KIT}.pdf?lang={language}", base_url=host())
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def found(block: str, extracted: str) -> float:
    """The share of a block's letters found in the extracted text, in order."""
    matches = SequenceMatcher(None, extracted, block, autojunk=False).get_matching_blocks()
    return sum(match.size for match in matches) / len(block)


def test_the_pdf_reads_as_the_kit_in_all_six_languages(client, pdf_tools):
    for language in LANGUAGES:
        with pdfplumber.open(io.BytesIO(kit_pdf(client, language))) as document:
            extracted = letters("".join(reading_order(page) for page in document.pages))
        for block in map(letters, kit_words(language)):
            if language == "ar":
                # The text layer gives a few glyphs Arabic composes of several characters (ئ, a lam-alef with a mark
                # between) no letter back; the rest must read as written.
                assert found(block, extracted) > 0.95, (language, block)
            else:
                assert block in extracted, (language, block)


def test_the_arabic_pdf_is_set_right_to_left_with_a_glyph_for_every_letter(client, pdf_tools, tmp_path):
    arabic, english = kit_pdf(client, "ar"), kit_pdf(client, "en")
    title_ar, title_en = first_line_below_the_band(arabic, tmp_path / "ar"), first_line_below_the_band(
        english, tmp_path / "en")
    width, (left, right) = title_ar
    assert width - right < 0.1 * width and left > 0.3 * width, "the Arabic title starts at the right margin"
    assert title_en[1][0] < 0.1 * width and width - title_en[1][1] > 0.3 * width, "the English one at the left"
    with pdfplumber.open(io.BytesIO(arabic)) as document:
        chars = [char for page in document.pages for char in page.chars]
    fonts = font_files_by_name()
    faces = {name: TTFont(fonts[name.split("+", 1)[1]], fontNumber=0).getBestCmap()
             for name in {char["fontname"] for char in chars}}
    missing = {(char["text"], char["fontname"]) for char in chars
               for letter in char["text"] if not letter.isspace() and ord(letter) not in faces[char["fontname"]]}
    assert missing == set(), "drawn with a font that has no glyph for it (a box)"
    unknown = {letter for letter in "".join(kit_words("ar")) if not letter.isspace()
               and not any(ord(letter) in cmap for cmap in faces.values())}
    assert unknown == set(), "no font in the PDF has these: they could only be boxes"


def first_line_below_the_band(document: bytes, stem) -> tuple[int, tuple[int, int]]:
    """The page's width and where the ink of the first line of text under the coloured band begins and ends."""
    (stem.parent / "kit.pdf").write_bytes(document)
    subprocess.run(["pdftoppm", "-gray", "-r", "50", "-f", "1", "-l", "1", "-png", str(stem.parent / "kit.pdf"),
                    str(stem)], check=True)
    image = Image.open(next(stem.parent.glob(f"{stem.name}*.png"))).convert("L")
    width, height = image.size
    pixels = image.load()
    inked = lambda y: [x for x in range(width) if pixels[x, y] < 140]  # noqa: E731
    y = 0
    while len(inked(y)) < width / 2:  # above the band
        y += 1
    while len(inked(y)) >= width / 2:  # the band
        y += 1
    while not inked(y):
        y += 1
    line = []
    while inked(y):
        line += inked(y)
        y += 1
    return width, (min(line), max(line))
