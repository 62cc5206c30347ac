"""OpenID Connect with authlib: discovery, authorization code with PKCE (S256), state, nonce, id_token checks.

One authlib registry per app; one client per tenant, built from the tenant's stored settings the first
time it is needed after any change (its name carries the settings' timestamp), so no restart is needed.
"""

from __future__ import annotations

import time

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from flask_babel import lazy_gettext as _l
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError

from core import crypto, outbound
from tenants.services.registry import InvalidTenantSetting
from tenants.sso.models import SsoConnection
from tenants.sso.services import Identity, SsoError, identity_from_claims, require_https

_REGISTRY = "authlib.integrations.flask_client"
# How long a worker trusts the provider's discovery document and keys before reading them again (a key the
# provider has retired stops being trusted; an unknown key is looked up at once anyway, by authlib).
METADATA_MAX_AGE_SECONDS = 24 * 3600


class _GuardedSession(outbound.GuardedSession, OAuth2Session):
    """authlib's session through the guarded client: discovery, keys, token and userinfo requests alike."""


class _GuardedApp(FlaskOAuth2App):
    client_cls = _GuardedSession


class _Registry(OAuth):
    oauth2_client_cls = _GuardedApp


def init_app(app) -> None:
    """Give the app its own client registry (registrations never leak between app instances)."""
    _Registry(app)


def registry() -> OAuth:
    """This app's authlib client registry (the operator console registers its own provider's client there)."""
    return current_app.extensions[_REGISTRY]


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def check_issuer(issuer: str) -> None:
    """Refuse an issuer whose discovery document cannot be read or names another issuer."""
    require_https(issuer)
    try:
        response = outbound.get(discovery_url(issuer))
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
    except (requests.RequestException, ValueError) as error:
        # The error's text could tell what listens where (a port scan through us): it goes to the log only.
        current_app.logger.warning("OIDC discovery at %s failed: %r", discovery_url(issuer), error)
        raise InvalidTenantSetting(_l("The discovery document at %(url)s could not be read. Please check the "
                                      "issuer URL: it must be your identity provider's public address.",
                                      url=discovery_url(issuer))) from error
    if document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise InvalidTenantSetting(_l("The discovery document names another issuer: %(issuer)s",
                                      issuer=document.get("issuer")))


def client(conn: SsoConnection):
    """The tenant's authlib client, as its settings stand now."""
    name = f"tenant-{conn.tenant_id}-{conn.updated_at.timestamp():.6f}"
    existing = registry().create_client(name)
    if existing is not None:
        if time.time() - existing.server_metadata.get("_loaded_at", time.time()) > METADATA_MAX_AGE_SECONDS:
            existing.server_metadata.pop("_loaded_at")  # authlib reads discovery again when this is missing
            existing.server_metadata.pop("jwks", None)
        return existing
    return registry().register(
        name, client_id=conn.oidc_client_id, client_secret=crypto.decrypt(conn.oidc_client_secret),
        server_metadata_url=discovery_url(conn.oidc_issuer),
        client_kwargs={"scope": conn.oidc_scopes, "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_basic", "timeout": 10},
    )


def begin(conn: SsoConnection, redirect_uri: str, login_hint: str | None = None):
    """The redirect to the identity provider (state, nonce and PKCE verifier kept in the session)."""
    extra = {"login_hint": login_hint} if login_hint else {}
    try:
        return client(conn).authorize_redirect(redirect_uri, **extra)
    except (requests.RequestException, ValueError, AuthlibBaseError) as error:
        current_app.logger.warning("OIDC discovery at %s failed: %r", discovery_url(conn.oidc_issuer), error)
        raise SsoError(f"the identity provider's discovery document at {discovery_url(conn.oidc_issuer)} "
                       "could not be read", "unavailable") from error


def finish(conn: SsoConnection) -> tuple[Identity, str | None]:
    """Check the provider's answer (state, code exchange, id_token signature, issuer, audience, expiry, nonce),
    complete the claims from /userinfo when the id_token lacks them; returns the identity and the id_token."""
    oauth_client = client(conn)
    try:
        token = oauth_client.authorize_access_token(leeway=current_app.config["SSO_CLOCK_SKEW_SECONDS"])
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise SsoError("the identity provider returned no id_token")
        if any(name not in claims for name in _wanted_claims(conn)):
            userinfo = oauth_client.userinfo(token=token)
            if userinfo.get("sub") != claims["sub"]:
                raise SsoError("the userinfo endpoint answered for another subject than the id_token")
            claims.update(userinfo)
    except (AuthlibBaseError, JoseError) as error:
        raise SsoError(f"OpenID Connect sign-in refused: {error}", hint=_hint(error)) from error
    except requests.RequestException as error:
        current_app.logger.warning("OIDC request to %s failed: %r", conn.oidc_issuer, error)
        raise SsoError(f"the identity provider at {conn.oidc_issuer} could not be reached", "unavailable") from error
    return identity_from_claims(conn, f"{conn.oidc_issuer}|{claims['sub']}", claims), token.get("id_token")


def _hint(error: Exception) -> str | None:
    """Which of ``services.ADMIN_HINTS`` explains an authlib or joserfc error, if one does."""
    if isinstance(error, ExpiredTokenError) or (isinstance(error, ClaimError) and error.claim in ("iat", "nbf")):
        return "expired"
    if isinstance(error, ClaimError):
        return {"aud": "audience", "azp": "audience", "iss": "issuer"}.get(error.claim)
    if isinstance(error, (BadSignatureError, InvalidKeyIdError)):
        return "signature"
    return {"invalid_client": "client", "unauthorized_client": "client", "access_denied": "denied",
            "invalid_scope": "denied"}.get(getattr(error, "error", None))


def _wanted_claims(conn: SsoConnection) -> list[str]:
    return [name for name in (conn.claim_email, conn.claim_name, conn.claim_unit, conn.claim_groups) if name]


def logout_url(conn: SsoConnection, id_token: str | None, return_to: str) -> str | None:
    """The identity provider's own sign-out (RP-initiated logout), when it offers one."""
    try:
        metadata = client(conn).load_server_metadata()
    except (requests.RequestException, ValueError):
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return client(conn).create_logout_url(post_logout_redirect_uri=return_to, id_token_hint=id_token,
                                          client_id=conn.oidc_client_id)["url"]
