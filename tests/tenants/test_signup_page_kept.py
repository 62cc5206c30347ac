"""The sign-up and thank-you pages kept rendered (core/page_cache.py): each visitor still gets a form of their own
that works, in their language, with the counts of the second; a changed setting shows at once in the worker that
made it and within two seconds in the others; a browser asking again is answered 304 while its copy stands."""

from __future__ import annotations

import time

import pytest
from flask import template_rendered

from core import page_cache
from core.app import create_app
from core.extensions import db as _db
from core.rollup.models import Gender
from core.tenancy import tenant_context
from tenant_portal.branding import services as branding
from tenant_portal.units import services as units
from tenants import plans
from tenants.models import UnitKind
from tenants.services import hosts
from tests.conftest import ServerLikeClient
from tests.helpers import hidden_fields, host, sign_up


@pytest.fixture
def kept(app):
    """Pages kept for a second, as in production; yields the list of sign-up pages really rendered."""
    app.config["PAGE_CACHE_SECONDS"] = 1
    page_cache.init_app(app)
    rendered = []

    def note(sender, template, context, **extra):
        if template.name in ("tenants/signup.html", "tenants/thanks.html"):
            rendered.append(template.name)

    template_rendered.connect(note, app)
    yield rendered
    template_rendered.disconnect(note, app)


def visit(app, slug: str, path: str = "/", **headers):
    """A new visitor's first look at a page: their client (with its cookies) and the page."""
    client, answer = visit_answer(app, slug, path, **headers)
    return client, answer.get_data(as_text=True)


def visit_answer(app, slug: str, path: str = "/", **headers):
    """A new visitor's first look at a page: their client and the whole answer."""
    app.test_client_class = ServerLikeClient
    client = app.test_client()
    answer = client.get(path, base_url=host(slug), headers=headers)
    assert answer.status_code == 200
    return client, answer


class FakeClock:
    """``time`` as the host cache reads it, moved on by the test."""

    def __init__(self):
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


def test_visitors_share_one_rendering_but_each_form_is_their_own_and_works(app, kept, make_tenant):
    make_tenant("acme", "Acme Corporation")
    (first, first_page), (second, second_page) = visit(app, "acme"), visit(app, "acme")
    assert len(kept) == 1, "the second visitor was served the page rendered for the first"
    assert "Acme Corporation" in second_page
    mine, theirs = hidden_fields(first_page), hidden_fields(second_page)
    assert mine["csrf_token"] != theirs["csrf_token"] and mine["rendered"] != theirs["rendered"]
    assert first_page.replace(mine["csrf_token"], "").replace(mine["rendered"], "") == \
        second_page.replace(theirs["csrf_token"], "").replace(theirs["rendered"], "")

    for client, fields, email in ((first, mine, "first@example.org"), (second, theirs, "second@example.org")):
        answer = client.post("/", base_url=host("acme"), data={
            **fields, "email": email, "gender": "man", "country": "FR", "consent": "y"})
        assert answer.status_code == 303, "each visitor's own token and time are accepted"
    swapped = first.post("/", base_url=host("acme"), data={
        **theirs, "email": "third@example.org", "gender": "man", "country": "FR", "consent": "y"})
    assert swapped.status_code == 400, "another visitor's token is not"


def test_each_language_country_and_address_is_a_page_of_its_own(app, kept, make_tenant):
    make_tenant("acme")
    _, english = visit(app, "acme", "/?lang=en")
    _, french = visit(app, "acme", "/?lang=fr")
    _, canadian = visit(app, "acme", "/?lang=fr", **{"Accept-Language": "fr-CA"})
    assert 'lang="en"' in english and 'lang="fr"' in french
    assert '<option selected value="CA">' in canadian and '<option selected value="CA">' not in french
    assert len(kept) == 3


def test_a_changed_setting_shows_at_once_and_new_counts_within_a_second_without_rendering_again(
        app, db, kept, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    assert 'name="old_enough"' not in visit(app, "acme")[1]
    with tenant_context(acme):
        acme.ask_age = True
        db.session.commit()
    assert 'name="old_enough"' in visit(app, "acme")[1], "the age question, at once"
    with tenant_context(acme):
        units.add_unit(units.UnitFields(name="Lyon office", kind=UnitKind.OFFICE))
        db.session.commit()
    assert ">Lyon office</option>" in visit(app, "acme")[1], "a new unit, at once"
    assert len(kept) == 3

    make_commitment(acme, gender=Gender.MAN)
    time.sleep(1.1)
    page = visit(app, "acme")[1]
    assert "1 commitment in all" in page, "the counts of the second"
    assert len(kept) == 3, "the page itself was not rendered again for them"


def test_another_worker_shows_a_changed_setting_within_two_seconds(app_config, app, db, kept, make_tenant,
                                                                    monkeypatch):
    other = create_app(app_config)  # a second worker: its own memory of hosts and pages
    other.config["PAGE_CACHE_SECONDS"] = 1
    page_cache.init_app(other)
    clock = FakeClock()
    monkeypatch.setattr(hosts, "time", clock)
    acme = make_tenant("acme", "Acme Corporation")
    assert "Leading the way" not in visit(other, "acme")[1]

    with tenant_context(acme):
        branding.update_branding(acme, branding.BrandingSettings(
            primary_color=acme.primary_color, accent_color=acme.accent_color,
            enabled_languages=list(acme.enabled_languages), default_language=acme.default_language,
            listed=acme.listed, ask_age=acme.ask_age,
            texts={"en": branding.Texts(headline="Leading the way", commitment_text="", thank_you_text="")}))
        db.session.commit()
    assert "Leading the way" in visit(app, "acme")[1], "at once where it was changed"
    clock.now += hosts.HOST_CACHE_SECONDS
    assert hosts.HOST_CACHE_SECONDS <= 2
    assert "Leading the way" in visit(other, "acme")[1], "in the other worker within the host cache's seconds"
    with other.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_a_browser_asking_again_gets_304_until_something_on_the_page_changes(app, db, kept, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    browser, first = visit_answer(app, "acme")
    assert first.headers["ETag"].startswith('W/"')
    assert {"private", "no-cache"} <= set(first.headers["Cache-Control"].replace(" ", "").split(","))
    assert "Cookie" in first.headers["Vary"], "never a copy of one visitor's form for another"

    again = browser.get("/", base_url=host("acme"), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    stranger, _ = visit_answer(app, "acme")
    theirs = stranger.get("/", base_url=host("acme"), headers={"If-None-Match": first.headers["ETag"]})
    assert theirs.status_code == 200, "another visitor's tag names another token: their own page"
    assert hidden_fields(theirs.get_data(as_text=True))["csrf_token"] != \
        hidden_fields(first.get_data(as_text=True))["csrf_token"]

    with tenant_context(acme):
        units.add_unit(units.UnitFields(name="Lyon office", kind=UnitKind.OFFICE))
        db.session.commit()
    changed = browser.get("/", base_url=host("acme"), headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and ">Lyon office</option>" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_the_thank_you_page_is_kept_for_everyone_but_the_person_just_thanked(app, db, kept, make_tenant):
    make_tenant("acme", "Acme Corporation")
    browser = visit(app, "acme")[0]
    answer = sign_up(browser, "acme", name="Sam Smith")
    thanked = browser.get(answer.location, base_url=host("acme"))
    assert "Thank you, Sam" in thanked.get_data(as_text=True) and thanked.headers["Cache-Control"] == "no-store"
    first, second = (visit_answer(app, "acme", "/thanks")[1] for _ in range(2))
    assert "Thank you, Sam" not in second.get_data(as_text=True) and "1 commitment in all" in second.get_data(
        as_text=True)
    assert first.get_data() == second.get_data() and first.headers["ETag"] == second.headers["ETag"]
    assert {"public", "no-cache"} <= set(second.headers["Cache-Control"].replace(" ", "").split(","))
    assert kept.count("tenants/thanks.html") == 2, "the person's own page, then one for everyone"


def test_a_page_that_cannot_stand_for_others_is_not_kept(app, kept, make_tenant, monkeypatch):
    make_tenant("acme")
    original = page_cache.page

    def token_twice(key, render, per_visit):
        return original(key, lambda: render() + f"<!-- {per_visit['csrf']} -->", per_visit)

    monkeypatch.setattr(page_cache, "page", token_twice)
    first, second = visit(app, "acme")[1], visit(app, "acme")[1]
    assert len(kept) == 2, "a token found twice could not be told from the page: rendered for each visit"
    assert hidden_fields(first)["csrf_token"] != hidden_fields(second)["csrf_token"]


def test_the_global_and_map_pages_are_kept_and_revalidated_too(app, kept, make_tenant):
    make_tenant("acme", "Acme Corporation")
    for slug, path, kind in ((None, "/", "private"), (None, "/map", "public"), ("acme", "/map", "public")):
        browser, first = visit_answer(app, slug, path)
        assert kind in first.headers["Cache-Control"], "private: the global page's form holds the session's token"
        again = browser.get(path, base_url=host(slug), headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, f"{path} on {slug or 'the global host'}"
    tokens = {hidden_fields(visit(app, None, "/")[1])["csrf_token"] for _ in range(2)}
    assert len(tokens) == 2, "each visitor of the global page gets a form of their own"


def test_a_plan_that_changes_what_a_page_shows_shows_at_once(app, kept, make_tenant):
    """The "Powered by" line is a plan's (``remove_powered_by``): a kept page follows the plan, both ways."""
    acme = make_tenant("acme", "Acme Corporation")  # on Enterprise: no line
    assert "Powered by HeForShe" not in visit(app, "acme")[1]
    with app.test_request_context():
        plans.grant(acme, "community")
        _db.session.commit()
    assert "Powered by HeForShe" in visit(app, "acme")[1]
    assert "Powered by HeForShe" in visit(app, "acme", "/thanks")[1]
    with app.test_request_context():
        plans.set_sponsored(acme, True, "An NGO")
        _db.session.commit()
    assert "Powered by HeForShe" not in visit(app, "acme")[1]
