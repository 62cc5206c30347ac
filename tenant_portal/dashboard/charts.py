"""Server-side SVG charts: the geometry is computed here, the template only draws it (no script, CSP-safe)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 600, 200
AXIS = 20  # room under the bars for the first and last dates


@dataclass(frozen=True)
class Bar:
    """One day's bar: everyone (``height``) with the men's part drawn over it (``men_height``)."""

    x: float
    width: float
    y: float
    height: float
    men_y: float
    men_height: float
    hidden: bool
    row: object


@dataclass(frozen=True)
class Chart:
    """A bar chart's size, bars and tallest value."""

    width: int
    height: int
    baseline: int
    bars: list[Bar]
    peak: int


def by_day(rows) -> Chart:
    """Bars for dashboard day rows (``row.day``, ``row.count`` or None when held back), oldest first."""
    peak = max((row.count.total for row in rows if row.count is not None), default=0)
    baseline = HEIGHT - AXIS
    slot = WIDTH / max(len(rows), 1)
    bars = []
    for index, row in enumerate(rows):
        total = row.count.total if row.count is not None else 0
        men = row.count.men if row.count is not None else 0
        height = baseline * total / peak if peak else 0
        men_height = baseline * men / peak if peak else 0
        bars.append(Bar(x=round(index * slot + slot * 0.1, 2), width=round(slot * 0.8, 2),
                        y=round(baseline - height, 2), height=round(height, 2),
                        men_y=round(baseline - men_height, 2), men_height=round(men_height, 2),
                        hidden=row.count is None, row=row))
    return Chart(WIDTH, HEIGHT, baseline, bars, peak)
