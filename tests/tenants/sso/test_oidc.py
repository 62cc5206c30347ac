"""OpenID Connect sign-in against a real provider (npm oidc-provider), and the attacks it must survive."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from joserfc.errors import JoseError
from sqlalchemy import select

from core.rollup.models import Source
from core.tenancy import tenant_context
from tenants.models import Commitment, Member, Role
from tenants.sso import oidc, services
from tenants.sso.models import SsoConnection
from tests.helpers import continues_to, csrf_token, host
from tests.sso_fixtures import ACME_CLIENT, ADA, GRACE, MALLORY, connect_oidc, start_provider

ACME = host("acme")


def sign_in_through(client, provider, account, session=None, base_url=ACME):
    """Click "Sign in with Acme", pass the provider's form; returns the provider's result and our answer."""
    start = client.get("/sso/login", base_url=base_url)
    assert start.status_code == 302, start.get_data(as_text=True)
    result = provider.sign_in(start.location, account["username"], account["password"], session=session)
    assert result.callback_url, result.page[:300]
    return result, client.get(result.callback_url)


def change_query(url: str, **values) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | values
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_of(client) -> str:
    return client.get("/", base_url=ACME).get_data(as_text=True)


def last_error(db, tenant) -> str:
    with tenant_context(tenant):
        return db.session.scalar(select(SsoConnection.last_error)) or ""


def test_an_employee_signs_in_and_commits_in_one_click(client, db, acme, oidc_provider, make_unit):
    paris = make_unit(acme, "Paris office", country="FR")
    assert "Sign in with Acme Corporation" in page_of(client)
    _, answer = sign_in_through(client, oidc_provider, ADA)
    assert answer.status_code == 303 and answer.location == "/"

    page = page_of(client)
    assert "Signed in through Acme Corporation as Ada Lovelace (ada@acme.example)" in page
    assert "Unit: Paris office." in page
    assert '<option selected value="FR">' in page  # the unit's country, ready
    answer = client.post("/", base_url=ACME, data={"csrf_token": csrf_token(page), "gender": "woman",
                                                   "country": "FR", "consent": "y"})
    assert answer.status_code == 303
    with tenant_context(acme):
        commitment = db.session.scalars(select(Commitment)).one()
        assert (commitment.source, commitment.verified, commitment.unit_id) == (Source.SSO, True, paris.id)
    assert "Your commitment is counted" in page_of(client)


def test_the_providers_session_signs_in_again_without_the_form(client, acme, oidc_provider):
    browser = requests.Session()
    first, _ = sign_in_through(client, oidc_provider, ADA, session=browser)
    client.post("/sso/logout", base_url=ACME, data={"csrf_token": csrf_token(page_of(client))})
    assert "Signed in" not in page_of(client)
    again, answer = sign_in_through(client, oidc_provider, ADA | {"password": "never asked"}, session=browser)
    assert first.form_shown and not again.form_shown
    assert answer.location == "/" and "Signed in" in page_of(client)


def test_a_wrong_password_stays_at_the_provider(client, acme, oidc_provider):
    start = client.get("/sso/login", base_url=ACME)
    result = oidc_provider.sign_in(start.location, "ada", "wrong password")
    assert result.callback_url is None
    assert "Invalid username or password" in result.page
    assert "Signed in" not in page_of(client)


def test_a_callback_with_another_state_is_refused(client, db, acme, oidc_provider):
    start = client.get("/sso/login", base_url=ACME)
    result = oidc_provider.sign_in(start.location, "ada", ADA["password"])
    answer = client.get(change_query(result.callback_url, state="forged-state"))
    assert answer.location == "/sso/failed"
    assert "Signed in" not in page_of(client)
    assert "state" in last_error(db, acme).lower()


def test_a_tampered_nonce_is_refused(client, db, acme, oidc_provider):
    start = client.get("/sso/login", base_url=ACME)
    result = oidc_provider.sign_in(change_query(start.location, nonce="attacker-nonce"), "ada", ADA["password"])
    answer = client.get(result.callback_url)
    assert answer.location == "/sso/failed"
    assert "nonce" in last_error(db, acme).lower()
    assert "Signed in" not in page_of(client)


def test_an_expired_id_token_is_refused(client, db, make_tenant, tmp_path):
    late = start_provider(tmp_path, "late-clock", [ACME_CLIENT], clock_offset_seconds=-7200, id_token_ttl=600)
    try:
        acme = make_tenant("acme", "Acme Corporation")
        connect_oidc(acme, late)
        _, answer = sign_in_through(client, late, ADA)
    finally:
        late.stop()
    assert answer.location == "/sso/failed"
    assert "expired" in last_error(db, acme).lower()


def test_an_id_token_issued_to_another_client_is_refused(app, db, make_tenant, tmp_path):
    intranet = {"client_id": "acme-intranet", "client_secret": "intranet-secret-for-tests",
                "redirect_uris": ["http://intranet.acme.example/callback"], "post_logout_redirect_uris": []}
    provider = start_provider(tmp_path, "two-clients", [ACME_CLIENT, intranet])
    try:
        acme = make_tenant("acme", "Acme Corporation")
        connect_oidc(acme, provider)
        id_token, access_token = token_for(provider, intranet, nonce="n-0S6_WzA2Mj")
        with app.test_request_context(base_url=ACME), tenant_context(acme):
            with pytest.raises(JoseError, match="aud|azp"):  # aud is not ours, so azp would have to name us
                oidc.client(services.connection()).parse_id_token(
                    {"id_token": id_token, "access_token": access_token}, nonce="n-0S6_WzA2Mj")
    finally:
        provider.stop()


def token_for(provider, client: dict, nonce: str) -> tuple[str, str]:
    """A real id_token and access token for ``client``, through the provider's code flow with PKCE."""
    metadata = requests.get(provider.discovery_url, timeout=10).json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = metadata["authorization_endpoint"] + "?" + urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": client["redirect_uris"][0],
        "scope": "openid email", "state": "s", "nonce": nonce, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    result = provider.sign_in(authorize, "ada", ADA["password"])
    code = parse_qs(urlsplit(result.callback_url).query)["code"][0]
    tokens = requests.post(metadata["token_endpoint"], timeout=10, auth=(client["client_id"], client["client_secret"]),
                           data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                                 "redirect_uri": client["redirect_uris"][0]}).json()
    return tokens["id_token"], tokens["access_token"]


def test_a_redirect_uri_the_provider_does_not_know_gets_no_code(client, db, make_tenant, oidc_provider):
    rogue = make_tenant("rogue", "Rogue Ltd")
    connect_oidc(rogue, oidc_provider)  # borrows Acme's client, whose redirect URI is Acme's only
    start = client.get("/sso/login", base_url=host("rogue"))
    result = oidc_provider.sign_in(start.location, "ada", ADA["password"])
    assert result.callback_url is None
    assert "redirect_uri" in result.page
    with tenant_context(rogue):
        assert db.session.scalar(select(Member)) is None


def test_an_address_outside_the_allowed_domains_is_refused_politely(client, db, acme, oidc_provider):
    _, answer = sign_in_through(client, oidc_provider, MALLORY)
    assert answer.location == "/sso/failed"
    page = client.get("/sso/failed", base_url=ACME)
    assert page.status_code == 403
    assert "not one your organisation lets join here" in page.get_data(as_text=True)
    assert "mallory@gmail.com is outside the allowed domains (acme.example)" in last_error(db, acme)
    with tenant_context(acme):
        assert db.session.scalar(select(Member)) is None


def test_the_admin_group_opens_the_portal_and_others_are_refused(client, db, acme, oidc_provider, app):
    sign_in_through(client, oidc_provider, ADA)
    assert client.get("/portal/dashboard", base_url=ACME).status_code == 200
    colleague = app.test_client()
    sign_in_through(colleague, oidc_provider, GRACE)
    assert colleague.get("/portal/dashboard", base_url=ACME).status_code == 403
    with tenant_context(acme):
        roles = dict(db.session.execute(select(Member.email, Member.role)).all())
    assert roles == {"ada@acme.example": Role.ADMIN, "grace@acme.example": Role.MEMBER}


def test_an_unknown_unit_goes_to_the_default_unit_and_is_listed(client, db, acme, oidc_provider, make_unit):
    make_unit(acme, "Paris office")
    elsewhere = make_unit(acme, "Everyone else", country=None)
    with tenant_context(acme):
        services.connection().default_unit_id = elsewhere.id
        db.session.commit()
    sign_in_through(client, oidc_provider, GRACE)
    with tenant_context(acme):
        assert db.session.scalars(select(Member)).one().unit_id == elsewhere.id
    sign_in_through(client, oidc_provider, ADA)  # an admin
    portal = client.get("/portal/sso", base_url=ACME).get_data(as_text=True)
    assert "Submarine research" in portal


def test_another_tenants_callback_signs_nobody_in(client, db, make_tenant, acme, oidc_provider, tmp_path):
    globex_client = {**ACME_CLIENT, "client_id": "globex-heforshe",
                     "redirect_uris": [f"{host('globex')}/sso/oidc/callback"]}
    globex_provider = start_provider(tmp_path, "globex-idp", [globex_client])
    try:
        globex = make_tenant("globex", "Globex")
        connect_oidc(globex, globex_provider, globex_client,
                     services.Mapping("email", "name", None, "groups", None, ["globex.example"], None))
        client.get("/sso/login", base_url=host("globex"))  # a sign-in under way on Globex, too
        start = client.get("/sso/login", base_url=ACME)
        result = oidc_provider.sign_in(start.location, "ada", ADA["password"])
        stolen = result.callback_url.replace(ACME, host("globex"))
        answer = client.get(stolen)
    finally:
        globex_provider.stop()
    assert answer.location == "/sso/failed"
    with tenant_context(globex):
        assert db.session.scalar(select(Member)) is None


def test_a_session_signed_in_on_acme_is_void_on_another_host(client, app, make_tenant, acme, oidc_provider):
    make_tenant("globex", "Globex")
    sign_in_through(client, oidc_provider, ADA)
    cookie = client.get_cookie("session", domain="acme.hfs.test")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value, domain="globex.hfs.test")
    assert "Signed in" not in thief.get("/", base_url=host("globex")).get_data(as_text=True)
    assert thief.get("/portal/", base_url=host("globex")).status_code == 302


def test_a_provider_that_cannot_be_reached_is_explained_to_the_admin(client, db, make_tenant, oidc_provider):
    acme = make_tenant("acme", "Acme Corporation")
    connect_oidc(acme, oidc_provider)
    oidc_provider.stop()
    answer = client.get("/sso/login", base_url=ACME)
    assert answer.location == "/sso/failed"
    assert "not working at the moment" in client.get("/sso/failed", base_url=ACME).get_data(as_text=True)
    assert "/.well-known/openid-configuration could not be read" in last_error(db, acme)


@pytest.mark.parametrize("moment", ["discovery", "token exchange"])
def test_where_identity_providers_must_be_public_a_loopback_one_is_not_reached(app, client, db, acme, oidc_provider,
                                                                               moment):
    """The production policy covers authlib's own requests (discovery, keys, token, userinfo), not only the
    settings page's check: the OpenID provider here listens on the loopback."""
    if moment == "discovery":
        app.config["OUTBOUND_ALLOW_PRIVATE"] = False
        answer = client.get("/sso/login", base_url=ACME)
    else:
        start = client.get("/sso/login", base_url=ACME)
        result = oidc_provider.sign_in(start.location, "ada", ADA["password"])
        app.config["OUTBOUND_ALLOW_PRIVATE"] = False
        answer = client.get(result.callback_url)
    assert answer.location == "/sso/failed"
    assert "not working at the moment" in client.get("/sso/failed", base_url=ACME).get_data(as_text=True)
    error = last_error(db, acme)
    assert "could not be" in error and "127.0.0.1" in error  # the configured issuer: the admin knows it anyway
    assert "Errno" not in error and "InvalidIPAddress" not in error and "refused" not in error
    with tenant_context(acme):
        assert db.session.scalar(select(Member)) is None


def test_signing_out_offers_the_providers_own_sign_out(client, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    page = client.post("/sso/logout", base_url=ACME, data={"csrf_token": csrf_token(page_of(client))})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "You are signed out" in body
    assert f'href="{oidc_provider.issuer}/session/end?' in body.replace("&amp;", "&")
    assert "id_token_hint=" in body
    assert "Signed in" not in page_of(client)


def test_signing_out_needs_the_csrf_token(client, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    assert client.post("/sso/logout", base_url=ACME).status_code == 400
    assert "Signed in" in page_of(client)


def test_a_work_address_on_the_global_page_goes_to_its_organisations_sign_in(client, db, acme):
    with tenant_context(acme):
        services.prove_domain(acme, "acme.example")
        db.session.commit()
    page = client.get("/", base_url=host()).get_data(as_text=True)
    answer = client.post("/sso/discover", base_url=host(), data={"csrf_token": csrf_token(page),
                                                                 "email": "Ada@ACME.example"})
    assert continues_to(answer) == f"{ACME}/sso/login?login_hint=Ada%40ACME.example"


def test_other_addresses_go_on_with_the_public_pages(client, acme):
    page = client.get("/", base_url=host()).get_data(as_text=True)
    answer = client.post("/sso/discover", base_url=host(), data={"csrf_token": csrf_token(page),
                                                                 "email": "sam@example.org"})
    assert answer.status_code == 200
    assert "No partner organisation signs in with this address" in answer.get_data(as_text=True)
    invalid = client.post("/sso/discover", base_url=host(), data={"csrf_token": csrf_token(page), "email": "sam"})
    assert invalid.status_code == 400
    assert "Please enter a valid email address" in invalid.get_data(as_text=True)


def test_sign_in_goes_on_working_after_the_provider_rotates_its_signing_key(client, acme, oidc_provider):
    _, first = sign_in_through(client, oidc_provider, ADA)
    assert first.location == "/"  # the provider's keys are now cached with its discovery document
    client.post("/sso/logout", base_url=ACME, data={"csrf_token": csrf_token(page_of(client))})
    old_kids = signing_kids(oidc_provider)
    oidc_provider.rotate_signing_key()
    assert signing_kids(oidc_provider).isdisjoint(old_kids)  # the old key is gone, not merely joined by a new one
    _, again = sign_in_through(client, oidc_provider, ADA)
    assert again.location == "/"  # the token's unknown kid made authlib read the keys again
    assert "Signed in through Acme Corporation" in page_of(client)


def signing_kids(provider) -> set[str]:
    jwks_uri = requests.get(provider.discovery_url, timeout=10).json()["jwks_uri"]
    return {key["kid"] for key in requests.get(jwks_uri, timeout=10).json()["keys"]}


def test_a_worker_reads_the_providers_discovery_and_keys_again_after_a_day(app, client, acme, oidc_provider):
    def discovery_reads() -> int:
        return oidc_provider.log_path.read_text().count("GET /.well-known/openid-configuration")

    sign_in_through(client, oidc_provider, ADA)
    sign_in_through(client, oidc_provider, ADA)
    assert discovery_reads() == 1
    with app.test_request_context(base_url=ACME), tenant_context(acme):
        metadata = oidc.client(services.connection()).server_metadata
        metadata["_loaded_at"] -= oidc.METADATA_MAX_AGE_SECONDS + 1
    _, answer = sign_in_through(client, oidc_provider, ADA)
    assert answer.location == "/" and discovery_reads() == 2


def test_an_app_launcher_tile_starts_a_sign_in_of_our_own(client, acme, oidc_provider):
    """Entra My Apps or the Okta dashboard send the employee to the initiate login URI, naming the issuer."""
    start = client.get("/sso/oidc/initiate", base_url=ACME, query_string={
        "iss": oidc_provider.issuer, "login_hint": "ada@acme.example",
        "target_link_uri": f"{ACME}/map"})
    assert start.status_code == 302 and start.location.startswith(oidc_provider.issuer)
    assert parse_qs(urlsplit(start.location).query)["login_hint"] == ["ada@acme.example"]
    result = oidc_provider.sign_in(start.location, ADA["username"], ADA["password"])
    answer = client.get(result.callback_url)
    assert answer.status_code == 303 and answer.location == "/map"
    assert "Signed in through Acme Corporation as Ada Lovelace" in page_of(client)


def test_an_app_launcher_naming_another_issuer_or_site_goes_nowhere_else(client, acme, oidc_provider):
    other = client.get("/sso/oidc/initiate", base_url=ACME, query_string={"iss": "https://login.evil.example"})
    assert other.status_code == 303 and other.location == "/sso/failed"
    elsewhere = client.get("/sso/oidc/initiate", base_url=ACME, query_string={
        "iss": oidc_provider.issuer, "target_link_uri": "https://evil.example/steal"})
    result = oidc_provider.sign_in(elsewhere.location, ADA["username"], ADA["password"])
    assert client.get(result.callback_url).location == "/", "only a page of this site is returned to"
