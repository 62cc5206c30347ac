"""``stats.json`` and the global page: counts from the roll-up, never people."""

from tenants.models import Gender
from tests.helpers import host


def test_tenant_stats_count_by_country_gender_and_unit(client, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme")
    north = make_unit(acme, "North campus", country="GB")
    arts = make_unit(acme, "Faculty of Arts", country=None, parent=north)
    make_commitment(acme, country="GB", unit=arts)
    make_commitment(acme, country="GB", unit=north, gender=Gender.WOMAN)
    make_commitment(acme, country="KE")
    stats = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (stats["total"], stats["men"]) == (3, 2)
    assert stats["by_country"] == {"GB": {"total": 2, "men": 1}, "KE": {"total": 1, "men": 1}}
    assert stats["by_gender"] == {"man": 2, "woman": 1}
    assert stats["by_unit"][str(north.id)] | {"name": None} == {
        "name": None, "kind": "office", "parent": None, "total": 2, "men": 1}
    assert stats["by_unit"][str(arts.id)]["total"] == 1
    assert stats["by_unit"][str(arts.id)]["parent"] == str(north.id)
    assert stats["updated_at"].endswith("Z")


def test_stats_hold_no_personal_data(client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme, email="private.person@example.org", name="Private Person", city="Lyon")
    body = client.get("/stats.json", base_url=host("acme")).get_data(as_text=True)
    assert "private" not in body.lower() and "Lyon" not in body


def test_global_stats_add_up_every_tenant(client, make_tenant, make_commitment):
    acme, northfield = make_tenant("acme"), make_tenant("northfield")
    make_commitment(acme, country="FR")
    make_commitment(northfield, country="FR", gender=Gender.NON_BINARY)
    make_commitment(northfield, country="JP")
    stats = client.get("/stats.json", base_url=host()).get_json()
    assert (stats["total"], stats["men"]) == (3, 2)
    assert stats["by_country"] == {"FR": {"total": 2, "men": 1}, "JP": {"total": 1, "men": 1}}
    assert "by_unit" not in stats


def test_a_tenants_stats_do_not_include_another_tenants(client, make_tenant, make_commitment):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_commitment(globex, country="EG")
    stats = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (stats["total"], stats["men"], stats["by_country"], stats["by_unit"]) == (0, 0, {}, {})
    assert stats["updated_at"] is None


def test_stats_may_be_cached_briefly(app, client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    app.config["STATS_CACHE_SECONDS"] = 30
    from core import stats

    stats.init_app(app)
    assert client.get("/stats.json", base_url=host("acme")).get_json()["total"] == 0
    make_commitment(acme)
    response = client.get("/stats.json", base_url=host("acme"))
    assert response.get_json()["total"] == 0, "served from the cache"
    assert response.headers["Cache-Control"] == "public, max-age=30"


def test_the_global_page_leads_with_men_then_everyone(client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    for _ in range(3):
        make_commitment(acme, country="KE")
    make_commitment(acme, country="FR", gender=Gender.WOMAN)
    page = client.get("/", base_url=host()).get_data(as_text=True)
    assert page.index("<strong>3</strong>") < page.index("4 commitments in all")
    assert page.index("Kenya") < page.index("France"), "countries are led by men committed"


def test_the_global_page_lists_only_partners_that_chose_to_be_listed(client, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    make_tenant("globex", "Globex Secret", listed=False)
    make_commitment(acme)
    page = client.get("/", base_url=host()).get_data(as_text=True)
    assert '<a href="http://acme.hfs.test/">Acme Corporation</a>' in page
    assert "Globex Secret" not in page


def test_the_global_page_has_useful_empty_states(client):
    page = client.get("/", base_url=host()).get_data(as_text=True)
    assert "No commitments yet" in page
    assert "No partner organisation is listed yet" in page
