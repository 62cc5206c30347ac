"""API keys in the portal, in a real browser: made, shown once, used, revoked."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from playwright.sync_api import expect
from sqlalchemy import select

from core.tenancy import tenant_context
from tenant_portal.api.models import ApiKey
from tenant_portal.models import AuditEntry
from tenants.models import Role
from tests.helpers import BASE_DOMAIN
from tests.tenant_portal.api_fixtures import make_key  # noqa: F401 (a fixture)


def url(page, path):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def api_status(page, token: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{page.port}/api/v1/stats",
                                     headers={"Host": f"acme.{BASE_DOMAIN}", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_admin_makes_a_key_sees_it_once_and_revokes_it(page, axe, db, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, email="admin@acme.example", page=page)
    page.goto(url(page, "/portal/api"))
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
    page.get_by_role("button", name="Make the key").click()
    expect(page.get_by_role("alert")).to_contain_text("Please name the key")
    page.get_by_label("Name").fill("HR portal")
    page.get_by_label("Read the counts").check()
    page.get_by_role("button", name="Make the key").click()

    token = page.locator("#new-key-token").inner_text()
    assert re.fullmatch(r"hfs_[0-9a-f]{12}\.[\w-]{43}", token)
    row = page.get_by_role("row", name=re.compile("HR portal"))
    expect(row).to_contain_text("Read the counts")
    expect(row).to_contain_text("admin@acme.example")
    expect(row).to_contain_text("Never")
    assert axe(page) == []
    with tenant_context(acme):
        assert token not in str(db.session.scalars(select(ApiKey.secret_hash)).all())

    assert api_status(page, token) == 200
    page.goto(url(page, "/portal/api"))
    expect(page.locator("#new-key-token")).to_have_count(0)  # shown once
    assert token not in page.content()
    expect(page.get_by_role("row", name=re.compile("HR portal"))).not_to_contain_text("Never")  # last used

    page.get_by_role("button", name="Revoke HR portal").click()
    expect(page.get_by_text("The key “HR portal” is revoked.")).to_be_visible()
    expect(page.get_by_text("No key is in force.")).to_be_visible()
    assert api_status(page, token) == 401
    with tenant_context(acme):
        assert db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)).all() == [
            "api.key_create", "api.key_revoke"]
    page.goto(url(page, "/portal/audit"))
    expect(page.get_by_text(re.compile("made the API key “HR portal”"))).to_be_visible()
    assert page.hosts_asked == {f"acme.{BASE_DOMAIN}"}


def test_a_viewer_sees_the_keys_but_cannot_make_one(page, make_tenant, make_key, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_key(acme, name="Intranet")
    sign_in_as(acme, Role.VIEWER, page=page)
    page.goto(url(page, "/portal/api"))
    expect(page.get_by_role("row", name=re.compile("Intranet"))).to_be_visible()
    expect(page.get_by_role("button", name="Make the key")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Revoke"))).to_have_count(0)
