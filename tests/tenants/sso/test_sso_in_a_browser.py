"""Single sign-on in a real browser: every step that crosses to another site (home-realm discovery, the
identity provider's sign-in, "test connection", the provider's own sign-out). Only a browser enforces the
Content-Security-Policy's form-action on the redirects that follow a form, and leaves a SameSite=Lax cookie
off the identity provider's cross-site POST; an HTTP client does neither."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from core.tenancy import tenant_context
from tenants.models import Role, TenantKind
from tenants.sso import services
from tests.conftest import cannot_run
from tests.helpers import BASE_DOMAIN
from tests.idp import saml
from tests.sso_fixtures import ACME_CLIENT, ADA, ALICE, BRUNO, GRACE, connect_oidc, connect_saml, start_provider


def site(page, slug: str | None = None) -> str:
    return f"http://{slug + '.' if slug else ''}{BASE_DOMAIN}:{page.port}"


@pytest.fixture
def acme(page, make_tenant, tmp_path):
    """Acme, whose people sign in through a real OpenID provider that knows this test server's port."""
    client = {**ACME_CLIENT, "redirect_uris": [f"{site(page, 'acme')}/sso/oidc/callback"],
              "post_logout_redirect_uris": [f"{site(page, 'acme')}/"]}
    provider = start_provider(tmp_path, "oidc", [client])
    tenant = make_tenant("acme", "Acme Corporation")
    connect_oidc(tenant, provider, client)
    yield tenant
    provider.stop()


@pytest.fixture
def northfield(page, make_tenant, sp_credentials, tmp_path):
    """Northfield University, whose students sign in through SimpleSAMLphp, which knows this test server's port."""
    if reason := saml.unavailable():
        cannot_run("php", reason)
    url = site(page, "northfield")
    idp = saml.start_simplesamlphp(tmp_path / "simplesamlphp", [{
        "entity_id": f"{url}/sso/saml/metadata", "acs_url": f"{url}/sso/saml/acs", "sls_url": f"{url}/sso/saml/sls",
        "certificate": sp_credentials[0]}], [ALICE, BRUNO])
    tenant = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    connect_saml(tenant, idp.metadata_xml, sp_credentials)
    yield tenant
    idp.stop()


def sign_in_at_the_provider(page, user: dict) -> None:
    page.get_by_label("Username").fill(user["username"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in").click()


def sign_in_at_simplesamlphp(page, user: dict) -> None:
    page.locator("input[name=username]").fill(user["username"])
    page.locator("input[name=password]").fill(user["password"])
    page.locator("input[name=password]").press("Enter")  # the answer then posts itself to our ACS


@pytest.mark.both_databases
def test_sign_in_with_acme_then_one_click_commitment(page, axe, acme, make_unit):
    make_unit(acme, "Paris office", country="FR")
    page.goto(site(page, "acme") + "/")
    # The organisation's sign-in is the way in (the header does not repeat it); the email form waits behind an "or".
    expect(page.locator(".site-header").get_by_role("link", name="Sign in with Acme Corporation")).to_have_count(0)
    expect(page.get_by_label("Email")).to_be_hidden()
    page.get_by_text("or commit with your email address").click()
    expect(page.get_by_label("Email")).to_be_visible()
    assert axe(page) == []
    page.locator("main").get_by_role("link", name="Sign in with Acme Corporation").click()
    sign_in_at_the_provider(page, ADA)

    expect(page.locator(".signed-in")).to_contain_text("Signed in through Acme Corporation as Ada Lovelace")
    expect(page.get_by_label("Country")).to_have_value("FR")
    assert axe(page) == []
    page.get_by_label("Woman", exact=True).check()
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="I commit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Ada")

    page.goto(site(page, "acme") + "/portal/sso")  # Ada is in the admins' group
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in settings")
    expect(page.get_by_text(f"{site(page, 'acme')}/sso/oidc/callback")).to_be_visible()
    assert axe(page) == []


def test_continue_on_the_global_page_leads_to_the_organisations_sign_in(page, axe, acme, db):
    with tenant_context(acme):
        services.prove_domain(acme, "acme.example")  # discovery follows proven domains only
        db.session.commit()
    page.goto(site(page) + "/")
    page.get_by_label("Email").fill("ada@acme.example")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Username")).to_be_visible()  # the identity provider's own form
    sign_in_at_the_provider(page, ADA)
    expect(page).to_have_url(site(page, "acme") + "/")
    expect(page.locator(".signed-in")).to_contain_text("as Ada Lovelace")


def test_signing_out_of_acme_also_signs_out_at_the_provider_and_comes_back(page, acme):
    page.goto(site(page, "acme") + "/sso/login")
    sign_in_at_the_provider(page, ADA)
    expect(page.locator(".signed-in")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    page.get_by_role("link", name="Sign out of Acme Corporation's sign-in too").click()
    page.get_by_role("button", name=re.compile("Yes", re.I)).click()  # the provider asks first
    expect(page).to_have_url(re.compile(rf"^{re.escape(site(page, 'acme'))}/(\?state=.*)?$"))  # home again
    page.goto(site(page, "acme") + "/sso/login")  # the provider forgot Ada: it asks for her password again
    expect(page.get_by_label("Password")).to_be_visible()


def test_a_student_signs_in_through_simplesamlphp_and_signs_out_there_too(page, axe, northfield):
    page.goto(site(page, "northfield") + "/")
    page.get_by_role("link", name="Sign in with Northfield University").first.click()
    sign_in_at_simplesamlphp(page, ALICE)
    expect(page.locator(".signed-in")).to_contain_text("Signed in through Northfield University as Alice Moreau")
    assert axe(page) == []

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign out of Northfield University's sign-in too").click()
    expect(page).to_have_url(site(page, "northfield") + "/")
    expect(page.locator(".signed-in")).to_have_count(0)
    page.get_by_role("link", name="Sign in with Northfield University").first.click()
    expect(page.locator("input[name=password]")).to_be_visible()  # signed out at the IdP as well


def test_test_connection_shows_the_admin_what_the_openid_provider_sent(page, axe, db, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, page=page)
    page.goto(site(page, "acme") + "/portal/sso")
    page.get_by_role("button", name="Test connection").click()
    sign_in_at_the_provider(page, GRACE)
    expect(page).to_have_url(site(page, "acme") + "/portal/sso#test-result")
    result = page.locator("section", has=page.get_by_role("heading", name="Test connection"))
    expect(result).to_contain_text("grace@acme.example")
    expect(result).to_contain_text("Submarine research")
    assert axe(page) == []
    expect(page.get_by_text("Signed in as grace", exact=False)).to_have_count(0)  # the admin is still the admin


def test_test_connection_shows_the_admin_what_simplesamlphp_sent(page, axe, db, northfield, sign_in_as):
    sign_in_as(northfield, Role.ADMIN, email="registrar@northfield.edu", page=page)
    page.goto(site(page, "northfield") + "/portal/sso")
    page.get_by_role("button", name="Test connection").click()
    sign_in_at_simplesamlphp(page, ALICE)
    expect(page).to_have_url(site(page, "northfield") + "/portal/sso#test-result")
    result = page.locator("section", has=page.get_by_role("heading", name="Test connection"))
    expect(result).to_contain_text("alice.moreau@northfield.edu")
    expect(result).to_contain_text("School of Engineering")
    expect(page.get_by_text("Signed in as registrar@northfield.edu")).to_be_visible()
    with tenant_context(northfield):
        assert services.connection().last_test["email"] == "alice.moreau@northfield.edu"


def test_an_employee_starts_from_the_organisations_app_launcher(page, acme, db, tmp_path):
    """A tile on another site (Entra My Apps, the Okta dashboard) opens the initiate login URI: the sign-in is
    one of ours, and the employee lands on the page the tile names, signed in."""
    with tenant_context(acme):
        issuer = services.connection().oidc_issuer
    tile = f"{site(page, 'acme')}/sso/oidc/initiate?" + urlencode(
        {"iss": issuer, "login_hint": "ada@acme.example", "target_link_uri": f"{site(page, 'acme')}/map"})
    (tmp_path / "apps.html").write_text(f'<!doctype html><title>My Apps</title><a href="{tile}">Acme HeForShe</a>')
    launcher = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=launcher.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{launcher.server_port}/apps.html")
        page.get_by_role("link", name="Acme HeForShe").click()
        sign_in_at_the_provider(page, ADA)
        expect(page).to_have_url(f"{site(page, 'acme')}/map")
        expect(page.locator(".account")).to_contain_text("Signed in as Ada Lovelace")
    finally:
        launcher.shutdown()
