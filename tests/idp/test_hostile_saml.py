"""The hostile IdP against python3-saml as the SP: its good Response passes, each bad one is refused."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from tests.idp.hostile_saml import DISPLAY_NAME, MAIL, HostileIdp, unavailable

SP_ENTITY_ID = "http://northfield.hfs.test/sso/saml/metadata"
ACS_URL = "http://northfield.hfs.test/sso/saml/acs"


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> HostileIdp:
    reason = unavailable()
    if reason:
        from tests.conftest import cannot_run

        cannot_run("xmlsec1", reason)
    return HostileIdp(tmp_path_factory.mktemp("hostile-idp"))


@pytest.fixture(scope="module")
def settings(idp) -> dict:
    """python3-saml settings as strict as our app's SP."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "northfield.hfs.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    sp = {
        "strict": True,
        "sp": {
            "entityId": SP_ENTITY_ID,
            "assertionConsumerService": {
                "url": ACS_URL, "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
            },
            "x509cert": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "privateKey": key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode(),
        },
        "security": {
            "wantAssertionsSigned": True,
            "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            "rejectDeprecatedAlgorithm": True,
        },
    }
    return OneLogin_Saml2_IdPMetadataParser.merge_settings(sp, OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml))


def receive(settings: dict, saml_response: str) -> OneLogin_Saml2_Auth:
    """Let python3-saml process a Response to the request ``ID_1``, as our ACS would."""
    request = {
        "https": "off", "http_host": "northfield.hfs.test", "script_name": "/sso/saml/acs",
        "get_data": {}, "post_data": {"SAMLResponse": saml_response, "RelayState": "/"},
    }
    auth = OneLogin_Saml2_Auth(request, settings)
    auth.process_response(request_id="ID_1")
    return auth


def refusal(settings: dict, saml_response: str) -> str:
    """Why python3-saml refuses the Response, whether it records the error or raises it."""
    try:
        auth = receive(settings, saml_response)
    except (OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError) as error:  # raised for documents it cannot read
        return str(error)
    assert auth.get_errors(), "python3-saml accepted the response"
    assert not auth.is_authenticated()
    return auth.get_last_error_reason()


def response(idp: HostileIdp, **changes) -> str:
    return idp.response(**{"sp_entity_id": SP_ENTITY_ID, "acs_url": ACS_URL, "in_response_to": "ID_1", **changes})


def test_a_good_response_is_accepted(idp, settings):
    auth = receive(settings, response(idp, assertion_id="_good-1", name_id="student-7"))
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated()
    assert auth.get_nameid() == "student-7"
    assert auth.get_attribute(MAIL) == ["student-7@idp.hostile.test"]
    assert auth.get_attribute(DISPLAY_NAME) == ["Student One"]
    assert auth.get_last_assertion_id() == "_good-1"


def test_a_response_signed_as_a_whole_and_in_its_assertion_is_accepted(idp, settings):
    auth = receive(settings, response(idp, sign_response=True))
    assert auth.get_errors() == [], auth.get_last_error_reason()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sign_assertion": False}, "Assertion of the Response is not signed"),
        ({"sign_assertion": False, "sign_response": True}, "Assertion of the Response is not signed"),
        ({"tamper": True}, "Signature validation failed"),
        ({"signing_key": "other"}, "Signature validation failed"),
        # Beyond python3-saml's 300 s clock drift; within it, the SubjectConfirmation check refuses it instead.
        ({"not_on_or_after_seconds": -3600}, "expired"),
        ({"audience": "https://elsewhere.test/metadata"}, "not a valid audience"),
        ({"in_response_to": "ID_2"}, "InResponseTo of the Response: ID_2, does not match"),
    ],
    ids=["unsigned", "only-response-signed", "tampered", "other-key", "expired", "wrong-audience",
         "wrong-in-response-to"],
)
def test_a_bad_response_is_refused(idp, settings, changes, reason):
    assert reason in refusal(settings, response(idp, **changes))
