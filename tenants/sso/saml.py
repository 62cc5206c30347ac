"""SAML 2.0 with python3-saml: signed AuthnRequests, signed assertions required, SHA-256, InResponseTo checked,
replays refused, bounded clock skew. The service provider's settings are built per tenant from its connection."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from datetime import datetime, timezone

import requests
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from lxml.etree import XMLSyntaxError
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser as MetadataParser
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from core import crypto, outbound
from tenants.models import utcnow
from tenants.services.registry import InvalidTenantSetting
from tenants.sso import services
from tenants.sso.models import SsoConnection, SsoRequest
from tenants.sso.services import Identity, SsoError


# How long an identity provider may keep our metadata before reading it again (it carries no expiry date).
METADATA_CACHE_DURATION = "P1D"


class _Metadata(OneLogin_Saml2_Metadata):
    """Our metadata offers the certificate for encryption as well as signing: an identity provider may encrypt
    its assertions to us (python3-saml decrypts them with the same key) without our requiring it."""

    @classmethod
    def add_x509_key_descriptors(cls, metadata, cert=None, add_encryption=True):
        return super().add_x509_key_descriptors(metadata, cert, True)


class _Settings(OneLogin_Saml2_Settings):
    metadata_class = _Metadata


def init_app(app) -> None:
    """python3-saml reads its clock tolerance from a class constant: set it from the configuration."""
    Constants.ALLOWED_CLOCK_DRIFT = app.config["SSO_CLOCK_SKEW_SECONDS"]


def site_url() -> str:
    return f"{request.scheme}://{request.host}"


def endpoints() -> dict[str, str]:
    """The service provider's addresses on this tenant's host, for the identity provider's administrator."""
    base = site_url()
    return {"entity_id": f"{base}/sso/saml/metadata", "acs": f"{base}/sso/saml/acs",
            "sls": f"{base}/sso/saml/sls", "metadata": f"{base}/sso/saml/metadata"}


def parse_metadata(xml: str) -> dict:
    """The identity provider's settings from its metadata; ``InvalidTenantSetting`` when it is unusable."""
    try:
        parsed = MetadataParser.parse(xml, required_sso_binding=Constants.BINDING_HTTP_REDIRECT)
    except Exception as error:  # python3-saml's parser raises bare Exception as well as lxml's errors
        raise InvalidTenantSetting(_l("The identity provider's metadata cannot be read: %(error)s",
                                      error=error)) from error
    idp = parsed.get("idp", {})
    if not idp.get("entityId") or not idp.get("singleSignOnService", {}).get("url"):
        raise InvalidTenantSetting(_l("The metadata names no identity provider with an HTTP-Redirect sign-on service."))
    if not (idp.get("x509cert") or idp.get("x509certMulti")):
        raise InvalidTenantSetting(_l("The metadata has no signing certificate."))
    return parsed


def fetch_metadata(url: str) -> str:
    """Download an identity provider's metadata (when the settings are saved, and to read it again)."""
    services.require_https(url)
    try:
        response = outbound.get(url)
        response.raise_for_status()
        return response.content.decode("utf-8")
    except (requests.RequestException, UnicodeDecodeError) as error:
        # The error's text could tell what listens where (a port scan through us): it goes to the log only.
        current_app.logger.warning("SAML metadata download from %s failed: %r", url, error)
        raise InvalidTenantSetting(_l("The metadata at %(url)s could not be downloaded. Please check the address: "
                                      "it must be your identity provider's public address.", url=url)) from error


def refresh_metadata(conn: SsoConnection) -> bool:
    """Read the identity provider's metadata again from its URL (a new signing certificate, say); True when it
    changed. ``InvalidTenantSetting`` when it cannot be read or names another identity provider."""
    xml = fetch_metadata(conn.saml_idp_metadata_url)
    if parse_metadata(xml)["idp"]["entityId"] != parse_metadata(conn.saml_idp_metadata_xml)["idp"]["entityId"]:
        raise InvalidTenantSetting(_l("The metadata at %(url)s now names another identity provider: it was not "
                                      "taken. Save the settings again to change the provider.",
                                      url=conn.saml_idp_metadata_url))
    return services.store_idp_metadata(conn, xml)


def _refreshed_after_failure(conn: SsoConnection) -> bool:
    """After a refused answer: whether the identity provider's metadata has changed since we last read it
    (read at most every few minutes, so refused answers cannot make us fetch it over and over)."""
    read_at = conn.saml_idp_metadata_read_at
    if not conn.saml_idp_metadata_url or (
            read_at and services.aware(read_at) > utcnow() - services.METADATA_REREAD_INTERVAL):
        return False
    try:
        return refresh_metadata(conn)
    except InvalidTenantSetting:
        services.store_idp_metadata(conn, conn.saml_idp_metadata_xml)  # noted as read: wait before trying again
        return False


def settings(conn: SsoConnection) -> dict:
    """python3-saml's settings for this tenant: strict, everything signed with SHA-256."""
    addresses = endpoints()
    result = parse_metadata(conn.saml_idp_metadata_xml)
    result.update({
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": addresses["entity_id"],
            "assertionConsumerService": {"url": addresses["acs"], "binding": Constants.BINDING_HTTP_POST},
            "singleLogoutService": {"url": addresses["sls"], "binding": Constants.BINDING_HTTP_REDIRECT},
            "NameIDFormat": Constants.NAMEID_UNSPECIFIED,
            "x509cert": conn.saml_sp_certificate,
            "privateKey": crypto.decrypt(conn.saml_sp_private_key) if conn.saml_sp_private_key else "",
        },
        "security": {
            "authnRequestsSigned": True, "logoutRequestSigned": True, "logoutResponseSigned": True,
            "wantAssertionsSigned": True, "wantMessagesSigned": False, "wantNameId": True,
            "signatureAlgorithm": Constants.RSA_SHA256, "digestAlgorithm": Constants.SHA256,
            "rejectDeprecatedAlgorithm": True, "requestedAuthnContext": False, "wantAttributeStatement": False,
            # No validUntil (python3-saml's default expires the metadata in 48 hours): it is served, always
            # current, at the entity ID, and a cacheDuration tells the identity provider to re-read it daily.
            "metadataValidUntil": "", "metadataCacheDuration": METADATA_CACHE_DURATION,
        },
    })
    return result


def _request_data() -> dict:
    return {"https": "on" if request.scheme == "https" else "off", "http_host": request.host,
            "script_name": request.path, "get_data": request.args.to_dict(), "post_data": request.form.to_dict()}


def _auth(conn: SsoConnection) -> OneLogin_Saml2_Auth:
    return OneLogin_Saml2_Auth(_request_data(), settings(conn))


def metadata(conn: SsoConnection) -> str:
    """Our service provider's metadata, to hand to the identity provider's administrator."""
    saml_settings = _Settings(settings(conn), sp_validation_only=True)
    return saml_settings.get_sp_metadata().decode()


def begin(conn: SsoConnection, purpose: str, next_url: str | None) -> str:
    """The signed redirect to the identity provider; the request's id waits under a one-time RelayState."""
    auth = _auth(conn)
    token = secrets.token_urlsafe(32)
    url = auth.login(return_to=token)  # the RelayState, covered by the request's signature
    services.open_request(token, auth.get_last_request_id(), purpose, next_url)
    return url


def finish(conn: SsoConnection, pending: SsoRequest | None) -> tuple[Identity, dict]:
    """Check the identity provider's POSTed answer to ``pending`` (the request its RelayState names, taken
    by the caller); returns the identity and what logout needs."""
    if pending is None:
        raise SsoError("the SAML response answers no sign-in started here in the last 10 minutes "
                       "(unknown, used or expired RelayState)")
    auth = _checked(conn, pending.request_id)
    if (auth.get_errors() or not auth.is_authenticated()) and _refreshed_after_failure(conn):
        auth = _checked(conn, pending.request_id)  # the identity provider may have rolled its certificate over
    if auth.get_errors() or not auth.is_authenticated():
        raise SsoError(f"the SAML response was refused: {auth.get_last_error_reason() or auth.get_errors()}")
    if auth.get_last_response_in_response_to() != pending.request_id:
        raise SsoError("the SAML response does not answer our request (InResponseTo missing or different)")
    # python3-saml does not look at IssueInstant: an answer older than any request we would still accept is stale.
    issued = auth.get_last_assertion_issue_instant() or 0
    if issued < time.time() - services.PENDING_REQUEST_LIFETIME.total_seconds() - Constants.ALLOWED_CLOCK_DRIFT:
        raise SsoError("the SAML assertion was issued too long ago")
    # Remembered until the assertion could no longer be accepted anyway (an hour if it gives no limit).
    not_on_or_after = auth.get_last_assertion_not_on_or_after() or (time.time() + 3600)
    expires = datetime.fromtimestamp(not_on_or_after + Constants.ALLOWED_CLOCK_DRIFT, timezone.utc)
    if not services.remember_assertion(auth.get_last_assertion_id(), expires):
        raise SsoError(f"the SAML assertion {auth.get_last_assertion_id()} was used before (a replay)")
    claims = {**auth.get_attributes(), "NameID": auth.get_nameid()}
    subject = f"{settings(conn)['idp']['entityId']}|{auth.get_nameid()}"
    logout = {"name_id": auth.get_nameid(), "name_id_format": auth.get_nameid_format(),
              "session_index": auth.get_session_index()}
    return services.identity_from_claims(conn, subject, claims), logout


def unsolicited(saml_response: str) -> bool:
    """Whether a posted answer says it answers no request (no InResponseTo): one an identity provider sends when
    a person starts from its app launcher. Read, never trusted: it only decides whether to start a sign-in."""
    try:
        document = OneLogin_Saml2_XML.to_etree(base64.b64decode(saml_response, validate=True))
    except (ValueError, TypeError, binascii.Error, XMLSyntaxError):
        return False
    return document.tag == "{urn:oasis:names:tc:SAML:2.0:protocol}Response" and not document.get("InResponseTo")


def _checked(conn: SsoConnection, request_id: str) -> OneLogin_Saml2_Auth:
    auth = _auth(conn)
    try:
        auth.process_response(request_id=request_id)
    except (OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError, XMLSyntaxError, ValueError) as error:
        raise SsoError(f"the SAML response was refused: {error}") from error
    return auth


def logout_url(conn: SsoConnection, logout: dict, return_to: str) -> str | None:
    """A signed logout request to the identity provider, when it has a single-logout service."""
    if not settings(conn)["idp"].get("singleLogoutService", {}).get("url"):
        return None
    return _auth(conn).logout(return_to=return_to, name_id=logout.get("name_id"),
                              session_index=logout.get("session_index"), name_id_format=logout.get("name_id_format"))
