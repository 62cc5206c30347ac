"""What is counted, written down: the "How we count" page on every host, ``stats.json``'s schema and
definitions, and every count showing a new commitment within 2 seconds."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from core import config, stats
from core.rollup.models import Gender
from tests.helpers import BASE_DOMAIN, host, sign_up

DOCS = Path(__file__).resolve().parents[2] / "docs" / "counting.md"


def test_every_host_says_what_each_figure_means(client, make_tenant):
    make_tenant("acme", "Acme Corporation", privacy_k=12)
    for base_url, k in ((host(), 10), (host("acme"), 12)):
        response = client.get("/counting", base_url=base_url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        for heading in ("People", "Commitments", "Men", "Verified and unverified", "Withdrawn commitments",
                        "Invalidated commitments", "Suspended organisations", "Young people",
                        "When counts update"):
            assert f">{heading}</" in page
        assert f"a group of fewer than {k} people on this site" in page
        assert "within two seconds" in page


def test_the_page_speaks_the_visitors_language(client):
    page = client.get("/counting?lang=ar", base_url=host()).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


@pytest.mark.parametrize("path", ["/", "/map", "/privacy", "/embed", "/counting", "/thanks"])
def test_every_public_page_links_to_it_from_its_footer(client, make_tenant, path):
    make_tenant("acme")
    for base_url in (host(), host("acme")):
        response = client.get(path, base_url=base_url)
        if response.status_code == 404:  # the thank-you page is a tenant's only
            continue
        footer = response.get_data(as_text=True).split('<footer class="site-footer">', 1)[1]
        assert '<a href="/counting">How we count</a>' in footer


def test_stats_json_names_its_schema_and_where_its_figures_are_defined(client, make_tenant):
    make_tenant("acme")
    for base_url in (host(), host("acme")):
        body = client.get("/stats.json", base_url=base_url).get_json()
        assert body["schema_version"] == 4
        assert body["definitions"] == f"{base_url}/counting", "absolute, on the same host"
        assert client.get(body["definitions"]).status_code == 200


def documented_fields() -> set[str]:
    schema = DOCS.read_text().split("## `stats.json`", 1)[1]
    return set(re.findall(r"^\| `([a-z_.*]+)` \|", schema, flags=re.MULTILINE))


def given_fields(body: dict) -> set[str]:
    fields = set(body)
    fields |= {f"fewer_than_k.{key}" for key in body["fewer_than_k"]}
    fields |= {f"by_unit.*.{key}" for unit in body.get("by_unit", {}).values() for key in unit
               if key not in ("total", "men")}
    return fields


def test_the_documented_schema_lists_every_field_stats_json_gives(client, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme")
    paris = make_unit(acme)
    for _ in range(10):
        make_commitment(acme, unit=paris)
    tenant, everyone = (client.get("/stats.json", base_url=base_url).get_json() for base_url in (host("acme"), host()))
    assert given_fields(tenant) == documented_fields()
    assert given_fields(everyone) <= documented_fields()


def shown_total(page: str) -> int:
    """The count in all a page shows: its live figure (the global page) or its sentence (a sign-up page)."""
    found = (re.search(r'data-live="total">([\d,]+)<', page)
             or re.search(r"([\d,]+) (?:commitments?|people|person) in all", page))
    return int(found.group(1).replace(",", ""))


def test_a_commitment_shows_in_every_count_within_two_seconds(app, client, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    for _ in range(3):
        make_commitment(acme, gender=Gender.WOMAN)
    app.config["STATS_CACHE_SECONDS"] = config.from_environment()["STATS_CACHE_SECONDS"]  # as in production
    stats.init_app(app)
    counts = {
        ("acme", "/stats.json"): lambda r: r.get_json()["total"],
        (None, "/stats.json"): lambda r: r.get_json()["total"],
        ("acme", "/count.json"): lambda r: r.get_json()["total"],
        (None, "/count.json"): lambda r: r.get_json()["total"],
        ("acme", "/map.json"): lambda r: r.get_json()["total"],
        (None, "/map.json"): lambda r: r.get_json()["total"],
        ("acme", "/"): lambda r: shown_total(r.get_data(as_text=True)),
        (None, "/"): lambda r: shown_total(r.get_data(as_text=True)),
    }
    for (slug, path), read in counts.items():  # every cache holds the old count
        response = client.get(path, base_url=host(slug))
        assert read(response) == 3
        if path.endswith(".json"):
            assert response.cache_control.max_age <= 1, f"{path}: a browser or proxy keeps it a second at most"

    assert sign_up(client, "acme", email="new@example.org").status_code == 303
    committed, waiting = time.monotonic(), dict(counts)
    while waiting and time.monotonic() < committed + 2:
        for (slug, path), read in list(waiting.items()):
            if read(client.get(path, base_url=host(slug))) == 4:
                del waiting[(slug, path)]
        time.sleep(0.05)
    assert not waiting, f"still showing the old count after 2 seconds: {sorted(map(str, waiting))}"


def test_the_page_passes_accessibility_checks_on_a_phone(page, axe, make_tenant):
    make_tenant("acme")
    for base in (f"http://{BASE_DOMAIN}:{page.port}", f"http://acme.{BASE_DOMAIN}:{page.port}"):
        for language in ("en", "ar"):
            page.goto(f"{base}/counting?lang={language}")
            assert axe(page) == [], f"{base} in {language}"
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "nothing wider than the phone's screen"
