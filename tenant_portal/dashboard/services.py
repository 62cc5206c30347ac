"""The dashboard's numbers and the exports: counts from the roll-up, every breakdown through the privacy rule.

Plain functions; they flush and never commit. Exports are recorded in the audit log when they are asked for.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from flask_babel import pgettext
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from core import i18n, privacy
from core.extensions import db
from core.rollup import steps
from core.rollup.models import Source
from core.rollup.release import Breakdown, release, unit_parents
from core.rollup.services import ACTED_KEY
from core.tenancy import tenant_context
from tenant_portal.services import record
from tenants.models import Commitment, Member, Tenant, TenantText, Unit

CHART_DAYS = 30
UNITS_PER_PAGE = 50
EXPORT_BATCH = 1000  # commitments read at a time while the file is sent
#: Characters that make a spreadsheet read a cell as a formula (or split it): such cells get a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COMMITMENT_COLUMNS = ("email", "name", "gender", "country", "city", "unit", "department", "source", "verified",
                      "language", "consent_version", "created", "withdrawn")
AGGREGATE_COLUMNS = ("breakdown", "key", "name", "people", "men")


@dataclass(frozen=True)
class Window:
    """The commitments of the last few days that were on days shown; ``partial`` when some days were held back
    (an exact total would give them away: total minus the days shown)."""

    days: int
    count: privacy.Count
    partial: bool


@dataclass(frozen=True)
class DayRow:
    """One day of the chart; ``count`` is None when that day is held back."""

    day: date
    count: privacy.Count | None


@dataclass(frozen=True)
class UnitRow:
    """One unit of the table; ``count`` None means held back (merged into its parent or into the rest)."""

    unit: Unit
    count: privacy.Count | None
    merged: bool
    rate: float | None  # men committed / eligible men, None when unknown or held back


@dataclass(frozen=True)
class ActedRow:
    """A unit's commitments and how many of their people did an action, each as released (its own count)."""

    unit: Unit
    committed: int
    acted: int

    @property
    def conversion(self) -> float:
        return self.acted / self.committed


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows."""

    k: int
    total: int
    men: int
    windows: list[Window]
    days: list[DayRow]
    days_hidden: bool
    units: list[UnitRow]  # one page of them, by name
    unit_page: int
    more_units: bool
    units_rest: Breakdown
    countries: Breakdown
    sources: Breakdown
    pillars: Breakdown
    acted: int | None  # people who did an action they planned, None while fewer than k
    acted_units: list[ActedRow]  # units whose own commitments and actions are both shown
    # Enabled languages whose page shows the generic pledge although the tenant wrote its own in another.
    generic_pledge_languages: list[str]


def _window(days: Breakdown, today: date, length: int) -> Window:
    since = (today - timedelta(days=length - 1)).isoformat()
    shown = [count for day, count in days.cells.items() if day >= since]
    return Window(length, sum(shown, privacy.Count(0, 0)),
                  partial=any(day >= since and day not in days.cells for day in days.raw))


def _today() -> date:
    return datetime.now(timezone.utc).date()


def dashboard(tenant: Tenant, unit_page: int = 1) -> Dashboard:
    """The current tenant's numbers for its dashboard (``unit_page``: which page of the units table), no
    group under ``tenant.privacy_k`` shown on its own."""
    k = tenant.privacy_k
    counts = steps.tenant_counts(("day", "unit", "country", "source", "pillar", "acted", "acted_unit"), k)
    today = _today()
    released_days = release(counts.dimension("day"), k)
    chart = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    day_rows = [DayRow(d, released_days.shown(d.isoformat())) for d in chart]
    units = list(db.session.scalars(select(Unit).order_by(Unit.name)))
    unit_release = release(counts.dimension("unit"), k, unit_parents(units))
    unit_page = max(unit_page, 1)
    start = (unit_page - 1) * UNITS_PER_PAGE
    unit_rows = []
    for unit in units[start:start + UNITS_PER_PAGE]:
        count = unit_release.shown(str(unit.id))
        rate = count.men / unit.eligible_men if count is not None and unit.eligible_men else None
        unit_rows.append(UnitRow(unit, count, unit_release.merged(str(unit.id)), rate))
    return Dashboard(
        k=k, total=counts.total, men=counts.men,
        windows=[_window(released_days, today, 7), _window(released_days, today, 30)],
        days=day_rows, days_hidden=any(row.count is None for row in day_rows),
        units=unit_rows, unit_page=unit_page, more_units=len(units) > start + UNITS_PER_PAGE,
        units_rest=unit_release,
        countries=release(counts.dimension("country"), k),
        sources=release(counts.dimension("source"), k),
        pillars=release(counts.dimension("pillar"), k),
        acted=(acted.total if (acted := release(counts.dimension("acted"), k).cells.get(ACTED_KEY)) else None),
        acted_units=_acted_units(units, unit_release, release(counts.dimension("acted_unit"), k,
                                                              unit_parents(units))),
        generic_pledge_languages=generic_pledge_languages(tenant),
    )


def _acted_units(units: list[Unit], committed: Breakdown, acted: Breakdown) -> list[ActedRow]:
    """Commit to act by unit: each unit whose own commitments and own people who acted are both shown."""
    rows = []
    for unit in units:
        own_committed, own_acted = committed.own(str(unit.id)), acted.own(str(unit.id))
        if own_committed and own_acted and own_acted.total:
            rows.append(ActedRow(unit, own_committed.total, own_acted.total))
    return rows


def generic_pledge_languages(tenant: Tenant) -> list[str]:
    """The enabled languages in which the sign-up page shows HeForShe's generic pledge, when the tenant has
    written its own in some other language (none when it never wrote one: the generic pledge is then its
    choice everywhere)."""
    own = set(db.session.scalars(select(TenantText.language).where(TenantText.commitment_text.is_not(None),
                                                                   TenantText.commitment_text != "")))
    return [code for code in tenant.enabled_languages if code not in own] if own else []


def neutralise(value) -> str:
    """A cell as text that a spreadsheet shows as text: a leading formula character gets a quote before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file-like object that hands back what is written, so that ``csv.writer`` makes one line at a time."""

    def write(self, line: str) -> str:
        return line


def _csv_line(writer, cells) -> str:
    return writer.writerow([neutralise(cell) for cell in cells])


def _filename(tenant: Tenant, what: str) -> str:
    return f"{tenant.slug}-{what}-{_today().isoformat()}.csv"


@dataclass(frozen=True)
class Export:
    """A file to send: its name, and its lines as they are made."""

    filename: str
    lines: Iterator[str]


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _commitment_batch(after: tuple | None) -> list[tuple]:
    department = aliased(Unit)
    query = (
        select(Member.email, Member.display_name, Commitment.gender, Commitment.country_code, Commitment.city,
               Unit.name, department.name, Commitment.source, Commitment.verified, Commitment.language, Commitment.consent_version,
               Commitment.created_at, Commitment.withdrawn_at, Commitment.id)
        .outerjoin(Member, Member.id == Commitment.member_id)  # none for a commitment made under age
        .outerjoin(Unit, Unit.id == Commitment.unit_id)
        .outerjoin(department, department.id == Commitment.department_id)
        .order_by(Commitment.created_at, Commitment.id)
        .limit(EXPORT_BATCH))
    if after is not None:
        created, last_id = after
        query = query.where(or_(Commitment.created_at > created,
                                and_(Commitment.created_at == created, Commitment.id > last_id)))
    return db.session.execute(query).all()


def _commitment_lines(app, tenant_id: int) -> Iterator[str]:
    # Runs while the file is sent, after the request has ended, and a server may resume it in another
    # context: each batch is read in an app context and tenant of its own, and no cursor stays open.
    writer = csv.writer(_Line())
    yield "\ufeff" + _csv_line(writer, COMMITMENT_COLUMNS)  # the mark tells spreadsheets it is UTF-8
    after = None
    while True:
        with app.app_context(), tenant_context(tenant_id):
            batch = _commitment_batch(after)
        for (email, name, gender, country, city, unit, department, source, verified, language, consent, created,
             withdrawn, _id) in batch:
            yield _csv_line(writer, (email, name, gender.value, country, city, unit, department, source.value,
                                     "yes" if verified else "no", language, consent, _iso(created), _iso(withdrawn)))
        if len(batch) < EXPORT_BATCH:
            return
        after = (batch[-1].created_at, batch[-1].id)


def export_commitments(tenant: Tenant) -> Export:
    """Every commitment of the current tenant with its person's details (personal data: admins only).

    The lines are made batch by batch while the file is sent (never the whole file in memory); the
    export is noted in the audit log now."""
    filename = _filename(tenant, "commitments")
    record("export.commitments", filename)
    return Export(filename, _commitment_lines(current_app._get_current_object(), tenant.id))


def _aggregate_rows(name: str, breakdown: Breakdown, label) -> list[tuple]:
    rows = [(name, key, label(key), count.total, count.men) for key, count in breakdown.cells.items()]
    if breakdown.rest is not None:
        rows.append((name, "", _("Groups of fewer than %(k)s people (%(groups)s together)", k=breakdown.k,
                                  groups=breakdown.rest_cells), breakdown.rest.total, breakdown.rest.men))
    return rows


def export_aggregates(tenant: Tenant) -> Export:
    """The current tenant's counts by day, unit, country and source, no group under its threshold on its own."""
    k = tenant.privacy_k
    counts = steps.tenant_counts(("day", "unit", "country", "source"), k)
    units = list(db.session.scalars(select(Unit)))
    names = {str(unit.id): unit.name for unit in units}
    rows = (_aggregate_rows("day", release(counts.dimension("day"), k), lambda key: key)
            + _aggregate_rows("unit", release(counts.dimension("unit"), k, unit_parents(units)),
                              lambda key: names.get(key, key))
            + _aggregate_rows("country", release(counts.dimension("country"), k), i18n.country_name)
            + _aggregate_rows("source", release(counts.dimension("source"), k), source_label))
    filename = _filename(tenant, "aggregates")
    record("export.aggregates", filename, k=k)
    writer = csv.writer(_Line())
    return Export(filename, iter(["\ufeff" + _csv_line(writer, AGGREGATE_COLUMNS)]
                                 + [_csv_line(writer, row) for row in rows]))


def source_label(key: str) -> str:
    """How a source is named on the pages and in the files."""
    labels = {Source.WEB.value: _("Sign-up page"), Source.SSO.value: _("Single sign-on"),
              Source.REGISTRATION.value: _("Registration"), Source.API.value: _("API"),
              Source.IMPORT.value: pgettext("how people committed", "Import")}
    return labels.get(key, key)

