"""The tracker's chart as server-side SVG: the geometry is computed here, the template only draws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tenant_portal.targets.services import RECENT_DAYS, Tracker

WIDTH, HEIGHT = 600, 220
TOP, AXIS = 16, 24  # room above the goal line for its label, and under the curve for the dates


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Dot:
    x: float
    y: float


@dataclass(frozen=True)
class Chart:
    """The curve so far, the goal, the pace needed and the pace forecast, in SVG coordinates."""

    width: int
    height: int
    baseline: int
    first: date
    last: date
    curve: str  # the points of the polyline, "x,y x,y ..."
    now: Dot  # today's count, marked (a curve of one day is a single point)
    goal_y: float | None
    needed: Line | None
    forecast: Line | None
    today_x: float


def tracker_chart(tracker: Tracker, today: date) -> Chart | None:
    """The chart of one tracker, or None when there is nothing to draw (a unit too small to show)."""
    if not tracker.points:
        return None
    first = tracker.points[0].day
    last = max(tracker.target.deadline, today)
    span = max((last - first).days, 1)
    peak = max([tracker.goal or 0] + [point.count for point in tracker.points] + [1])
    baseline = HEIGHT - AXIS

    def x(day: date) -> float:
        return round(WIDTH * (day - first).days / span, 2)

    def y(count: float) -> float:
        return round(baseline - (baseline - TOP) * min(count, peak) / peak, 2)

    curve = " ".join(f"{x(point.day)},{y(point.count)}" for point in tracker.points)
    needed = forecast = None
    pace = tracker.pace
    if pace is not None and pace.status in ("on_track", "behind") and tracker.target.deadline > today:
        deadline = tracker.target.deadline
        needed = Line(x(today), y(tracker.current), x(deadline), y(tracker.goal))
        if pace.reached_on is not None and pace.reached_on <= deadline:
            forecast = Line(x(today), y(tracker.current), x(pace.reached_on), y(tracker.goal))
        else:
            expected = tracker.current + pace.recent * pace.days_left / RECENT_DAYS
            forecast = Line(x(today), y(tracker.current), x(deadline), y(expected))
    now = Dot(x(tracker.points[-1].day), y(tracker.points[-1].count))
    return Chart(WIDTH, HEIGHT, baseline, first, last, curve, now, y(tracker.goal) if tracker.goal else None,
                 needed, forecast, x(today))
