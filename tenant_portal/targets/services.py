"""Targets and the target tracker: progress, the pace needed, a forecast at the current pace, the curve so far.

Plain functions; they flush and never commit. Every change is recorded in the audit log. ``today`` is a
parameter wherever the answer depends on it, so that the arithmetic can be checked with fixed dates.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from core.extensions import db
from core.rollup import steps
from core.rollup.services import ACTED_KEY
from core.rollup.release import release, unit_parents
from tenant_portal.services import record
from tenants.models import Target, TargetMetric, Tenant, Unit, utcnow
from tenants.services import hosts
from tenants.webhooks import services as webhooks

#: The current pace is the average of the last four weeks of daily counts.
RECENT_DAYS = 28
PER_PAGE = 10


class InvalidTarget(ValueError):
    """A target that cannot be accepted; ``field`` names the form field the message belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TargetData:
    """What an admin fills in for a target."""

    unit_id: uuid.UUID | None
    metric: TargetMetric
    value: int
    starts_on: date | None
    deadline: date
    public: bool


@dataclass(frozen=True)
class Pace:
    """How far a count is from its goal, what it takes to reach it, and where the recent pace leads."""

    deadline: date
    remaining: int  # people still needed
    days_left: int  # days after today up to the deadline (negative once it has passed)
    needed_per_week: int | None  # None when reached or ended
    recent: int  # people counted over the last RECENT_DAYS days
    reached_on: date | None  # at the recent pace; None when reached already, ended or no recent pace
    shortfall: int | None  # people missing at the deadline at the recent pace (or when it ended)

    @property
    def recent_per_week(self) -> float:
        return round(self.recent * 7 / RECENT_DAYS, 1)

    @property
    def reached_within_a_year(self) -> bool:
        """Whether the forecast date is near enough the deadline to be worth saying (not centuries away)."""
        return self.reached_on is not None and (self.reached_on - self.deadline).days <= 365

    @property
    def status(self) -> str:
        """``reached``, ``on_track``, ``behind``, or ``ended`` (deadline passed, not reached)."""
        if self.remaining == 0:
            return "reached"
        if self.days_left < 0:
            return "ended"
        return "on_track" if self.reached_on is not None and self.shortfall is None else "behind"


def pace(current: int, goal: int, deadline: date, recent: int, today: date) -> Pace:
    """The pace needed to go from ``current`` to ``goal`` by ``deadline``, and the forecast at the pace of
    ``recent`` people over the last RECENT_DAYS days. Integer arithmetic: the same answer everywhere."""
    remaining = max(goal - current, 0)
    days_left = (deadline - today).days
    if remaining == 0:
        return Pace(deadline, 0, days_left, None, recent, None, None)
    if days_left < 0:
        return Pace(deadline, remaining, days_left, None, recent, None, remaining)
    # A deadline of today leaves one day, not none: ask for the rest within it.
    needed = math.ceil(remaining * 7 / max(days_left, 1))
    if recent <= 0:
        return Pace(deadline, remaining, days_left, needed, recent, None, remaining)
    reached_on = today + timedelta(days=math.ceil(remaining * RECENT_DAYS / recent))
    by_deadline = recent * days_left // RECENT_DAYS
    shortfall = remaining - by_deadline if by_deadline < remaining else None
    return Pace(deadline, remaining, days_left, needed, recent, reached_on, shortfall)


def goal_count(target: Target, eligible: int | None) -> int | None:
    """How many people the target asks for: its value, or its rate of the eligible men (rounded up)."""
    if target.metric is not TargetMetric.PARTICIPATION_RATE:
        return target.value
    return math.ceil(target.value * eligible / 100) if eligible else None


def eligible_men(tenant: Tenant, unit: Unit | None) -> int | None:
    """The eligible headcount a participation rate divides by: the unit's, or the organisation's."""
    return (unit.eligible_men if unit is not None else tenant.eligible_men) or None


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Point:
    """The count on one day of the curve."""

    day: date
    count: int


@dataclass(frozen=True)
class Tracker:
    """Everything the tracker shows for one target. ``current`` is None when the unit is too small to show."""

    target: Target
    unit: Unit | None
    eligible: int | None
    goal: int | None  # people; None for a participation rate without an eligible headcount
    current: int | None  # people counted now
    pace: Pace | None
    points: list[Point]  # cumulative count by day, from the start to today
    acted: int | None = None  # people of its scope who did an action they planned; None: fewer than k

    @property
    def percent(self) -> int:
        """How far along, 0 to 100 (rounded down: 100 means reached)."""
        if not self.goal or self.current is None:
            return 0
        return min(100, 100 * self.current // self.goal)

    @property
    def rate(self) -> float | None:
        """Men committed as a percentage of the eligible men, for participation-rate targets."""
        if self.eligible and self.current is not None:
            return round(100 * self.current / self.eligible, 1)
        return None

    @property
    def held_back(self) -> bool:
        return self.current is None


def _metric_key(metric: TargetMetric) -> str:
    return "total" if metric is TargetMetric.ALL else "men"


def _unit_days(counts, unit_id: uuid.UUID, metric: TargetMetric) -> dict[str, int]:
    """A unit's commitments by day, from the tenant's released copy (its ``unit_day`` tallies): the curve moves only
    when the copy does, in its steps (core/rollup/steps.py)."""
    prefix, key = f"{unit_id}:", _metric_key(metric)
    return {day.removeprefix(prefix): figures[key] for day, figures in counts.dimension("unit_day").items()
            if day.startswith(prefix)}


def released_curve(daily: dict[str, int], start: date, today: date, k: int, current: int) -> list[Point]:
    """The cumulative count for each day from ``start`` to ``today``. The curve rises only once at least
    ``k`` people have been added since its last rise, so no day's handful of sign-ups can be read off it;
    the last point is ``current``, the count as the tracker shows it."""
    before = sum(n for day, n in daily.items() if day < start.isoformat())
    shown, pending, points = before, 0, []
    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        pending += daily.get(day.isoformat(), 0)
        if pending >= k:
            shown, pending = shown + pending, 0
        points.append(Point(day, shown))
    if points:
        points[-1] = Point(today, current)
    return points


def _recent(daily: dict[str, int], today: date) -> int:
    since = (today - timedelta(days=RECENT_DAYS - 1)).isoformat()
    return sum(n for day, n in daily.items() if since <= day <= today.isoformat())


def _start(target: Target, daily: dict[str, int], today: date) -> date:
    if target.starts_on is not None:
        return min(target.starts_on, today)
    created = target.created_at.date() if target.created_at else today
    first = min((date.fromisoformat(day) for day in daily), default=created)
    # Without a start date the curve begins at the first sign-up, at most a year back.
    return max(min(first, created, today), today - timedelta(days=365))


def trackers(tenant: Tenant, targets: list[Target], today: date | None = None) -> list[Tracker]:
    """The tracker of each target: current count, pace needed, forecast and curve (no unit under
    ``tenant.privacy_k`` shown)."""
    today = today or today_utc()
    counts = steps.tenant_counts(("day", "unit", "unit_day", "acted", "acted_unit"), tenant.privacy_k)
    days = counts.dimension("day")
    unit_ids = {t.unit_id for t in targets if t.unit_id is not None}
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))} if unit_ids else {}
    released_units = release(counts.dimension("unit"), tenant.privacy_k,
                             unit_parents(db.session.scalars(select(Unit)))) if unit_ids else None
    acted = _Acted(tenant, counts)
    result = []
    for target in targets:
        unit = units.get(target.unit_id)
        key = _metric_key(target.metric)
        if target.metric is TargetMetric.ACTED:
            current, daily = acted.of(unit), {}
        elif unit is None:
            current = counts.men if key == "men" else counts.total
            daily = {day: value[key] for day, value in days.items()}
        else:
            # The tracker follows a unit's own count: a unit shown only with smaller ones merged in is held back.
            own = released_units.own(str(unit.id))
            current = (own.men if key == "men" else own.total) if own is not None else None
            daily = _unit_days(counts, unit.id, target.metric) if own is not None else {}
        eligible = eligible_men(tenant, unit)
        goal = goal_count(target, eligible)
        progress = (pace(current, goal, target.deadline, _recent(daily, today), today)
                    if goal and current is not None else None)
        points = released_curve(daily, _start(target, daily, today), today, tenant.privacy_k, current) \
            if current is not None else []
        result.append(Tracker(target, unit, eligible, goal, current, progress, points,
                              acted.of(unit) if target.metric is not TargetMetric.ACTED else None))
    return result


class _Acted:
    """The people who did an action they planned, as released: in all, or a unit's own (None: held back). The
    tallies keep no day of acting, so an actions target's curve is the count as it stands."""

    def __init__(self, tenant: Tenant, counts):
        self.tenant, self.counts, self._units = tenant, counts, None

    def of(self, unit: Unit | None) -> int | None:
        k = self.tenant.privacy_k
        if unit is None:
            acted = release(self.counts.dimension("acted"), k).cells.get(ACTED_KEY)
            return acted.total if acted is not None else None
        if self._units is None:
            self._units = release(self.counts.dimension("acted_unit"), k,
                                  unit_parents(db.session.scalars(select(Unit))))
        own = self._units.own(str(unit.id))
        return own.total if own is not None else None


def target_page(page: int = 1, today: date | None = None) -> tuple[list[Target], bool]:
    """One page of the current tenant's targets: running ones by nearest deadline, then ended ones; and
    whether another page follows."""
    today = today or today_utc()
    found = list(db.session.scalars(
        select(Target).order_by(case((Target.deadline < today, 1), else_=0), Target.deadline, Target.id)
        .offset((max(page, 1) - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    return found[:PER_PAGE], len(found) > PER_PAGE


def find_target(target_id: uuid.UUID) -> Target | None:
    """One of the current tenant's targets, or None (another tenant's target is not found)."""
    return db.session.scalars(select(Target).where(Target.id == target_id)).one_or_none()


def _check(tenant: Tenant, data: TargetData, previous: Target | None, today: date) -> Unit | None:
    unit = None
    if data.unit_id is not None:
        unit = db.session.scalars(select(Unit).where(Unit.id == data.unit_id)).one_or_none()
        if unit is None:
            raise InvalidTarget("unit", _l("Please choose one of your units."))
    if data.metric is TargetMetric.PARTICIPATION_RATE:
        if not 1 <= data.value <= 100:
            raise InvalidTarget("value", _l("A participation rate is a percentage from 1 to 100."))
        if eligible_men(tenant, unit) is None:
            raise InvalidTarget("metric", _l(
                "A participation rate needs the number of eligible men, and none is known for %(scope)s yet. "
                "Give it on the Units page first.",
                scope=unit.name if unit is not None else tenant.name))
    if data.starts_on is not None and data.deadline <= data.starts_on:
        raise InvalidTarget("deadline", _l("The deadline must come after the start date."))
    if data.deadline <= today and (previous is None or previous.deadline != data.deadline):
        raise InvalidTarget("deadline", _l("The deadline must be in the future."))
    if data.public and (unit is not None or data.metric in (TargetMetric.PARTICIPATION_RATE, TargetMetric.ACTED)):
        raise InvalidTarget("public", _l(
            "Only a target for the whole organisation, counting men or commitments, can be shown on the "
            "sign-up page."))
    return unit


def _details(target: Target) -> dict:
    """The target as the audit log keeps it (its unit by name too, which the log shows)."""
    unit_name = db.session.scalar(select(Unit.name).where(Unit.id == target.unit_id)) if target.unit_id else None
    return {"metric": target.metric.value, "value": target.value, "unit": str(target.unit_id) if target.unit_id else None,
            "unit_name": unit_name,
            "starts_on": target.starts_on.isoformat() if target.starts_on else None,
            "deadline": target.deadline.isoformat(), "public": target.public}


def _apply(target: Target, data: TargetData) -> None:
    target.unit_id, target.metric, target.value = data.unit_id, data.metric, data.value
    target.starts_on, target.deadline, target.public = data.starts_on, data.deadline, data.public


def create_target(tenant: Tenant, data: TargetData, today: date | None = None) -> Target:
    """Add a target (refused with InvalidTarget, which says why); recorded in the audit log."""
    _check(tenant, data, None, today or today_utc())
    target = Target()
    _apply(target, data)
    db.session.add(target)
    db.session.flush()
    hosts.pages_changed()  # a published target shows on the sign-up, thank-you and map pages
    record("target.create", str(target.id), **_details(target))
    return target


def update_target(tenant: Tenant, target: Target, data: TargetData, today: date | None = None) -> None:
    """Change a target (a deadline already passed may stay as it is); recorded in the audit log."""
    _check(tenant, data, target, today or today_utc())
    before = _details(target)
    if (data.unit_id, data.metric, data.value) != (target.unit_id, target.metric, target.value):
        target.reached_at = None  # another goal: reached when its own count gets there
    _apply(target, data)
    db.session.flush()
    hosts.pages_changed()
    record("target.update", str(target.id), **_details(target), before=before)


def delete_target(target: Target) -> None:
    """Delete a target; recorded in the audit log with what it was."""
    details = _details(target)
    db.session.delete(target)
    db.session.flush()
    hosts.pages_changed()
    record("target.delete", str(target.id), **details)


def note_reached(tenant: Tenant, today: date | None = None) -> int:
    """Mark each running target of the current tenant whose released count has reached its goal, once, and
    write the ``target.reached`` webhook event with it; returns how many were reached. The released count (k
    applied) is the one the tracker shows, so the event tells nothing the portal does not."""
    today = today or today_utc()
    running = list(db.session.scalars(select(Target).where(Target.reached_at.is_(None), Target.deadline >= today)))
    reached = [t for t in trackers(tenant, running, today) if t.goal and t.current is not None and t.current >= t.goal]
    for tracker in reached:
        target = tracker.target
        target.reached_at = utcnow()
        webhooks.emit("target.reached", {
            "id": str(target.id), "metric": target.metric.value, "value": target.value, "goal": tracker.goal,
            "count": tracker.current, "unit_id": str(target.unit_id) if target.unit_id else None,
            "deadline": target.deadline.isoformat(), "reached_at": target.reached_at.isoformat()})
    db.session.flush()
    return len(reached)
