"""The organisation's units: the tree with its commitments, adding, editing and deleting units, the eligible
headcounts, and importing the tree from CSV (checked in full before anything is written).

Plain functions over domain objects; they flush and never commit (the request or the command does).
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from uuid6 import uuid7

from core import places
from core.extensions import db
from core.i18n import is_country_code
from core.rollup import steps
from core.rollup.release import release, unit_parents
from tenant_portal.services import record
from tenants.models import Commitment, Member, Target, Tenant, Unit, UnitKind
from tenants.services import hosts
from tenants.sso.models import SsoConnection

PER_PAGE = 100
#: The web import's limits; bigger files go through ``flask units import``.
MAX_WEB_ROWS = 5_000
MAX_WEB_BYTES = 1024 * 1024
#: Headcounts are stored as 32-bit integers; no organisation comes near this.
MAX_HEADCOUNT = 1_000_000_000
COLUMNS = ("key", "name", "kind", "parent_key", "country", "city", "eligible_men", "eligible_total")
REQUIRED_COLUMNS = ("key", "name", "kind")


class UnitChangeRefused(ValueError):
    """A change to the units that cannot be made (a loop, a key already used, a unit still in use); says why."""


@dataclass(frozen=True)
class UnitFields:
    """What an admin sets on a unit."""

    name: str
    kind: UnitKind
    parent_id: uuid.UUID | None = None
    external_key: str | None = None
    country_code: str | None = None
    city: str | None = None
    eligible_men: int | None = None
    eligible_total: int | None = None


@dataclass(frozen=True)
class TreeRow:
    """One unit in the tree: how deep it sits, its parent, and its commitments as every breakdown shows them
    (None: fewer than k; ``merged``: counted together with its smaller units)."""

    unit: Unit
    depth: int
    parent: Unit | None
    children: int
    commitments: int | None
    merged: bool = False


@dataclass(frozen=True)
class TreePage:
    """One page of the units, in tree order."""

    rows: list[TreeRow]
    page: int
    pages: int
    total: int
    k: int


def find_unit(unit_id: uuid.UUID) -> Unit | None:
    """One of the current tenant's units, or None (another tenant's is not found)."""
    return db.session.scalars(select(Unit).where(Unit.id == unit_id)).one_or_none()


def _all_units() -> list[Unit]:
    return list(db.session.scalars(select(Unit)))


def tree_order(units: list[Unit]) -> list[tuple[Unit, int]]:
    """Units depth first, each after its parent, siblings by name; with their depth (0 for the top)."""
    children: dict[uuid.UUID | None, list[Unit]] = {}
    ids = {unit.id for unit in units}
    for unit in units:
        children.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    for siblings in children.values():
        siblings.sort(key=lambda unit: (unit.name.casefold(), str(unit.id)))
    ordered: list[tuple[Unit, int]] = []
    stack = [(unit, 0) for unit in reversed(children.get(None, []))]
    while stack:
        unit, depth = stack.pop()
        ordered.append((unit, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(unit.id, [])))
    return ordered


def unit_tree(tenant: Tenant, page: int = 1) -> TreePage:
    """One page of the tenant's units in tree order, with their commitments released as on the dashboard and
    in ``stats.json`` (small units merged into their parents), so that comparing the pages reveals nobody."""
    units = _all_units()
    by_id = {unit.id: unit for unit in units}
    ordered = tree_order(units)
    breakdown = release(steps.tenant_counts(("unit",), tenant.privacy_k).dimension("unit"), tenant.privacy_k, unit_parents(units))
    child_counts: dict[uuid.UUID, int] = {}
    for unit in units:
        if unit.parent_id is not None:
            child_counts[unit.parent_id] = child_counts.get(unit.parent_id, 0) + 1
    pages = max(1, math.ceil(len(ordered) / PER_PAGE))
    page = min(max(page, 1), pages)
    rows = []
    for unit, depth in ordered[(page - 1) * PER_PAGE:page * PER_PAGE]:
        shown = breakdown.shown(str(unit.id))
        rows.append(TreeRow(unit, depth, by_id.get(unit.parent_id), child_counts.get(unit.id, 0),
                            shown.total if shown is not None else None, breakdown.merged(str(unit.id))))
    return TreePage(rows, page, pages, len(ordered), tenant.privacy_k)


def parent_choices(unit: Unit | None = None) -> list[tuple[Unit, int]]:
    """The units that can be ``unit``'s parent (not itself, nor any unit inside it), in tree order."""
    ordered = tree_order(_all_units())
    if unit is None:
        return ordered
    inside = {unit.id}
    for candidate, _depth in ordered:  # tree order: a parent always comes before its children
        if candidate.parent_id in inside:
            inside.add(candidate.id)
    return [(candidate, depth) for candidate, depth in ordered if candidate.id not in inside]


def _check_headcount(men: int | None, total: int | None) -> None:
    for value in (men, total):
        if value is not None and not 0 <= value <= MAX_HEADCOUNT:
            raise UnitChangeRefused(_("A headcount is a whole number from 0 to %(max)s.",
                                      max=format_decimal(MAX_HEADCOUNT)))
    if men is not None and total is not None and men > total:
        raise UnitChangeRefused(_("The eligible men cannot be more than the eligible people in all."))


def _check_unit(unit: Unit | None, fields: UnitFields) -> None:
    _check_headcount(fields.eligible_men, fields.eligible_total)
    if fields.external_key:
        taken = db.session.scalars(select(Unit).where(Unit.external_key == fields.external_key)).first()
        if taken is not None and taken is not unit:
            raise UnitChangeRefused(_("The key “%(key)s” is already the key of %(name)s.",
                                      key=fields.external_key, name=taken.name))
    if fields.country_code and not is_country_code(fields.country_code):
        raise UnitChangeRefused(_("Please choose a country from the list."))
    parent_id = fields.parent_id
    if parent_id is not None:
        by_id = {candidate.id: candidate for candidate in _all_units()}
        if parent_id not in by_id:
            raise UnitChangeRefused(_("Please choose a parent unit from the list."))
        seen = set()
        while parent_id is not None and parent_id not in seen:
            if unit is not None and parent_id == unit.id:
                raise UnitChangeRefused(_("A unit cannot be inside itself or inside one of its own units."))
            seen.add(parent_id)
            parent_id = by_id[parent_id].parent_id if parent_id in by_id else None


def _locate(unit: Unit, country_code: str | None, city: str | None, cache: dict | None = None) -> None:
    """Set the unit's place and, when the city is a known city of that country, its position on the maps."""
    if unit.latitude is not None and (unit.country_code, unit.city) == (country_code, city):
        return  # unchanged: keep the position (it may have been set by hand)
    unit.country_code, unit.city = country_code, city
    position = None
    if country_code and city:
        cache = {} if cache is None else cache
        if (country_code, city) not in cache:
            match = next((place for place in places.search(country_code, city, "en", limit=3)
                          if place.name.casefold() == city.casefold()), None)
            cache[(country_code, city)] = (match.latitude, match.longitude) if match else None
        position = cache[(country_code, city)]
    unit.latitude, unit.longitude = position if position else (None, None)


def _apply(unit: Unit, fields: UnitFields) -> dict:
    """Set the fields; returns what changed as ``{name: [before, after]}`` for the audit log."""
    changes = {}
    for name in ("name", "kind", "parent_id", "external_key", "country_code", "city", "eligible_men",
                 "eligible_total"):
        before, after = getattr(unit, name), getattr(fields, name)
        if before == after:
            continue
        if name == "parent_id":  # the log shows the parents by name
            changes["parent"] = [_unit_name(before), _unit_name(after)]
        else:
            changes[name] = [_plain(before), _plain(after)]
    unit.name, unit.kind, unit.parent_id = fields.name, fields.kind, fields.parent_id
    unit.external_key = fields.external_key
    unit.eligible_men, unit.eligible_total = fields.eligible_men, fields.eligible_total
    _locate(unit, fields.country_code, fields.city)
    return changes


def _unit_name(unit_id: uuid.UUID | None) -> str | None:
    return db.session.scalar(select(Unit.name).where(Unit.id == unit_id)) if unit_id else None


def _plain(value):
    if isinstance(value, UnitKind):
        return value.value
    return str(value) if isinstance(value, uuid.UUID) else value


def add_unit(fields: UnitFields) -> Unit:
    """Add a unit to the tree."""
    _check_unit(None, fields)
    unit = Unit(name=fields.name, kind=fields.kind)
    _apply(unit, fields)
    db.session.add(unit)
    db.session.flush()
    hosts.pages_changed()  # the sign-up form's lists and the map's filter
    record("unit.create", fields.name, unit_id=str(unit.id), key=fields.external_key, kind=fields.kind.value,
           parent_id=_plain(fields.parent_id), parent=_unit_name(fields.parent_id))
    return unit


def update_unit(unit: Unit, fields: UnitFields) -> bool:
    """Change a unit (refusing a parent inside itself and a key another unit has); whether anything changed."""
    _check_unit(unit, fields)
    changes = _apply(unit, fields)
    db.session.flush()
    if changes:
        hosts.pages_changed()
        record("unit.update", unit.name, unit_id=str(unit.id), changes=changes)
    return bool(changes)


def deletion_blockers(unit: Unit) -> list[str]:
    """Why the unit cannot be deleted now (empty when it can)."""
    reasons = []
    children = db.session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id))
    if children:
        reasons.append(_("It contains other units (%(count)s): move or delete them first.",
                         count=format_decimal(children)))
    if db.session.scalars(select(Commitment.id).where(or_(Commitment.unit_id == unit.id,
                                                          Commitment.department_id == unit.id))
                          .limit(1)).first() is not None:
        reasons.append(_("People committed in this unit: their commitments keep pointing at it, so it stays. "
                         "Rename it instead if it changed."))
    if db.session.scalars(select(Target.id).where(Target.unit_id == unit.id).limit(1)).first() is not None:
        reasons.append(_("A target is set for this unit: delete the target first."))
    if db.session.scalars(select(SsoConnection.tenant_id)
                          .where(SsoConnection.default_unit_id == unit.id)).first() is not None:
        reasons.append(_("Single sign-on puts people whose unit is unknown in this unit: choose another one "
                         "in the sign-in settings first."))
    return reasons


def delete_unit(unit: Unit) -> None:
    """Delete a unit that nothing depends on; members who had it as their unit simply have none any more."""
    reasons = deletion_blockers(unit)
    if reasons:
        raise UnitChangeRefused(" ".join(reasons))
    db.session.execute(update(Member).where(Member.unit_id == unit.id).values(unit_id=None))
    record("unit.delete", unit.name, unit_id=str(unit.id), key=unit.external_key)
    db.session.delete(unit)
    db.session.flush()
    hosts.pages_changed()


def set_headcount(tenant: Tenant, men: int | None, total: int | None) -> bool:
    """Set the whole organisation's eligible headcount (for the participation rate); whether it changed."""
    _check_headcount(men, total)
    before = (tenant.eligible_men, tenant.eligible_total)
    if before == (men, total):
        return False
    tenant.eligible_men, tenant.eligible_total = men, total
    db.session.flush()
    record("units.headcount", tenant.name, before=list(before), after=[men, total])
    return True


# --- Import from CSV ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """Something wrong in the file: the line it is on (1 is the header; None: the whole file) and what."""

    line: int | None
    message: str


@dataclass(frozen=True)
class ImportRow:
    """One unit of the file, checked."""

    line: int
    key: str
    fields: UnitFields
    parent_key: str | None


@dataclass
class ImportPlan:
    """What an import would do, or why it cannot."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    new: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def decode_csv(data: bytes | str) -> tuple[str | None, ImportProblem | None]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        return None, ImportProblem(line, _("This line is not UTF-8 text. Save the file as “CSV UTF-8” and "
                                          "try again."))


def _number(value: str, column: str, problems: list[str]) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or int(value) > MAX_HEADCOUNT:
        problems.append(_("%(column)s must be a whole number from 0 to %(max)s; “%(value)s” is not.",
                          column=column, max=format_decimal(MAX_HEADCOUNT), value=value))
        return None
    return int(value)


def _check_row(cells: dict[str, str], problems: list[str]) -> tuple[UnitFields, str | None]:
    key, name, kind = cells.get("key", ""), cells.get("name", ""), cells.get("kind", "").lower()
    if not key:
        problems.append(_("The key is missing."))
    elif len(key) > 200:
        problems.append(_("The key is longer than 200 characters."))
    if not name:
        problems.append(_("The name is missing."))
    elif len(name) > 200:
        problems.append(_("The name is longer than 200 characters."))
    kinds = [each.value for each in UnitKind]
    if kind not in kinds:
        problems.append(_("The kind “%(kind)s” is not one of: %(kinds)s.", kind=cells.get("kind", ""),
                          kinds=", ".join(kinds)))
    country = cells.get("country", "").upper() or None
    if country and not is_country_code(country):
        problems.append(_("“%(country)s” is not a two-letter country code (like FR or KE).",
                          country=cells.get("country")))
    city = cells.get("city") or None
    if city and len(city) > 100:
        problems.append(_("The city is longer than 100 characters."))
    men = _number(cells.get("eligible_men", ""), "eligible_men", problems)
    total = _number(cells.get("eligible_total", ""), "eligible_total", problems)
    if men is not None and total is not None and men > total:
        problems.append(_("eligible_men (%(men)s) is more than eligible_total (%(total)s).",
                          men=format_decimal(men), total=format_decimal(total)))
    parent_key = cells.get("parent_key") or None
    if parent_key and parent_key == key:
        problems.append(_("A unit cannot be its own parent."))
    fields = UnitFields(name=name, kind=UnitKind(kind) if kind in kinds else UnitKind.OTHER,
                        external_key=key or None, country_code=country, city=city, eligible_men=men,
                        eligible_total=total)
    return fields, parent_key


def _header(names: list[str], problems: list[ImportProblem]) -> list[str]:
    columns = [name.strip().lower() for name in names]
    unknown = [name for name in columns if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if unknown or missing or repeated:
        problems.append(ImportProblem(1, _(
            "The first line must name the columns, from: %(columns)s (key, name and kind are required). "
            "Unknown: %(unknown)s. Missing: %(missing)s. Repeated: %(repeated)s.",
            columns=", ".join(COLUMNS), unknown=", ".join(unknown) or "-", missing=", ".join(missing) or "-",
            repeated=", ".join(repeated) or "-")))
    return columns


def csv_records(text: str):
    """(first line, cells) of each non-empty record, numbering lines as an editor does (1 is the header)."""
    sample = text.split("\n", 1)[0]
    # Spreadsheets in many European languages save CSV with semicolons.
    delimiter = ";" if ";" in sample and "," not in sample else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        yield line, [cell.strip() for cell in cells]
        line = reader.line_num + 1


def check_import(data: bytes | str, max_rows: int | None = None) -> ImportPlan:
    """Read and check a CSV of units, writing nothing: every problem with its line number, or the plan."""
    plan = ImportPlan()
    text, problem = decode_csv(data)
    if problem:
        plan.problems.append(problem)
        return plan
    columns: list[str] | None = None
    first_line: dict[str, int] = {}
    try:
        for line, cells in csv_records(text):
            if not any(cells):
                continue
            if columns is None:
                columns = _header(cells, plan.problems)
                if plan.problems:
                    return plan
                continue
            if max_rows is not None and len(plan.rows) >= max_rows:
                plan.problems.append(ImportProblem(None, _(
                    "The file has more than %(max)s units, more than this page takes. Ask your operator to run "
                    "“flask units import” with it, or split it.", max=format_decimal(max_rows))))
                return plan
            problems: list[str] = []
            if len(cells) != len(columns):
                problems.append(_("The line has %(cells)s cells; the first line names %(columns)s columns.",
                                  cells=format_decimal(len(cells)), columns=format_decimal(len(columns))))
            fields, parent_key = _check_row(dict(zip(columns, cells)), problems)
            key = fields.external_key
            if key and key in first_line:
                problems.append(_("The key “%(key)s” is already on line %(line)s.",
                                  key=key, line=format_decimal(first_line[key])))
            elif key:
                first_line[key] = line
            plan.problems.extend(ImportProblem(line, message) for message in problems)
            if key:
                plan.rows.append(ImportRow(line, key, fields, parent_key))
    except csv.Error as error:
        plan.problems.append(ImportProblem(None, _("The file is not valid CSV: %(error)s", error=str(error))))
        return plan
    if columns is None:
        plan.problems.append(ImportProblem(1, _("The file is empty: its first line must name the columns.")))
    elif not plan.rows and not plan.problems:
        plan.problems.append(ImportProblem(None, _("The file names the columns but has no units.")))
    _check_against_tree(plan)
    return plan


def _check_against_tree(plan: ImportPlan) -> None:
    """Parents that exist, no loops, once the file is merged into the units already there."""
    existing = {unit.external_key: unit for unit in _all_units() if unit.external_key}
    by_id = {unit.id: unit for unit in existing.values()}
    in_file = {row.key: row for row in plan.rows}
    for row in plan.rows:
        if row.parent_key and row.parent_key not in in_file and row.parent_key not in existing:
            plan.problems.append(ImportProblem(row.line, _(
                "The parent key “%(key)s” is neither a key in this file nor the key of one of your units.",
                key=row.parent_key)))

    def parent_key_of(key: str) -> str | None:
        if key in in_file:
            return in_file[key].parent_key
        parent = by_id.get(existing[key].parent_id) if key in existing else None
        return parent.external_key if parent is not None else None

    in_a_loop: set[str] = set()
    for row in plan.rows:
        path, key = [], row.key
        while key is not None and key not in path and key not in in_a_loop:
            path.append(key)
            key = parent_key_of(key)
        if key is not None and key in path:
            loop = path[path.index(key):]
            in_a_loop.update(loop)
            first = min((in_file[each] for each in loop if each in in_file), key=lambda each: each.line)
            plan.problems.append(ImportProblem(first.line, _(
                "The parents go round in a loop: %(keys)s.", keys=" → ".join(loop + [key]))))
    plan.problems.sort(key=lambda problem: (problem.line or 0))
    plan.new = sum(1 for row in plan.rows if row.key not in existing)
    plan.updated = len(plan.rows) - plan.new


def apply_import(plan: ImportPlan, source: str | None = None,
                 progress: Callable[[int], None] | None = None) -> ImportPlan:
    """Insert or update (by key) every unit of a checked plan, all in one go; refuses a plan with problems."""
    if not plan.ok:
        raise UnitChangeRefused(_("The file has problems: nothing was imported."))
    existing = {unit.external_key: unit for unit in _all_units() if unit.external_key}
    places_seen: dict = {}
    units: dict[str, Unit] = {}
    # Parents are set in a second pass, once every unit exists: a unit may name a parent further down the file.
    for row in plan.rows:
        unit = existing.get(row.key)
        if unit is None:
            unit = Unit(id=uuid7(), name=row.fields.name, kind=row.fields.kind)
            db.session.add(unit)
        unit.name, unit.kind, unit.external_key = row.fields.name, row.fields.kind, row.key
        unit.eligible_men, unit.eligible_total = row.fields.eligible_men, row.fields.eligible_total
        _locate(unit, row.fields.country_code, row.fields.city, places_seen)
        units[row.key] = unit
        if len(units) % 1000 == 0:
            db.session.flush()  # in batches, so that the progress shown follows the database's work
        if progress:
            progress(1)
    db.session.flush()
    for row in plan.rows:
        parent = (units.get(row.parent_key) or existing.get(row.parent_key)) if row.parent_key else None
        units[row.key].parent_id = parent.id if parent is not None else None
    db.session.flush()
    hosts.pages_changed()
    record("units.import", source, units=len(plan.rows), created=plan.new, updated=plan.updated)
    return plan
