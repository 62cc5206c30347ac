"""Colour arithmetic for brand colours: the WCAG 2.1 contrast ratio, and a brand colour made readable as text on
the dark theme's surfaces."""

from __future__ import annotations

#: The contrast WCAG AA asks of small text.
AA_CONTRAST = 4.5
#: The lightest background the dark theme puts text on (``--tint`` in app.css, under ``prefers-color-scheme:
#: dark``); brand colours used as text there are made readable on it, and so on every darker one.
DARK_SURFACE = "#2c2b35"


def _luminance(color: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(color[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: str, background: str) -> float:
    """The WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _mix(color: str, other: str, share: float) -> str:
    """``color`` with ``share`` (0 to 1) of ``other`` mixed in, channel by channel."""
    channels = (round(int(color[i:i + 2], 16) * (1 - share) + int(other[i:i + 2], 16) * share) for i in (1, 3, 5))
    return "#" + "".join(f"{channel:02x}" for channel in channels)


def readable_on_dark(color: str) -> str:
    """``color`` as text on the dark theme's surfaces: itself if it reads there (AA), else lightened a twentieth of
    white at a time, just enough to (white at worst); the same hue, so a tenant's links and headings keep their
    brand."""
    for step in range(20):
        lighter = _mix(color, "#ffffff", step / 20)
        if contrast_ratio(lighter, DARK_SURFACE) >= AA_CONTRAST:
            return lighter
    return "#ffffff"
