"""SAML sign-in: a real SimpleSAMLphp for the journeys, a hostile pysaml2 IdP for the answers we must refuse."""

from __future__ import annotations

import base64
import html
import re
import zlib
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from lxml import etree
from sqlalchemy import select

from core.rollup.models import Source
from core.tenancy import tenant_context
from tenants.models import Commitment, Member, Role, TenantKind, UnitKind
from tenants.sso import services
from tenants.sso.models import SsoConnection
from tests.conftest import cannot_run
from tests.helpers import continues_to, csrf_token, host
from tests.idp import hostile_saml, saml
from tests.sso_fixtures import ALICE, BRUNO, MAIL, SAML_MAPPING, connect_saml, sp_entry

NORTHFIELD = host("northfield")


def sign_in_through(client, idp, user, session=None):
    """The whole journey: our sign-in link, the identity provider's form, its answer posted back to us."""
    start = client.get("/sso/login", base_url=NORTHFIELD)
    assert start.status_code == 302
    result = idp.sign_in(start.location, user["username"], user["password"], session=session)
    assert result.acs_url == f"{NORTHFIELD}/sso/saml/acs", result.page[:500]
    return result, client.post(result.acs_url, data=result.fields)


def test_a_student_signs_in_and_commits_in_one_click(client, db, northfield, simplesamlphp, make_unit):
    engineering = make_unit(northfield, "School of Engineering", kind=UnitKind.FACULTY, country="GB")
    _, answer = sign_in_through(client, simplesamlphp, ALICE)
    assert answer.status_code == 303 and answer.location == "/"

    page = client.get("/", base_url=NORTHFIELD).get_data(as_text=True)
    assert "Signed in through Northfield University as Alice Moreau" in page
    assert "Unit: School of Engineering." in page
    assert 'name="email"' not in page  # the identity provider gave it

    committed = client.post("/", base_url=NORTHFIELD, data={
        "csrf_token": csrf_token(page), "gender": "woman", "country": "GB", "consent": "y"})
    assert committed.status_code == 303
    with tenant_context(northfield):
        commitment = db.session.scalars(select(Commitment)).one()
        assert (commitment.source, commitment.verified) == (Source.SSO, True)
        # A faculty is the student's department: the commitment names no campus.
        assert (commitment.unit_id, commitment.department_id) == (None, engineering.id)
        assert commitment.member.email == "alice.moreau@northfield.edu"


def test_the_identity_providers_session_signs_in_again_without_a_password(client, northfield, simplesamlphp):
    browser = requests.Session()
    sign_in_through(client, simplesamlphp, ALICE, session=browser)
    client.post("/sso/logout", base_url=NORTHFIELD, data={
        "csrf_token": csrf_token(client.get("/", base_url=NORTHFIELD).get_data(as_text=True))})
    start = client.get("/sso/login", base_url=NORTHFIELD)
    again = simplesamlphp.sign_in(start.location, "alice", "not even asked", session=browser)
    assert again.acs_url is not None
    assert client.post(again.acs_url, data=again.fields).status_code == 303


def test_a_wrong_password_stays_at_the_identity_provider(client, northfield, simplesamlphp):
    start = client.get("/sso/login", base_url=NORTHFIELD)
    result = simplesamlphp.sign_in(start.location, "alice", "wrong password")
    assert result.acs_url is None
    assert "Incorrect username or password" in result.page


def test_a_replayed_answer_is_refused(client, db, northfield, simplesamlphp):
    result, first = sign_in_through(client, simplesamlphp, ALICE)
    assert first.status_code == 303
    thief = client.application.test_client()
    replay = thief.post(result.acs_url, data=result.fields)
    assert replay.location == "/sso/failed"
    assert "Sign-in did not work" in thief.get("/sso/failed", base_url=NORTHFIELD).get_data(as_text=True)


def test_an_address_outside_the_allowed_domains_is_refused_politely(client, db, northfield, simplesamlphp):
    _, answer = sign_in_through(client, simplesamlphp, BRUNO)
    assert answer.location == "/sso/failed"
    page = client.get("/sso/failed", base_url=NORTHFIELD)
    assert page.status_code == 403
    assert "not one your organisation lets join here" in page.get_data(as_text=True)
    with tenant_context(northfield):
        assert db.session.scalar(select(Member)) is None
        assert "bruno@elsewhere.example is outside the allowed domains" in db.session.scalar(
            select(SsoConnection.last_error))


def test_the_admin_group_makes_an_admin(client, db, northfield, simplesamlphp):
    with tenant_context(northfield):
        conn = services.connection()
        conn.allowed_domains = []
        db.session.commit()
    sign_in_through(client, simplesamlphp, BRUNO)
    assert client.get("/portal/dashboard", base_url=NORTHFIELD).status_code == 200
    with tenant_context(northfield):
        assert db.session.scalars(select(Member)).one().role is Role.ADMIN


def test_our_metadata_is_ready_for_the_identity_provider(client, northfield, sp_credentials):
    response = client.get("/sso/saml/metadata", base_url=NORTHFIELD)
    document = etree.fromstring(response.data)
    assert document.get("entityID") == f"{NORTHFIELD}/sso/saml/metadata"
    assert document.get("entityID") in response.get_data(as_text=True)
    assert sp_credentials[0].split("-----")[2].strip().replace("\n", "")[:40] in response.get_data(as_text=True)
    assert b"/sso/saml/acs" in response.data


def test_our_metadata_does_not_expire_and_offers_a_key_for_encryption(client, northfield):
    document = etree.fromstring(client.get("/sso/saml/metadata", base_url=NORTHFIELD).data)
    assert document.get("validUntil") is None  # python3-saml's default expired it 48 hours later
    assert document.get("cacheDuration") == "P1D"  # re-read daily, from this same address
    uses = [descriptor.get("use") for descriptor in document.iter("{urn:oasis:names:tc:SAML:2.0:metadata}KeyDescriptor")]
    assert sorted(uses) == ["encryption", "signing"]


def test_an_encrypted_assertion_is_decrypted_and_signs_in(client, db, app, make_tenant, sp_credentials, tmp_path):
    reason = saml.unavailable()
    if reason:
        cannot_run("php", reason)
    idp = saml.start_simplesamlphp(tmp_path / "encrypting", [sp_entry("northfield", sp_credentials[0]) |
                                                              {"encrypt": True}], [ALICE])
    try:
        tenant = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
        connect_saml(tenant, idp.metadata_xml, sp_credentials)
        result, answer = sign_in_through(client, idp, ALICE)
    finally:
        idp.stop()
    assert b"EncryptedAssertion" in base64.b64decode(result.fields["SAMLResponse"])
    assert answer.status_code == 303 and answer.location == "/"
    assert "Alice Moreau" in client.get("/", base_url=NORTHFIELD).get_data(as_text=True)


@pytest.fixture
def northfield_by_url(app, db, make_tenant, simplesamlphp, sp_credentials):
    """Northfield, connected by its identity provider's metadata URL (so the metadata can be read again)."""
    tenant = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    connect_saml(tenant, simplesamlphp.metadata_xml, sp_credentials, metadata_url=simplesamlphp.metadata_url)
    return tenant


def test_a_new_idp_certificate_is_read_again_when_its_signature_is_refused(client, db, northfield_by_url,
                                                                            simplesamlphp):
    browser = requests.Session()
    assert sign_in_through(client, simplesamlphp, ALICE, session=browser)[1].location == "/"
    client.post("/sso/logout", base_url=NORTHFIELD, data={"csrf_token": csrf_token(
        client.get("/", base_url=NORTHFIELD).get_data(as_text=True))})
    with tenant_context(northfield_by_url):
        read_before = db.session.scalar(select(SsoConnection.saml_idp_metadata_read_at))
        conn = services.connection()
        conn.saml_idp_metadata_read_at = read_before - services.METADATA_REREAD_INTERVAL  # a while ago
        db.session.commit()
    simplesamlphp.rotate_key()
    _, answer = sign_in_through(client, simplesamlphp, ALICE, session=browser)
    assert answer.location == "/"
    assert "Alice Moreau" in client.get("/", base_url=NORTHFIELD).get_data(as_text=True)


def test_answers_refused_again_and_again_do_not_read_the_metadata_each_time(client, db, northfield_by_url,
                                                                           simplesamlphp):
    simplesamlphp.rotate_key()  # just after the metadata was read: it is not read again yet
    _, answer = sign_in_through(client, simplesamlphp, ALICE)
    assert answer.location == "/sso/failed"
    with tenant_context(northfield_by_url):
        assert "ignature" in db.session.scalar(select(SsoConnection.last_error))


def test_flask_sso_refresh_takes_the_new_certificate(app, client, db, northfield_by_url, simplesamlphp):
    simplesamlphp.rotate_key()
    result = app.test_cli_runner().invoke(args=["sso", "refresh"])
    assert result.exit_code == 0 and "northfield: changed" in result.output
    assert app.test_cli_runner().invoke(args=["sso", "refresh"]).output.strip() == "northfield: unchanged"
    assert sign_in_through(client, simplesamlphp, ALICE)[1].location == "/"


def test_flask_sso_refresh_tells_the_admin_when_the_metadata_cannot_be_read(app, db, northfield_by_url,
                                                                           simplesamlphp):
    simplesamlphp.stop()
    result = app.test_cli_runner().invoke(args=["sso", "refresh"])
    assert result.exit_code != 0 and "northfield" in result.output
    with tenant_context(northfield_by_url):
        conn = services.connection()
        assert conn.last_error_hint == "metadata" and "could not be downloaded" in conn.last_error
        assert conn.saml_idp_metadata_xml == simplesamlphp.metadata_xml  # the stored copy is kept


# --- answers from a hostile identity provider -------------------------------------------------------------


@pytest.fixture
def hostile_northfield(app, db, make_tenant, hostile_idp, sp_credentials):
    tenant = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    connect_saml(tenant, hostile_idp.metadata_xml, sp_credentials)
    return tenant


def pending_request(client) -> tuple[str, str]:
    """Start a sign-in; returns the AuthnRequest's id and the RelayState that must come back with the answer."""
    location = client.get("/sso/login", base_url=NORTHFIELD).location
    query = parse_qs(urlsplit(location).query)
    request_xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    assert "Signature" in query and query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    return etree.fromstring(request_xml).get("ID"), query["RelayState"][0]


def post_answer(client, hostile_idp, request_id, relay_state, **variant):
    response = hostile_idp.response(sp_entity_id=f"{NORTHFIELD}/sso/saml/metadata",
                                    acs_url=f"{NORTHFIELD}/sso/saml/acs", in_response_to=request_id,
                                    attributes={MAIL: ["student@northfield.edu"]}, **variant)
    return client.post("/sso/saml/acs", base_url=NORTHFIELD, data={"SAMLResponse": response,
                                                                     "RelayState": relay_state})


def signed_in(client) -> bool:
    return "Signed in" in client.get("/", base_url=NORTHFIELD).get_data(as_text=True)


def test_a_well_signed_answer_from_the_configured_idp_signs_in(client, hostile_northfield, hostile_idp):
    answer = post_answer(client, hostile_idp, *pending_request(client))
    assert answer.location == "/" and signed_in(client)


@pytest.mark.parametrize("variant, reason", [
    ({"sign_assertion": False}, "not signed"),
    ({"sign_assertion": False, "sign_response": True}, "not signed"),
    ({"tamper": True}, "Signature validation failed"),
    ({"signing_key": "other"}, "Signature validation failed"),
    ({"not_on_or_after_seconds": -3600}, "expired"),
    ({"audience": "http://someone-else.test/metadata"}, "audience"),
    ({"issue_instant_offset_seconds": -86400}, "issued too long ago"),
], ids=["unsigned", "only-the-envelope-signed", "tampered", "other-key", "expired", "wrong-audience", "stale"])
def test_a_bad_answer_is_refused_and_the_admin_sees_why(client, db, hostile_northfield, hostile_idp, variant,
                                                        reason):
    answer = post_answer(client, hostile_idp, *pending_request(client), **variant)
    assert answer.location == "/sso/failed"
    assert not signed_in(client)
    with tenant_context(hostile_northfield):
        assert reason in db.session.scalar(select(SsoConnection.last_error))
        assert db.session.scalar(select(Member)) is None


def test_an_answer_to_another_request_is_refused(client, db, hostile_northfield, hostile_idp):
    _, relay_state = pending_request(client)
    answer = post_answer(client, hostile_idp, "ID_someone_elses", relay_state)
    assert answer.location == "/sso/failed" and not signed_in(client)


def test_an_unsolicited_answer_is_never_accepted_but_starts_a_sign_in_of_our_own(client, db, hostile_northfield,
                                                                                  hostile_idp):
    _, relay_state = pending_request(client)
    assert post_answer(client, hostile_idp, None, relay_state).location == "/sso/failed"
    # From the university's app launcher (IdP-initiated): no request of ours is answered, so a fresh one starts.
    launched = post_answer(client, hostile_idp, None, "made-up")
    assert launched.status_code == 303 and launched.location == "/sso/login"
    assert not signed_in(client)
    to_idp = client.get(launched.location, base_url=NORTHFIELD).location
    assert "SAMLRequest=" in to_idp and "Signature=" in to_idp, "a signed request of our own goes to the provider"
    # An answer to a request of ours that is no longer pending (a replay, say) still fails, and says why.
    request_id, relay_state = pending_request(client)
    post_answer(client, hostile_idp, request_id, relay_state)
    assert post_answer(client, hostile_idp, request_id, "made-up").location == "/sso/failed"


def start_test(client, tenant, sign_in_as) -> tuple[str, str]:
    """An admin clicks "Test connection"; returns the AuthnRequest's id and its RelayState."""
    sign_in_as(tenant, Role.ADMIN, client=client)
    page = client.get("/portal/sso", base_url=NORTHFIELD).get_data(as_text=True)
    to_idp = continues_to(client.post("/portal/sso/test", base_url=NORTHFIELD, data={"csrf_token": csrf_token(page)}))
    query = parse_qs(urlsplit(to_idp).query)
    request_id = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)).get("ID")
    return request_id, query["RelayState"][0]


def test_a_connection_test_is_answered_without_the_admins_cookie(app, client, db, hostile_northfield, hostile_idp,
                                                                sign_in_as):
    request_id, relay_state = start_test(client, hostile_northfield, sign_in_as)
    # The identity provider's cross-site POST: the browser sends no SameSite=Lax cookie with it.
    without_cookie = app.test_client()
    answer = post_answer(without_cookie, hostile_idp, request_id, relay_state)
    assert answer.status_code == 303 and answer.location == "/portal/sso#test-result"
    assert "Set-Cookie" not in answer.headers  # nobody is signed in, and the admin's session stays as it was
    assert "student@northfield.edu" in client.get("/portal/sso", base_url=NORTHFIELD).get_data(as_text=True)
    with tenant_context(hostile_northfield):
        assert db.session.scalar(select(Member).where(Member.email == "student@northfield.edu")) is None
    # Used once: the same answer again is refused, and records nothing.
    assert post_answer(without_cookie, hostile_idp, request_id, relay_state).location == "/sso/failed"


def test_a_failed_connection_test_shows_the_admin_why(app, client, db, hostile_northfield, hostile_idp, sign_in_as):
    request_id, relay_state = start_test(client, hostile_northfield, sign_in_as)
    answer = post_answer(app.test_client(), hostile_idp, request_id, relay_state, sign_assertion=False)
    assert answer.status_code == 303 and answer.location == "/portal/sso#test-result"
    assert "Set-Cookie" not in answer.headers
    assert "not signed" in client.get("/portal/sso", base_url=NORTHFIELD).get_data(as_text=True)


def test_a_sign_in_answer_never_counts_as_a_connection_test(client, db, hostile_northfield, hostile_idp):
    answer = post_answer(client, hostile_idp, *pending_request(client))
    assert answer.location == "/" and signed_in(client)
    with tenant_context(hostile_northfield):
        assert db.session.scalar(select(SsoConnection.last_test)) is None


@pytest.mark.parametrize("relay_state", ["\x00", "a" * 5000, "\u202e"], ids=["nul", "long", "unicode"])
def test_a_relay_state_we_never_made_is_refused_politely(client, db, hostile_northfield, hostile_idp, relay_state):
    request_id, _ = pending_request(client)
    assert post_answer(client, hostile_idp, request_id, relay_state).location == "/sso/failed"
    assert not signed_in(client)


def test_the_same_assertion_twice_is_a_replay(client, db, hostile_northfield, hostile_idp):
    first = post_answer(client, hostile_idp, *pending_request(client), assertion_id="_assertion-1")
    assert first.location == "/"
    again = post_answer(client, hostile_idp, *pending_request(client), assertion_id="_assertion-1")
    assert again.location == "/sso/failed"
    with tenant_context(hostile_northfield):
        assert "used before" in db.session.scalar(select(SsoConnection.last_error))


def test_northfields_idp_cannot_sign_anyone_into_another_tenant(client, db, make_tenant, tmp_path,
                                                                 hostile_northfield, hostile_idp, sp_credentials):
    riverton = make_tenant("riverton", "Riverton College", kind=TenantKind.UNIVERSITY)
    rivertons_idp = hostile_saml.HostileIdp(tmp_path / "riverton", entity_id="https://idp.riverton.test/metadata")
    connect_saml(riverton, rivertons_idp.metadata_xml, sp_credentials,
                 replace(SAML_MAPPING, allowed_domains=["riverton.edu"]))
    location = client.get("/sso/login", base_url=host("riverton")).location
    query = parse_qs(urlsplit(location).query)
    request_id = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)).get("ID")
    # Northfield's identity provider answers Riverton's request, as well formed as can be, but it is not
    # the provider Riverton trusts.
    response = hostile_idp.response(sp_entity_id=f"{host('riverton')}/sso/saml/metadata",
                                    acs_url=f"{host('riverton')}/sso/saml/acs", in_response_to=request_id,
                                    attributes={MAIL: ["student@northfield.edu"]})
    answer = client.post("/sso/saml/acs", base_url=host("riverton"),
                         data={"SAMLResponse": response, "RelayState": query["RelayState"][0]})
    assert answer.location == "/sso/failed"
    with tenant_context(riverton):
        assert db.session.scalar(select(Member)) is None


def test_signing_out_offers_the_identity_providers_single_logout(client, northfield, simplesamlphp):
    browser = requests.Session()
    sign_in_through(client, simplesamlphp, ALICE, session=browser)
    page = client.post("/sso/logout", base_url=NORTHFIELD, data={
        "csrf_token": csrf_token(client.get("/", base_url=NORTHFIELD).get_data(as_text=True))})
    assert "You are signed out" in page.get_data(as_text=True)
    link = html.unescape(re.search(r'href="([^"]*SingleLogoutService[^"]*)"', page.get_data(as_text=True)).group(1))
    assert "SAMLRequest=" in link and "Signature=" in link
    # The identity provider accepts our signed request and sends the browser back to our logout endpoint.
    location = link
    while location.startswith(simplesamlphp.base_url.split("/simplesaml")[0]):
        answer = browser.get(location, allow_redirects=False)
        assert answer.status_code in (302, 303), answer.text[:300]
        location = answer.headers["Location"]
    assert location.startswith(f"{NORTHFIELD}/sso/saml/sls?SAMLResponse=")
    assert "Signed in" not in client.get("/", base_url=NORTHFIELD).get_data(as_text=True)
