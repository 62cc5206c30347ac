"""Portal sessions end when they should (sign-out, role change, removal, admin-group loss), an emailed link to
one's own page opens that page only and works once, and signed-in pages are never stored by a browser or proxy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.tenancy import tenant_context
from tenants.models import Member, Role
from tenants.services.members import find_or_create_member
from tenants.sso import services as sso
from tests.helpers import BASE_DOMAIN, csrf_token, host
from tests.sso_fixtures import ADA, connect_oidc
from tests.tenants.sso.test_oidc import sign_in_through

ACME = host("acme")
DOMAIN = f"acme.{BASE_DOMAIN}"


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation")


def copy_of_cookie(app, client):
    """Another browser holding a copy of ``client``'s session cookie as it is now."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session", domain=DOMAIN).value, domain=DOMAIN)
    return thief


def sign_out(client):
    token = csrf_token(client.get("/me", base_url=ACME).get_data(as_text=True))
    assert client.post("/sso/logout", base_url=ACME, data={"csrf_token": token}).status_code == 200


def opens_the_portal(client) -> bool:
    return client.get("/portal/dashboard", base_url=ACME).status_code == 200


def test_a_cookie_copied_before_sign_out_no_longer_opens_the_portal(client, app, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, client=client)
    copy = copy_of_cookie(app, client)
    assert opens_the_portal(copy)
    sign_out(client)
    assert not opens_the_portal(copy)
    assert copy.get("/portal/dashboard", base_url=ACME).location.startswith("/portal/sign-in")


def test_a_cookie_copied_before_a_role_change_no_longer_opens_the_portal(client, app, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, client=client)
    colleague = app.test_client()
    colleague_id = sign_in_as(acme, Role.ADMIN, client=colleague)
    copy = copy_of_cookie(app, colleague)
    token = csrf_token(client.get("/portal/members", base_url=ACME).get_data(as_text=True))
    client.post(f"/portal/members/{colleague_id}/role", base_url=ACME, data={"csrf_token": token, "role": "viewer"})
    assert not opens_the_portal(copy)
    assert not opens_the_portal(colleague)
    assert opens_the_portal(client)  # the admin who made the change goes on


def test_a_cookie_copied_before_removal_no_longer_opens_the_portal(client, app, db, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, client=client)
    colleague = app.test_client()
    colleague_id = sign_in_as(acme, Role.ADMIN, email="bob@acme.example", client=colleague)
    copy = copy_of_cookie(app, colleague)
    token = csrf_token(client.get(f"/portal/members/{colleague_id}/remove", base_url=ACME).get_data(as_text=True))
    assert client.post(f"/portal/members/{colleague_id}/remove", base_url=ACME,
                       data={"csrf_token": token}).status_code == 303
    with tenant_context(acme):  # the same address joins again: a new member, not the old session's
        find_or_create_member("bob@acme.example").role = Role.ADMIN
        db.session.commit()
    assert not opens_the_portal(copy)


def test_a_session_ends_when_the_identity_provider_takes_the_admin_group_away(client, app, db, acme, oidc_provider):
    connect_oidc(acme, oidc_provider)
    sign_in_through(client, oidc_provider, ADA)
    copy = copy_of_cookie(app, client)
    assert opens_the_portal(copy)
    with tenant_context(acme):
        sso.connection().admin_group = "heforshe-owners"  # Ada is no longer in the admin group
        db.session.commit()
    sign_in_through(app.test_client(), oidc_provider, ADA)  # her next sign-in tells us
    assert "Signed in" not in copy.get("/", base_url=ACME).get_data(as_text=True)
    assert "Signed in" not in client.get("/", base_url=ACME).get_data(as_text=True)
    with tenant_context(acme):
        assert db.session.scalars(select(Member.role)).one() is Role.MEMBER


def test_portal_and_own_pages_are_never_stored(client, acme, sign_in_as):
    assert "no-store" in client.get("/me", base_url=ACME).headers.get("Cache-Control", "")
    assert "no-store" in client.get("/portal/sign-in", base_url=ACME).headers.get("Cache-Control", "")
    sign_in_as(acme, Role.ADMIN, client=client)
    for path in ("/me", "/portal/", "/portal/dashboard", "/portal/members", "/portal/audit", "/portal/sso"):
        response = client.get(path, base_url=ACME)
        assert response.status_code in (200, 302), path
        assert "no-store" in response.headers.get("Cache-Control", ""), path


# The emailed link to one's own page ------------------------------------------------------------------------------

def link_for(client, smtp_server, email: str) -> str:
    token = csrf_token(client.get("/me", base_url=ACME).get_data(as_text=True))
    client.post("/me/sign-in-link", base_url=ACME, data={"csrf_token": token, "email": email})
    return smtp_server.link(smtp_server.last_to(email)).removeprefix(ACME)


def follow(client, path: str):
    """Open a sign-in link as a person does: the page, then its button when it has one."""
    page = client.get(path, base_url=ACME)
    if page.status_code != 200:
        return page
    return client.post(path, base_url=ACME, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def add_admin(db, tenant, email: str):
    with tenant_context(tenant):
        find_or_create_member(email).role = Role.ADMIN
        db.session.commit()


def test_an_emailed_link_opens_an_admins_own_page_but_not_the_portal(client, db, acme, smtp_server):
    add_admin(db, acme, "root@acme.example")
    answer = follow(client, link_for(client, smtp_server, "root@acme.example"))
    assert answer.status_code == 303 and answer.location == "/me"
    assert "root@acme.example" in client.get("/me", base_url=ACME).get_data(as_text=True)
    for path in ("/portal/", "/portal/dashboard", "/portal/members", "/portal/sso"):
        assert client.get(path, base_url=ACME).location.startswith("/portal/sign-in"), path
    token = csrf_token(client.get("/me", base_url=ACME).get_data(as_text=True))
    answer = client.post("/portal/members/invitations", base_url=ACME,
                         data={"csrf_token": token, "email": "friend@acme.example", "role": "admin"})
    assert answer.status_code == 302 and smtp_server.messages[-1]["To"] == "root@acme.example"


def test_an_emailed_link_works_once_and_a_mail_scanner_does_not_use_it_up(client, app, db, acme, smtp_server):
    add_admin(db, acme, "root@acme.example")
    path = link_for(client, smtp_server, "root@acme.example")
    assert app.test_client().get(path, base_url=ACME).status_code == 200  # a mail filter opening the link
    assert follow(client, path).location == "/me"
    sign_out(client)
    again = follow(client, path)
    assert again.status_code == 410
    assert "This sign-in link cannot be used" in again.get_data(as_text=True)
    assert "Send me a sign-in link" in client.get("/me", base_url=ACME).get_data(as_text=True)


def test_an_emailed_link_is_not_a_single_sign_on(client, acme, make_commitment, smtp_server):
    make_commitment(acme, "sam@acme.example")
    follow(client, link_for(client, smtp_server, "sam@acme.example"))
    page = client.get("/", base_url=ACME).get_data(as_text=True)
    assert "Signed in through" not in page
    assert 'name="email"' in page


def test_an_emailed_link_in_a_browser_opens_the_own_page_once_and_never_the_portal(page, browser, axe, db, acme,
                                                                                   make_commitment, smtp_server):
    from playwright.sync_api import expect

    make_commitment(acme, "root@acme.example", city="Lyon")
    add_admin(db, acme, "root@acme.example")
    site = f"http://acme.{BASE_DOMAIN}:{page.port}"
    page.goto(site + "/me")
    page.get_by_label("Your email address").fill("root@acme.example")
    page.get_by_role("button", name="Send me a sign-in link").click()
    link = smtp_server.link(smtp_server.last_to("root@acme.example"))
    assert link.startswith(site + "/me/sign-in/")

    page.goto(link)
    assert axe(page) == []
    page.get_by_role("button", name="Open my commitment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your commitment")
    expect(page.locator(".own-commitment")).to_contain_text("Lyon")
    page.goto(site + "/portal/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin sign-in")

    other = browser.new_context().new_page()
    other.goto(link)
    expect(other.get_by_role("heading", level=1)).to_have_text("This sign-in link cannot be used")
    other.context.close()
