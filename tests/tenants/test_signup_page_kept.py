"""The sign-up page kept rendered for a moment (core/page_cache.py): each visitor still gets a form of their own
that works, in their language, and a changed setting shows at once."""

from __future__ import annotations

import time

import pytest
from flask import template_rendered

from core import page_cache
from core.tenancy import tenant_context
from tests.conftest import ServerLikeClient
from tests.helpers import hidden_fields, host


@pytest.fixture
def kept(app):
    """Pages kept for a second, as in production; yields the list of sign-up pages really rendered."""
    app.config["PAGE_CACHE_SECONDS"] = 1
    page_cache.init_app(app)
    rendered = []

    def note(sender, template, context, **extra):
        if template.name == "tenants/signup.html":
            rendered.append(template.name)

    template_rendered.connect(note, app)
    yield rendered
    template_rendered.disconnect(note, app)


def visit(app, slug: str, path: str = "/", **headers):
    """A new visitor's first look at a page: their client (with its cookies) and the page."""
    app.test_client_class = ServerLikeClient
    client = app.test_client()
    page = client.get(path, base_url=host(slug), headers=headers)
    assert page.status_code == 200
    return client, page.get_data(as_text=True)


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


def test_a_changed_setting_shows_at_once_and_everything_else_within_a_second(app, db, kept, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    assert 'name="old_enough"' not in visit(app, "acme")[1]
    with tenant_context(acme):
        acme.ask_age = True
        db.session.commit()
    assert 'name="old_enough"' in visit(app, "acme")[1], "the age question, at once"
    assert len(kept) == 2

    visit(app, "acme")
    assert len(kept) == 2
    time.sleep(1.1)
    visit(app, "acme")
    assert len(kept) == 3, "rendered again once the second is over (new counts, units, texts)"


def test_a_page_that_cannot_stand_for_others_is_not_kept(app, kept, make_tenant, monkeypatch):
    make_tenant("acme")
    original = page_cache.page

    def token_twice(key, render, per_visit):
        return original(key, lambda: render() + f"<!-- {per_visit['csrf']} -->", per_visit)

    monkeypatch.setattr(page_cache, "page", token_twice)
    first, second = visit(app, "acme")[1], visit(app, "acme")[1]
    assert len(kept) == 2, "a token found twice could not be told from the page: rendered for each visit"
    assert hidden_fields(first)["csrf_token"] != hidden_fields(second)["csrf_token"]
