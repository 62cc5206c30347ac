"""``stats.json`` and the global page: counts from the roll-up, never people."""

import lxml.html

from core.rollup.models import Gender
from tests.helpers import host


def hero_figures(page: str) -> list[str]:
    """What the global page's first screen says, figure by figure."""
    hero = lxml.html.fromstring(page).xpath("//section[contains(@class, 'hero')]//p")
    return [" ".join(paragraph.text_content().split()) for paragraph in hero]


def commit_many(make_commitment, tenant, n, **fields):
    for _ in range(n):
        make_commitment(tenant, **fields)


def test_tenant_stats_count_by_country_gender_and_unit(client, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme", privacy_k=5)
    north = make_unit(acme, "North campus", country="GB")
    arts = make_unit(acme, "Faculty of Arts", country=None, parent=north)
    law = make_unit(acme, "Faculty of Law", country=None, parent=north)
    commit_many(make_commitment, acme, 5, country="GB", unit=arts)
    commit_many(make_commitment, acme, 2, country="GB", unit=law, gender=Gender.WOMAN)
    commit_many(make_commitment, acme, 5, country="GB", unit=north, gender=Gender.WOMAN)
    commit_many(make_commitment, acme, 6, country="KE")
    stats = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (stats["total"], stats["men"], stats["k"]) == (18, 11, 5)
    assert stats["by_country"] == {"GB": {"total": 12, "men": 5, "verified": 0},
                                   "KE": {"total": 6, "men": 6, "verified": 0}}
    assert stats["by_gender"] == {"man": 11, "woman": 7}
    assert stats["by_unit"] == {
        str(arts.id): {"name": "Faculty of Arts", "kind": "office", "parent": str(north.id), "total": 5, "men": 5},
        str(north.id): {"name": "North campus", "kind": "office", "parent": None, "total": 7, "men": 0},
    }, "the two people of the Faculty of Law are counted in their campus, not shown on their own"
    assert stats["updated_at"].endswith("Z")


def test_no_breakdown_shows_a_group_under_k(client, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme", privacy_k=5)
    paris, lyon = make_unit(acme, "Paris office"), make_unit(acme, "Lyon office")
    commit_many(make_commitment, acme, 9, country="FR", unit=paris)
    make_commitment(acme, country="BE", unit=lyon, gender=Gender.NON_BINARY)
    stats = client.get("/stats.json", base_url=host("acme")).get_json()
    assert stats["by_country"] == {} and stats["by_unit"] == {}, "a lone cell left over would be revealed"
    assert stats["by_gender"] == {}, "9 men shown would leave the one non-binary person exposed"
    assert stats["fewer_than_k"]["by_country"] == {"total": 10, "men": 9, "cells": 2}
    assert stats["fewer_than_k"]["by_gender"] == {"total": 10, "men": 9, "cells": 2}


def test_stats_hold_no_personal_data(client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme, email="private.person@example.org", name="Private Person", city="Lyon")
    body = client.get("/stats.json", base_url=host("acme")).get_data(as_text=True)
    assert "private" not in body.lower() and "Lyon" not in body


def test_global_stats_add_up_every_tenant(client, make_tenant, make_commitment):
    acme, northfield = make_tenant("acme"), make_tenant("northfield")
    commit_many(make_commitment, acme, 6, country="FR")
    commit_many(make_commitment, northfield, 4, country="FR")
    commit_many(make_commitment, northfield, 10, country="JP", gender=Gender.NON_BINARY)
    stats = client.get("/stats.json", base_url=host()).get_json()
    assert (stats["total"], stats["men"]) == (20, 10)
    assert stats["by_country"] == {"FR": {"total": 10, "men": 10, "verified": 0},
                                   "JP": {"total": 10, "men": 0, "verified": 0}}
    assert "by_unit" not in stats


def test_a_tenants_stats_do_not_include_another_tenants(client, make_tenant, make_commitment):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_commitment(globex, country="EG")
    stats = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (stats["total"], stats["men"], stats["by_country"], stats["by_unit"]) == (0, 0, {}, {})
    assert stats["updated_at"] is None


def test_stats_may_be_cached_for_a_second_at_most(app, client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    app.config["STATS_CACHE_SECONDS"] = 30
    from core import stats

    stats.init_app(app)
    assert client.get("/stats.json", base_url=host("acme")).get_json()["total"] == 0
    make_commitment(acme)
    response = client.get("/stats.json", base_url=host("acme"))
    assert response.get_json()["total"] == 0, "served from the cache"
    assert response.headers["Cache-Control"] == "public, max-age=1", "a longer setting is capped at a second"


def test_the_global_page_leads_with_men_then_everyone(client, make_tenant, make_commitment):
    acme = make_tenant("acme")
    commit_many(make_commitment, acme, 12, country="KE")
    commit_many(make_commitment, acme, 10, country="FR", gender=Gender.WOMAN)
    page = client.get("/", base_url=host()).get_data(as_text=True)
    assert hero_figures(page)[:2] == ["12 Men committed", "22 People in all"]
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


def test_one_person_at_two_partners_counts_once_on_the_global_page_and_once_for_each_partner(
        client, make_tenant, make_commitment):
    acme, globex = make_tenant("acme", "Acme Corporation"), make_tenant("globex", "Globex")
    initech = make_tenant("initech", "Initech", listed=False)
    for n in range(10):  # enough people for the global figures to be released (k = 10)
        make_commitment(initech, email=f"person{n}@initech.example", gender=Gender.WOMAN, country="FR")
    for tenant in (acme, globex):
        make_commitment(tenant, email="sam@example.org", country="KE")
        make_commitment(tenant, email=f"ana@{tenant.slug}.example", gender=Gender.WOMAN, country="KE")
    page = client.get("/", base_url=host()).get_data(as_text=True)
    assert hero_figures(page)[:3] == ["1 Men committed", "13 People in all", "0 of them verified"]
    # Each partner counts its own commitments, live; its men as its own pages show them: none before k have come.
    assert ('<a href="http://acme.hfs.test/">Acme Corporation</a></th><td class="num">0</td><td class="num">2</td>'
            in page)
    movement = client.get("/stats.json", base_url=host()).get_json()
    assert (movement["total"], movement["people"], movement["commitments"], movement["men"]) == (13, 13, 14, 1)
    assert movement["unverified"] == {"people": 13, "men": 1, "commitments": None}
    own = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (own["people"], own["commitments"], own["verified"]["people"]) == (2, 2, 0)


def test_a_partner_on_the_global_page_moves_in_its_own_steps(client, make_tenant, make_commitment):
    """The movement's figures step when k people came anywhere; a partner's row on the global page must not step
    with them, or the one man who joined the partner since its own last step would show there."""
    acme, initech = make_tenant("acme", "Acme Corporation"), make_tenant("initech", "Initech", listed=False)
    for _ in range(10):
        make_commitment(acme)
    assert client.get("/stats.json", base_url=host("acme")).get_json()["men"] == 10  # acme's step
    make_commitment(acme)  # one more man: acme's copy holds
    for _ in range(10):
        make_commitment(initech, gender=Gender.WOMAN)  # ten people elsewhere: the movement steps
    page = client.get("/", base_url=host()).get_data(as_text=True)
    own = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (own["men"], own["total"]) == (10, 11)
    assert ('<a href="http://acme.hfs.test/">Acme Corporation</a></th><td class="num">10</td>'
            '<td class="num">11</td>') in page
