"""SCIM provisioning in the portal, in a real browser: the token made, shown once, its values used as an identity
provider would, then revoked."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select

from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenant_portal.provisioning.models import ScimToken
from tenants.models import Role
from tests.helpers import BASE_DOMAIN


def url(page, path):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def scim_users(page, base_url: str, token: str) -> tuple[int, dict]:
    """GET <base_url>/Users as an identity provider would, through loopback with the page's Host."""
    path = urlsplit(base_url).path
    request = urllib.request.Request(f"http://127.0.0.1:{page.port}{path}/Users",
                                     headers={"Host": f"acme.{BASE_DOMAIN}", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_an_admin_makes_a_scim_token_copies_the_values_and_revokes_it(page, axe, db, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, email="admin@acme.example", page=page)
    page.goto(url(page, "/portal/api"))
    page.get_by_role("link", name="Provisioning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Provisioning (SCIM)")
    expect(page.get_by_text("No token is in force")).to_be_visible()
    page.get_by_role("button", name="Make a token").click()

    base_url = page.locator("#scim-base-url").inner_text()
    token = page.locator("#new-scim-token").inner_text()
    assert base_url == f"http://acme.{BASE_DOMAIN}:{page.port}/scim/v2"
    assert re.fullmatch(r"hfs_scim_[0-9a-f]{12}\.[\w-]{43}", token)
    expect(page.get_by_role("row", name=re.compile("admin@acme.example"))).to_contain_text("Never")
    assert axe(page) == []
    with tenant_context(acme):
        assert token not in str(db.session.scalars(select(ScimToken.secret_hash)).all())

    assert scim_users(page, base_url, token) == (200, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
        "itemsPerPage": 0, "startIndex": 1, "Resources": []})
    page.goto(url(page, "/portal/provisioning"))
    expect(page.locator("#new-scim-token")).to_have_count(0)  # shown once
    assert token not in page.content()

    page.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_text("The SCIM token is revoked.")).to_be_visible()
    status, body = scim_users(page, base_url, token)
    assert status == 401 and body["status"] == "401"
    with tenant_context(acme):
        assert db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)).all() == [
            "provisioning.token_create", "provisioning.token_revoke"]
    page.goto(url(page, "/portal/audit"))
    expect(page.get_by_text(re.compile("made a SCIM token"))).to_be_visible()
