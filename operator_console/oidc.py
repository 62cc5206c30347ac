"""The operators' sign-in through the HeForShe team's own OpenID provider (``OPERATOR_OIDC_*`` settings): the
same authlib registry and checks as tenants' OpenID sign-in (``tenants/sso/oidc.py``): authorization code with
PKCE (S256), state, nonce, and the id_token's signature, issuer, audience and expiry."""

from __future__ import annotations

import requests
from authlib.common.errors import AuthlibBaseError
from flask import current_app
from joserfc.errors import JoseError

from tenants.sso import oidc

CLIENT_NAME = "heforshe-operators"


class SignInRefused(Exception):
    """The provider's answer proves no operator; the message is for the log, never shown."""


def configured() -> bool:
    config = current_app.config
    return bool(config["OPERATOR_OIDC_ISSUER"] and config["OPERATOR_OIDC_CLIENT_ID"])


def _client():
    registry = oidc.registry()
    return registry.create_client(CLIENT_NAME) or registry.register(
        CLIENT_NAME, client_id=current_app.config["OPERATOR_OIDC_CLIENT_ID"],
        client_secret=current_app.config["OPERATOR_OIDC_CLIENT_SECRET"],
        server_metadata_url=oidc.discovery_url(current_app.config["OPERATOR_OIDC_ISSUER"]),
        client_kwargs={"scope": current_app.config["OPERATOR_OIDC_SCOPES"], "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_basic", "timeout": 10})


def begin(redirect_uri: str):
    """The redirect to the provider (state, nonce and PKCE verifier kept in the session)."""
    try:
        return _client().authorize_redirect(redirect_uri)
    except (requests.RequestException, ValueError, AuthlibBaseError) as error:
        raise SignInRefused(f"the operators' identity provider cannot be reached: {error!r}") from error


def finish() -> str:
    """Check the provider's answer; returns the address it vouches for (``email_verified`` must be true)."""
    client = _client()
    try:
        token = client.authorize_access_token(leeway=current_app.config["SSO_CLOCK_SKEW_SECONDS"])
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise SignInRefused("the provider returned no id_token")
        if "email" not in claims or "email_verified" not in claims:
            userinfo = client.userinfo(token=token)
            if userinfo.get("sub") != claims["sub"]:
                raise SignInRefused("the userinfo endpoint answered for another subject than the id_token")
            claims.update(userinfo)
    except (AuthlibBaseError, JoseError) as error:
        raise SignInRefused(f"OpenID Connect sign-in refused: {error}") from error
    except requests.RequestException as error:
        raise SignInRefused(f"the operators' identity provider cannot be reached: {error!r}") from error
    if claims.get("email_verified") is not True or not isinstance(claims.get("email"), str):
        raise SignInRefused("the provider did not vouch for an address (email_verified is not true)")
    return claims["email"]
