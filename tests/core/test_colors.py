"""Brand colours in the dark theme: lightened only where reading them needs it."""

from pathlib import Path

import pytest

import core
from core.colors import AA_CONTRAST, DARK_SURFACE, contrast_ratio, readable_on_dark
from tests.helpers import host


@pytest.mark.parametrize("color", ["#5b2a86", "#00758d", "#1f4e8c", "#000000", "#b00020"])
def test_a_dark_brand_colour_is_lightened_to_read_in_the_dark(color):
    lighter = readable_on_dark(color)
    assert lighter != color
    assert contrast_ratio(lighter, DARK_SURFACE) >= AA_CONTRAST


def test_a_colour_that_reads_in_the_dark_already_is_kept():
    assert readable_on_dark("#ffcc00") == "#ffcc00"


def test_the_stylesheet_holds_the_default_colours_as_the_dark_theme_shows_them():
    stylesheet = (Path(core.__file__).parent / "static" / "app.css").read_text()
    assert f"--brand-primary-on-dark: {readable_on_dark('#5b2a86')};" in stylesheet
    assert f"--brand-accent-on-dark: {readable_on_dark('#00758d')};" in stylesheet
    assert f"--tint: {DARK_SURFACE};" in stylesheet  # the lightest dark surface, which the colours are read on


def test_the_brand_stylesheet_gives_both_versions_of_each_colour(client, make_tenant):
    make_tenant("acme", primary_color="#1f4e8c", accent_color="#005a70")
    colors = client.get("/brand.css", base_url=host("acme")).get_data(as_text=True)
    assert "--brand-primary: #1f4e8c;" in colors and "--brand-accent: #005a70;" in colors
    assert f"--brand-primary-on-dark: {readable_on_dark('#1f4e8c')};" in colors
    assert f"--brand-accent-on-dark: {readable_on_dark('#005a70')};" in colors
