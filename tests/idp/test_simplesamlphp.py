"""The SimpleSAMLphp fixture itself, checked with python3-saml as a real SP."""

from __future__ import annotations

import pytest
import requests
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from tests.conftest import cannot_run
from tests.idp.saml import make_key_and_certificate, start_simplesamlphp, unavailable

SP_ENTITY_ID = "http://northfield.hfs.test/sso/saml/metadata"
ACS_URL = "http://northfield.hfs.test/sso/saml/acs"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
ALICE = {
    "username": "alice",
    "password": "correct horse",
    "attributes": {
        MAIL: ["alice.moreau@northfield.edu"],
        "urn:oid:2.16.840.1.113730.3.1.241": ["Alice Moreau"],
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": ["amoreau@northfield.edu"],
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ["student", "member"],
        "urn:oid:2.5.4.11": ["School of Engineering"],
    },
}


def sp_settings(idp, key_pem: str, cert_pem: str) -> dict:
    settings = OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml)
    settings.update(
        strict=True,
        sp={
            "entityId": SP_ENTITY_ID,
            "assertionConsumerService": {"url": ACS_URL, "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
            "x509cert": cert_pem,
            "privateKey": key_pem,
        },
        security={
            "authnRequestsSigned": True,
            "wantAssertionsSigned": True,
            "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
        },
    )
    return settings


def request_data(script_name: str, post_data: dict | None = None) -> dict:
    return {
        "https": "off",
        "http_host": "northfield.hfs.test",
        "script_name": script_name,
        "get_data": {},
        "post_data": post_data or {},
    }


@pytest.fixture
def sp_keys():
    return make_key_and_certificate("northfield.hfs.test")


@pytest.fixture
def idp(tmp_path, sp_keys):
    if reason := unavailable():
        cannot_run("php", reason)
    sp = {"entity_id": SP_ENTITY_ID, "acs_url": ACS_URL, "sls_url": None, "certificate": sp_keys[1]}
    server = start_simplesamlphp(tmp_path / "idp", [sp], [ALICE])
    yield server
    server.stop()


def login_url(settings: dict) -> tuple[str, str]:
    """The SP's redirect to the IdP and the id of its AuthnRequest."""
    auth = OneLogin_Saml2_Auth(request_data("/sso/saml/login"), settings)
    url = auth.login(return_to="http://northfield.hfs.test/welcome")
    return url, auth.get_last_request_id()


def test_sign_in_gives_signed_attributes_and_a_stable_name_id(idp, sp_keys):
    settings = sp_settings(idp, *sp_keys)
    browser = requests.Session()
    name_ids = []
    for _ in range(2):  # the second time the IdP session signs in silently
        url, request_id = login_url(settings)
        result = idp.sign_in(url, "alice", "correct horse", session=browser)
        assert result.acs_url == ACS_URL, result.page
        assert result.fields["RelayState"] == "http://northfield.hfs.test/welcome"

        auth = OneLogin_Saml2_Auth(request_data("/sso/saml/acs", result.fields), settings)
        auth.process_response(request_id=request_id)
        assert auth.get_errors() == [], auth.get_last_error_reason()
        assert auth.get_attributes()[MAIL] == ["alice.moreau@northfield.edu"]
        assert auth.get_attributes()["urn:oid:1.3.6.1.4.1.5923.1.1.1.1"] == ["student", "member"]
        assert auth.get_nameid_format() == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
        name_ids.append(auth.get_nameid())
    assert name_ids[0] == name_ids[1]


def test_wrong_password_gives_no_acs_form(idp, sp_keys):
    url, _ = login_url(sp_settings(idp, *sp_keys))
    result = idp.sign_in(url, "alice", "wrong")
    assert result.acs_url is None
    assert "Incorrect username or password" in result.page


def test_request_signed_with_another_key_is_refused(idp, sp_keys):
    url, _ = login_url(sp_settings(idp, *make_key_and_certificate("impostor.test")))
    result = idp.sign_in(url, "alice", "correct horse")
    assert result.acs_url is None
    assert "Unable to validate signature" in result.page, result.page
