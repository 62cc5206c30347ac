"""Every view of one organisation's counts releases the same cells: ``stats.json``, ``map.json``, the
dashboard and the counts file show the same units and countries with the same numbers and the same rest,
and the target tracker shows a unit's number only where the others show it as it is. Were any two to
differ, comparing them could single someone out."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import update

from core import i18n
from core.rollup.models import Gender
from core.tenancy import tenant_context
from tenant_portal.targets import services as targets
from tenants.models import Role, Target, TargetMetric, Unit
from tests.helpers import host
from tests.tenant_portal.test_dashboard import table
from tests.tenant_portal.test_exports import rows

ACME = host("acme")
REST = re.compile(r"(\d+) groups? of fewer than 5 people, together")
CSV_REST = re.compile(r"Groups of fewer than 5 people \((\d+) together\)")


def commit_many(make_commitment, tenant, n, **fields):
    for _ in range(n):
        make_commitment(tenant, **fields)


def dashboard_cells(page: str, caption: str) -> tuple[dict, tuple | None]:
    """A dashboard table as {name: (people, men)} for the rows it shows, and its rest as (people, men, groups)."""
    cells, rest = {}, None
    for name, people, men, *_ in table(page, caption):
        if match := REST.fullmatch(name):
            rest = (int(people), int(men), int(match.group(1)))
        elif people.isdigit():
            cells[name.removesuffix(" (with its smaller units)")] = (int(people), int(men))
    return cells, rest


def file_cells(counts: list[dict], breakdown: str) -> tuple[dict, tuple | None]:
    """One breakdown of the counts file as {name: (people, men)}, and its rest as (people, men, groups)."""
    cells, rest = {}, None
    for row in counts:
        if row["breakdown"] != breakdown:
            continue
        if match := CSV_REST.fullmatch(row["name"]):
            rest = (int(row["people"]), int(row["men"]), int(match.group(1)))
        else:
            cells[row["name"]] = (int(row["people"]), int(row["men"]))
    return cells, rest


def as_rest(rest: dict | None) -> tuple | None:
    return None if rest is None else (rest["total"], rest["men"], rest["cells"])


def test_stats_the_map_the_dashboard_and_the_counts_file_release_the_same_cells(
        app, client, db, make_tenant, make_unit, make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    head = make_unit(acme, "Head office", country="FR")
    paris = make_unit(acme, "Paris office", country="FR", parent=head)
    lyon = make_unit(acme, "Lyon office", country="FR", parent=head)
    berlin = make_unit(acme, "Berlin office", country="DE")
    nairobi = make_unit(acme, "Nairobi office", country="KE")
    with tenant_context(acme):  # every unit on the map
        db.session.execute(update(Unit).values(latitude=48.85, longitude=2.35))
        db.session.commit()
    commit_many(make_commitment, acme, 5, unit=paris, country="FR")
    commit_many(make_commitment, acme, 5, unit=paris, country="FR", gender=Gender.WOMAN)
    commit_many(make_commitment, acme, 4, unit=head, country="FR")
    commit_many(make_commitment, acme, 2, unit=lyon, country="FR")  # too few: merges into the head office
    commit_many(make_commitment, acme, 2, unit=berlin, country="DE")  # too few, no parent: the rest
    make_commitment(acme, unit=berlin, country="DE", gender=Gender.WOMAN)
    make_commitment(acme, unit=nairobi, country="KE", gender=Gender.WOMAN)
    make_commitment(acme, country="DE", gender=Gender.WOMAN)
    commit_many(make_commitment, acme, 6, country="BR")
    sign_in_as(acme, Role.ADMIN, client=client)

    stats = client.get("/stats.json", base_url=ACME).get_json()
    data = client.get("/map.json", base_url=ACME).get_json()
    page = client.get("/portal/dashboard", base_url=ACME).get_data(as_text=True)
    counts = rows(client.get("/portal/exports/aggregates.csv", base_url=ACME))

    # Units: Paris on its own, Lyon inside the head office, Berlin and Nairobi together as the rest.
    units = {"Head office": (6, 6), "Paris office": (10, 5)}
    units_rest = (4, 2, 2)
    assert {cell["name"]: (cell["total"], cell["men"]) for cell in stats["by_unit"].values()} == units
    assert as_rest(stats["fewer_than_k"]["by_unit"]) == units_rest
    assert {marker["name"]: (marker["total"], marker["men"]) for marker in data["markers"]} == units
    assert as_rest(data["units_rest"]) == units_rest
    assert dashboard_cells(page, "Commitments and participation by unit") == (units, units_rest)
    assert file_cells(counts, "unit") == (units, units_rest)

    # Countries: France and Brazil; Germany and Kenya together as the rest.
    countries = {"BR": (6, 6), "FR": (16, 11)}
    countries_rest = (5, 2, 2)
    with app.test_request_context():
        names = {i18n.country_name(code): cell for code, cell in countries.items()}
    assert {code: (cell["total"], cell["men"]) for code, cell in stats["by_country"].items()} == countries
    assert as_rest(stats["fewer_than_k"]["by_country"]) == countries_rest
    assert {code: (cell["total"], cell["men"]) for code, cell in data["countries"].items()} == countries
    assert as_rest(data["countries_rest"]) == countries_rest
    assert dashboard_cells(page, "Commitments by country") == (names, countries_rest)
    assert file_cells(counts, "country") == (names, countries_rest)
    assert {row["key"] for row in counts if row["breakdown"] == "country"} == {"BR", "FR", ""}

    # The tracker follows one unit: it shows Paris (shown as it is everywhere), and holds back the head
    # office (shown only with Lyon inside it) and the units in the rest.
    with tenant_context(acme):
        goals = {unit.name: Target(unit_id=unit.id, metric=TargetMetric.MEN, value=50,
                                   deadline=date.today() + timedelta(days=365))
                 for unit in (head, paris, lyon, berlin, nairobi)}
        db.session.add_all(goals.values())
        db.session.flush()
        found = {name: tracker.current
                 for name, tracker in zip(goals, targets.trackers(acme, list(goals.values())))}
        db.session.rollback()
    assert found == {"Head office": None, "Paris office": 5, "Lyon office": None, "Berlin office": None,
                     "Nairobi office": None}
