"""The map pages and their data: counts from the roll-up, nobody in a group under k."""

import pytest

from core.rollup.models import Gender
from tenants.models import MapVisibility
from tests.helpers import host, sign_up

PARIS, LYON, NAIROBI = 2988507, 2996944, 184745


def commit_many(make_commitment, tenant, n, **fields):
    for _ in range(n):
        make_commitment(tenant, **fields)


def test_the_global_map_shows_countries_of_at_least_k_people(client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    commit_many(make_commitment, acme, 10, country="KE")
    commit_many(make_commitment, acme, 3, country="FR")
    commit_many(make_commitment, acme, 2, country="BR")
    data = client.get("/map.json", base_url=host()).get_json()
    assert data["countries"] == {"KE": {"total": 10, "men": 10, "per_million": pytest.approx(0.37, abs=0.05)}}
    assert data["countries_rest"] == {"total": 5, "men": 5, "cells": 2}
    assert (data["total"], data["men"]) == (15, 15)


def test_a_tenant_map_has_units_cities_and_countries(client, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme", privacy_k=5)
    nairobi = make_unit(acme, "Nairobi office", country="KE")
    commit_many(make_commitment, acme, 6, country="KE", unit=nairobi, place_id=NAIROBI)
    commit_many(make_commitment, acme, 5, country="FR", place_id=PARIS, gender=Gender.WOMAN)
    data = client.get("/map.json", base_url=host("acme")).get_json()
    assert set(data["countries"]) == {"KE", "FR"}
    assert [(p["name"], p["total"], p["men"]) for p in data["places"]] == [("Nairobi", 6, 6), ("Paris", 5, 0)]
    assert data["markers"] == []  # the office has no coordinates


def test_a_small_office_merges_into_its_parent(client, db, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme", privacy_k=5)
    campus = make_unit(acme, "North campus", country="GB")
    faculty = make_unit(acme, "Faculty of Law", country=None, parent=campus)
    commit_many(make_commitment, acme, 3, country="GB", unit=faculty)
    commit_many(make_commitment, acme, 5, country="GB", unit=campus)
    page = client.get("/map", base_url=host("acme")).get_data(as_text=True)
    assert "Faculty of Law" not in page.split('id="units-title"')[1].split("</section>")[0]


def test_a_map_that_is_not_public_is_refused(client, db, make_tenant):
    acme = make_tenant("acme", map_visibility=MapVisibility.MEMBERS)
    for path in ("/map", "/map.json"):
        assert client.get(path, base_url=host("acme")).status_code == 403
    assert "countries" not in client.get("/count.json", base_url=host("acme")).get_json()


def test_the_map_can_be_filtered_by_unit(client, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme", privacy_k=5)
    nairobi = make_unit(acme, "Nairobi office", country="KE")
    paris = make_unit(acme, "Paris office", country="FR")
    commit_many(make_commitment, acme, 5, country="KE", unit=nairobi)
    commit_many(make_commitment, acme, 5, country="FR", unit=paris)
    data = client.get(f"/map.json?unit={nairobi.id}", base_url=host("acme")).get_json()
    assert set(data["countries"]) == {"KE"}
    assert client.get("/map.json?unit=not-a-uuid", base_url=host("acme")).status_code == 404


def test_count_json_is_open_to_other_sites(client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme)
    response = client.get("/count.json", base_url=host("acme"))
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {k: response.get_json()[k] for k in ("total", "men")} == {"total": 1, "men": 0}  # men move in steps


def test_the_embedded_counter_may_be_framed_anywhere_but_other_pages_may_not(client, make_tenant):
    make_tenant("acme", "Acme Corporation")
    embed = client.get("/embed/counter", base_url=host("acme"))
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "Acme Corporation" in embed.get_data(as_text=True)
    assert "frame-ancestors 'self'" in client.get("/map", base_url=host("acme")).headers["Content-Security-Policy"]
    script = client.get("/embed.js", base_url=host("acme")).get_data(as_text=True)
    assert '"http://acme.hfs.test/embed/counter"' in script
    snippets = client.get("/embed", base_url=host("acme")).get_data(as_text=True)
    assert "http://acme.hfs.test/embed.js" in snippets and "http://acme.hfs.test/count.json" in snippets


def test_city_suggestions_in_the_page_language(client, make_tenant):
    make_tenant("acme")
    found = client.get("/places.json?country=FR&q=par&lang=fr", base_url=host("acme")).get_json()["places"]
    assert found[0]["name"] == "Paris" and found[0]["id"] == PARIS
    arabic = client.get("/places.json?country=EG&q=القاهرة&lang=ar", base_url=host("acme")).get_json()["places"]
    assert arabic and arabic[0]["name"].startswith("القاهرة")


def test_a_chosen_city_is_stored_with_its_place(client, db, make_tenant):
    acme = make_tenant("acme", privacy_k=5)
    sign_up(client, "acme", country="FR", city="Paris", place=str(PARIS))
    sign_up(client, "acme", email="b@example.org", country="FR", city="lyon")  # typed, no suggestion picked
    response = sign_up(client, "acme", email="c@example.org", country="KE", city="Paris", place=str(PARIS))
    assert response.status_code == 400
    assert "Please choose a city of the country you chose." in response.get_data(as_text=True)
    from sqlalchemy import select

    from core.tenancy import tenant_context
    from tenants.models import Commitment

    with tenant_context(acme):
        stored = set(db.session.execute(select(Commitment.city, Commitment.place_id)).all())
    assert stored == {("Paris", PARIS), ("Lyon", LYON)}
