"""The portal's sign-in settings and the break-glass admin sign-in."""

from __future__ import annotations

import html
import re

import pyotp
import requests
from cryptography.fernet import Fernet
from playwright.sync_api import expect
from sqlalchemy import select

from core import crypto
from core.tenancy import tenant_context
from tenants.models import Member, Role
from tenants.sso import break_glass, services
from tests.helpers import BASE_DOMAIN, continues_to, csrf_token, host
from tests.sso_fixtures import ACME_CLIENT, ADA, connect_oidc, start_provider
from tests.tenants.sso.test_oidc import sign_in_through

ACME = host("acme")


def settings_form(oidc_provider, **changes) -> dict:
    form = {"protocol": "oidc", "enabled": "y", "oidc_issuer": oidc_provider.issuer,
            "oidc_client_id": ACME_CLIENT["client_id"], "oidc_client_secret": ACME_CLIENT["client_secret"],
            "oidc_scopes": "openid email profile groups", "claim_email": "email", "claim_name": "name",
            "claim_unit": "department", "claim_groups": "groups", "admin_group": "heforshe-admins",
            "allowed_domains": "acme.example\nacme-labs.example"}
    return form | changes


def test_an_admin_changes_the_settings_and_they_apply_at_once(client, db, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    page = client.get("/portal/sso", base_url=ACME).get_data(as_text=True)
    assert f"{ACME}/sso/oidc/callback" in page  # ready to copy to the provider
    assert f"{ACME}/sso/saml/acs" in page
    saved = client.post("/portal/sso", base_url=ACME, data=settings_form(
        oidc_provider, csrf_token=csrf_token(page), oidc_client_secret="", admin_group="other-admins"))
    assert saved.status_code == 303
    with tenant_context(acme):
        conn = services.connection()
        assert conn.admin_group == "other-admins"
        assert conn.allowed_domains == ["acme-labs.example", "acme.example"]
        assert crypto.decrypt(conn.oidc_client_secret) == ACME_CLIENT["client_secret"]  # kept, still encrypted
        assert ACME_CLIENT["client_secret"] not in conn.oidc_client_secret
    assert "The sign-in settings are saved" in client.get("/portal/sso", base_url=ACME).get_data(as_text=True)


def test_bad_settings_are_explained_and_nothing_changes(client, db, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    page = client.get("/portal/sso", base_url=ACME, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    refused = client.post("/portal/sso", base_url=ACME, headers={"Accept-Language": "fr"}, data=settings_form(
        oidc_provider, csrf_token=csrf_token(page), oidc_issuer="http://127.0.0.1:9/nowhere",
        allowed_domains="gmail.com"))
    assert refused.status_code == 400
    assert "127.0.0.1:9/nowhere/.well-known/openid-configuration" in refused.get_data(as_text=True)
    with tenant_context(acme):
        assert services.connection().oidc_issuer == oidc_provider.issuer


def test_test_connection_shows_what_the_provider_sent_without_signing_anyone_in(client, db, acme, oidc_provider):
    browser_at_the_provider = requests.Session()
    sign_in_through(client, oidc_provider, ADA, session=browser_at_the_provider)
    page = client.get("/portal/sso", base_url=ACME).get_data(as_text=True)
    test = client.post("/portal/sso/test", base_url=ACME, data={"csrf_token": csrf_token(page)})
    result = oidc_provider.sign_in(continues_to(test), "ada", ADA["password"], session=browser_at_the_provider)
    back = client.get(result.callback_url)
    assert back.location == "/portal/sso#test-result"
    shown = client.get("/portal/sso", base_url=ACME).get_data(as_text=True)
    assert "Paris office" in shown and "heforshe-admins" in shown and "ada@acme.example" in shown


def test_the_portal_is_for_admins_of_this_tenant_only(client, db, acme, oidc_provider, make_tenant):
    assert client.get("/portal/", base_url=ACME).location.startswith("/portal/sign-in")
    assert client.get("/portal/sso", base_url=ACME).location.startswith("/portal/sign-in")
    assert client.post("/portal/sso", base_url=ACME).status_code == 302
    sign_in_through(client, oidc_provider, ADA)
    make_tenant("globex", "Globex")
    assert client.get("/portal/sso", base_url=host("globex")).status_code == 302  # not signed in there


def test_break_glass_is_off_unless_the_operator_turns_it_on(client, db, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page = client.get("/portal/sign-in", base_url=ACME).get_data(as_text=True)
    assert 'name="password"' not in page
    assert "not set up yet" in page


def test_break_glass_needs_password_and_a_current_code_and_locks_after_five_tries(client, app, db, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    result = app.test_cli_runner().invoke(args=["sso", "break-glass", "acme", "--email", "root@acme.example",
                                                "--password", "a long break-glass password"])
    assert result.exit_code == 0, result.output
    secret = pyotp.parse_uri(result.output.strip().splitlines()[-1]).secret
    with tenant_context(acme):
        stored = db.session.scalar(select(Member.totp_secret))
        assert secret not in stored and crypto.decrypt(stored) == secret

    def attempt(password, code):
        page = client.get("/portal/sign-in", base_url=ACME).get_data(as_text=True)
        return client.post("/portal/sign-in", base_url=ACME, data={
            "csrf_token": csrf_token(page), "email": "root@acme.example", "password": password, "code": code})

    wrong = attempt("a long break-glass password", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert "These details are not right" in wrong.get_data(as_text=True)
    assert attempt("a long break-glass password", pyotp.TOTP(secret).now()).location == "/portal/"
    assert client.get("/portal/", base_url=ACME).location == "/portal/dashboard"
    assert client.get("/portal/dashboard", base_url=ACME).status_code == 200

    client.post("/sso/logout", base_url=ACME, data={"csrf_token": csrf_token(
        client.get("/portal/dashboard", base_url=ACME).get_data(as_text=True))})
    for _ in range(break_glass.MAX_FAILURES):
        attempt("wrong password!", pyotp.TOTP(secret).now())
    locked = attempt("a long break-glass password", pyotp.TOTP(secret).now())
    assert "locked" in locked.get_data(as_text=True)
    assert client.get("/portal/", base_url=ACME).status_code == 302


def use_keys(app, keys: str) -> None:
    app.config["ENCRYPTION_KEYS"] = keys
    app.extensions.pop("secrets_ring", None)


def test_a_key_rotation_re_encrypts_every_secret(app, db, make_tenant, oidc_provider):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    use_keys(app, old)
    acme = make_tenant("acme", "Acme Corporation")
    connect_oidc(acme, oidc_provider)
    use_keys(app, f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["sso", "rotate-keys"])
    assert result.exit_code == 0 and "Re-encrypted 1 secrets" in result.output
    use_keys(app, new)  # the old key is gone: the secret still reads
    with tenant_context(acme):
        assert crypto.decrypt(services.connection().oidc_client_secret) == ACME_CLIENT["client_secret"]


def fill_in_for(client, provider_key: str, **fields):
    page = client.get("/portal/sso", base_url=ACME).get_data(as_text=True)
    return client.post("/portal/sso", base_url=ACME, data={
        "csrf_token": csrf_token(page), "preset": provider_key, "fill": "Fill in its usual settings",
        "claim_email": "", "claim_groups": "", **fields})


def field_value(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert found, name
    value = re.search(r'\bvalue="([^"]*)"', found.group(0))
    return html.unescape(value.group(1)) if value else ""


def test_choosing_entra_id_fills_its_claims_and_warns_about_group_ids(client, db, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    filled = fill_in_for(client, "entra", admin_group="0b5c8a4e-admins")
    page = filled.get_data(as_text=True)
    assert filled.status_code == 200
    assert (field_value(page, "claim_email"), field_value(page, "claim_groups")) == ("email", "groups")
    assert field_value(page, "oidc_scopes") == "openid email profile"  # Entra's groups come from token configuration
    assert "sends groups as object IDs" in page and "overage" in page
    assert field_value(page, "admin_group") == "0b5c8a4e-admins"  # what the admin typed stays
    with tenant_context(acme):
        assert services.connection().claim_unit == "department"  # filling saves nothing


def test_okta_asks_for_the_groups_scope_only_where_an_admin_group_is_set(client, db, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    with_group = fill_in_for(client, "okta", admin_group="HeForShe-admins").get_data(as_text=True)
    without = fill_in_for(client, "okta", admin_group="").get_data(as_text=True)
    assert field_value(with_group, "oidc_scopes") == "openid email profile groups"
    assert field_value(without, "oidc_scopes") == "openid email profile"


def test_shibboleth_fills_the_university_attribute_names(client, db, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    page = fill_in_for(client, "shibboleth").get_data(as_text=True)
    assert field_value(page, "claim_email") == "urn:oid:0.9.2342.19200300.100.1.3"
    assert field_value(page, "claim_unit") == "urn:oid:2.5.4.11"
    assert re.search(r'<input[^>]*checked[^>]*value="saml"|<input[^>]*value="saml"[^>]*checked', page)


def test_the_page_shows_the_sign_out_redirect_and_the_intranet_tile_address(client, db, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    page = client.get("/portal/sso", base_url=ACME).get_data(as_text=True)
    assert f"<code>{ACME}/</code>" in page  # where the provider sends people back after signing out
    tile = re.search(r"<code>([^<]*/sso/login)</code>", page).group(1)
    assert tile == f"{ACME}/sso/login"
    start = client.get(tile)
    assert start.status_code == 302 and start.location.startswith(oidc_provider.issuer)


def test_a_token_for_another_audience_is_explained_to_the_admin(client, db, make_tenant, sign_in_as, tmp_path):
    # Two audiences and no azp: authlib says "Missing claim: 'azp'", which tells an admin nothing.
    provider = start_provider(tmp_path, "two-audiences", [
        ACME_CLIENT | {"id_token_audience": [ACME_CLIENT["client_id"], "acme-intranet"]}])
    try:
        acme = make_tenant("acme", "Acme Corporation")
        connect_oidc(acme, provider)
        _, answer = sign_in_through(client, provider, ADA)
    finally:
        provider.stop()
    assert answer.location == "/sso/failed"
    sign_in_as(acme, email="root@acme.example", client=client)
    page = client.get("/portal/sso", base_url=ACME, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "issued the sign-in token to another application" in page
    assert "Application (client) ID" in page
    assert "Missing claim: &#39;azp&#39;" in page  # the technical detail stays available, folded away


def test_in_a_browser_choosing_entra_id_fills_the_form_and_shows_its_warning(page, axe, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, page=page)
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/portal/sso")
    assert axe(page) == []
    page.get_by_label("Group whose members are admins here").fill("0b5c8a4e-admins")
    page.get_by_label("Your identity provider", exact=True).select_option(label="Microsoft Entra ID")
    page.get_by_role("button", name="Fill in its usual settings").click()
    expect(page.get_by_role("status")).to_contain_text("sends groups as object IDs")
    expect(page.get_by_label("Email claim or attribute")).to_have_value("email")
    expect(page.get_by_label("Groups claim or attribute")).to_have_value("groups")
    expect(page.get_by_label("Group whose members are admins here")).to_have_value("0b5c8a4e-admins")
    assert axe(page) == []
