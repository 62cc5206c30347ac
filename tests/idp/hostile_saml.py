"""An in-process SAML 2.0 IdP (pysaml2 + xmlsec1) that issues good and deliberately bad Responses.

The Responses are real: every signature is an XML-DSig made by xmlsec1 with an RSA key, so a test
of our service provider sees exactly what a misbehaving or hostile IdP would POST to its ACS.
"""

from __future__ import annotations

import base64
import datetime
import shutil
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT, SAMLError, class_name, saml, samlp
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.s_utils import sid
from saml2.server import Server
from saml2.sigver import pre_signature_part

SIGN_ALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_ALG = "http://www.w3.org/2001/04/xmlenc#sha256"
SSO_URL = "https://idp.hostile.test/sso"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
TAMPERED_MAIL = "intruder@idp.hostile.test"


def unavailable() -> str | None:
    """Why this IdP cannot run here, or None."""
    if shutil.which("xmlsec1") is None:
        return "needs Debian's xmlsec1 (apt-get install xmlsec1)"
    return None


def _key_pair(workdir: Path, name: str) -> tuple[Path, Path, str]:
    """A fresh RSA key and self-signed certificate: key path, certificate path, certificate as base64 DER."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.hostile.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = workdir / f"{name}.key", workdir / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _instant(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class HostileIdp:
    """A SAML IdP whose Responses are good by default and bad on request (see ``response``)."""

    def __init__(self, workdir: Path, entity_id: str = "https://idp.hostile.test/metadata"):
        workdir.mkdir(parents=True, exist_ok=True)
        self.entity_id = entity_id
        self._key, cert_path, self._cert = _key_pair(workdir, "idp")
        # A second key the SP has never seen: a stranger's signature must not pass for the IdP's.
        self._other_key, _, self._other_cert = _key_pair(workdir, "other")
        config = IdPConfig()
        config.load({
            "entityid": entity_id,
            "key_file": str(self._key),
            "cert_file": str(cert_path),
            "xmlsec_binary": shutil.which("xmlsec1"),
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(SSO_URL, BINDING_HTTP_REDIRECT)]},
                # pysaml2 signs with SHA-1 by default, which our SP refuses (rejectDeprecatedAlgorithm). The
                # Server reads these under "service"/"idp" only: at the top level they are silently ignored.
                "signing_algorithm": SIGN_ALG,
                "digest_algorithm": DIGEST_ALG,
            }},
        })
        self.server = Server(config=config)
        self.metadata_xml = entity_descriptor(config).to_string().decode()

    def response(
        self,
        *,
        sp_entity_id: str,
        acs_url: str,
        in_response_to: str | None,
        name_id: str = "student-1",
        attributes: dict[str, list[str]] | None = None,
        sign_assertion: bool = True,
        sign_response: bool = False,
        audience: str | None = None,
        not_on_or_after_seconds: int = 300,
        issue_instant_offset_seconds: int = 0,
        assertion_id: str | None = None,
        tamper: bool = False,
        signing_key: Literal["other"] | None = None,
    ) -> str:
        """A base64 SAMLResponse for the HTTP-POST binding.

        ``attributes`` maps urn:oid names to values (default: a mail and a display name). The validity
        ends ``not_on_or_after_seconds`` from now (negative: already expired); the issue instant,
        authentication instant and NotBefore are ``issue_instant_offset_seconds`` from now. ``tamper``
        replaces the mail (or the first attribute value) with ``TAMPERED_MAIL`` after signing;
        ``signing_key="other"`` signs with a key that is not in the metadata.
        """
        now = datetime.datetime.now(datetime.timezone.utc)
        issued = _instant(now + datetime.timedelta(seconds=issue_instant_offset_seconds))
        expires = _instant(now + datetime.timedelta(seconds=not_on_or_after_seconds))
        if attributes is None:
            attributes = {MAIL: [f"{name_id}@idp.hostile.test"], DISPLAY_NAME: ["Student One"]}
        # Built from pysaml2's elements, not Server.create_authn_response: that needs the SP in the IdP's
        # metadata and chooses the IDs, instants and audience itself, which the bad variants must set.
        assertion = saml.Assertion(
            id=assertion_id or sid(),
            version="2.0",
            issue_instant=issued,
            issuer=self._issuer(),
            subject=saml.Subject(
                name_id=saml.NameID(format=saml.NAMEID_FORMAT_PERSISTENT, text=name_id),
                subject_confirmation=[saml.SubjectConfirmation(
                    method=saml.SCM_BEARER,
                    subject_confirmation_data=saml.SubjectConfirmationData(
                        recipient=acs_url, in_response_to=in_response_to, not_on_or_after=expires
                    ),
                )],
            ),
            conditions=saml.Conditions(
                not_before=issued,
                not_on_or_after=expires,
                audience_restriction=[saml.AudienceRestriction(
                    audience=[saml.Audience(text=audience or sp_entity_id)]
                )],
            ),
            authn_statement=[saml.AuthnStatement(
                authn_instant=issued,
                session_index=sid(),
                authn_context=saml.AuthnContext(
                    authn_context_class_ref=saml.AuthnContextClassRef(text=saml.AUTHN_PASSWORD_PROTECTED)
                ),
            )],
            attribute_statement=[saml.AttributeStatement(attribute=[
                saml.Attribute(
                    name=name,
                    name_format=saml.NAME_FORMAT_URI,
                    attribute_value=[saml.AttributeValue(text=value) for value in values],
                )
                for name, values in attributes.items()
            ])],
        )
        response = samlp.Response(
            id=sid(),
            version="2.0",
            issue_instant=issued,
            destination=acs_url,
            in_response_to=in_response_to,
            issuer=self._issuer(),
            status=samlp.Status(status_code=samlp.StatusCode(value=samlp.STATUS_SUCCESS)),
            assertion=[assertion],
        )
        key, cert = (self._other_key, self._other_cert) if signing_key == "other" else (self._key, self._cert)
        # The assertion is signed first: a Response signature then covers the signed assertion.
        signed = [element for element, wanted in ((assertion, sign_assertion), (response, sign_response)) if wanted]
        for element in signed:
            element.signature = pre_signature_part(
                element.id, cert, digest_alg=self.server.digest_algorithm, sign_alg=self.server.signing_algorithm
            )
        xml = response.to_string().decode()
        for element in signed:
            xml = self.server.sec.sign_statement(xml, class_name(element), key_file=str(key), node_id=element.id)
        if tamper:
            xml = _tampered(xml)
        return base64.b64encode(xml.encode()).decode()

    def _issuer(self) -> saml.Issuer:
        return saml.Issuer(format=saml.NAMEID_FORMAT_ENTITY, text=self.entity_id)


def _tampered(xml: str) -> str:
    """The signed XML with the mail (or else the first attribute value) changed behind the signature."""
    tree = etree.fromstring(xml.encode())
    ns = {"saml": saml.NAMESPACE}
    values = tree.xpath(f"//saml:Attribute[@Name='{MAIL}']/saml:AttributeValue", namespaces=ns) or tree.xpath(
        "//saml:AttributeValue", namespaces=ns
    )
    if not values:
        raise SAMLError("tamper needs an attribute value to change")
    values[0].text = TAMPERED_MAIL
    return etree.tostring(tree).decode()
