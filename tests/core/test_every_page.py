"""Every page that can be opened without arguments opens, on every kind of host, in every language."""

from __future__ import annotations

import pytest

from core.i18n import LANGUAGES
from tenants.models import Role
from tests.helpers import host


def plain_get_routes(app) -> list[str]:
    """Every GET route of the app that takes no URL arguments, read from its URL map."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments)


def server_errors(app, client, base_url: str) -> list[str]:
    """Each route in each language that answered 5xx, with its status."""
    failures = []
    for path in plain_get_routes(app):
        for language in LANGUAGES:
            response = client.get(f"{path}?lang={language}", base_url=base_url)
            response.close()  # /live streams until closed
            if response.status_code >= 500:
                failures.append(f"{base_url}{path}?lang={language}: {response.status_code}")
    return failures


@pytest.fixture
def answering_like_production(app):
    """Unexpected errors become 500 pages, as in production, so that every failing page is listed."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_the_url_map_is_read(app):
    assert {"/", "/privacy", "/portal/members", "/portal/audit", "/sso/failed"} <= set(plain_get_routes(app))


def test_no_page_fails_on_the_global_host(answering_like_production, client):
    assert server_errors(answering_like_production, client, host()) == []


def test_no_page_fails_on_the_global_host_for_someone_in_the_movement(answering_like_production, client, movement,
                                                                      make_commitment, sign_in_as):
    make_commitment(movement, "sam@example.org")
    sign_in_as(movement, Role.MEMBER, email="sam@example.org", client=client)
    assert "sam@example.org" in client.get("/me", base_url=host()).get_data(as_text=True)  # really signed in
    assert server_errors(answering_like_production, client, host()) == []


def test_no_page_fails_on_a_tenant_host(answering_like_production, client, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    make_commitment(acme, unit=make_unit(acme, "Paris office"))
    assert server_errors(answering_like_production, client, host("acme")) == []


def test_no_page_fails_for_a_tenants_admin(answering_like_production, client, make_tenant, make_unit,
                                           make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_commitment(acme, unit=make_unit(acme, "Paris office"))
    sign_in_as(acme, Role.ADMIN, client=client)
    assert client.get("/portal/dashboard", base_url=host("acme")).status_code == 200  # really signed in
    assert server_errors(answering_like_production, client, host("acme")) == []


def test_the_privacy_notice_shows_its_version_on_every_host(client, make_tenant):
    make_tenant("acme", "Acme Corporation")
    for base_url in (host(), host("acme")):
        response = client.get("/privacy", base_url=base_url)
        assert response.status_code == 200
        assert "Version 2026-11" in response.get_data(as_text=True)
