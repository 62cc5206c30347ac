"""PyLTI1p3 fitted to this application: registrations and deployments from the database, the launch read from
Flask's request, keys fetched through the guarded outbound client, and the state and nonce checked without a
cookie or a session (the tool runs in another site's frame, where neither is sent)."""

from __future__ import annotations

import json

import jwt
from flask import request
from jwcrypto.jwk import JWK
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select

from core import crypto
from core.extensions import db
from core.outbound import GuardedSession
from tenant_portal.lti.models import Deployment, Platform, ToolKey

#: Seconds of clock difference allowed between the platform and us.
LEEWAY = 30


class ToolRegistration(Registration):
    """A registration whose key id is the tool key's (the one /lti/jwks serves)."""

    _kid: str | None = None

    def get_kid(self):
        return self._kid


def tool_key() -> ToolKey | None:
    return db.session.scalars(select(ToolKey)).one_or_none()


def public_jwk(key: ToolKey) -> dict:
    """The tool key's public half as a JWK (RS256, for signatures)."""
    jwk = JWK.from_pem(crypto.decrypt(key.private_key).encode())
    return {**json.loads(jwk.export_public()), "kid": key.kid, "alg": "RS256", "use": "sig"}


def registration(platform: Platform) -> ToolRegistration:
    """The platform as PyLTI1p3 knows a registration (with the tool's private key, for service calls)."""
    found = ToolRegistration()
    found.set_issuer(platform.issuer).set_client_id(platform.client_id).set_key_set_url(platform.key_set_url)
    found.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
    if (key := tool_key()) is not None:
        found.set_tool_private_key(crypto.decrypt(key.private_key))
        found._kid = key.kid
    found.platform = platform
    return found


class ToolConfig(ToolConfAbstract):
    """Registrations and deployments as the current tenant's admins entered them."""

    def _platforms(self, iss: str, client_id: str | None = None) -> list[Platform]:
        query = select(Platform).where(Platform.issuer == iss)
        if client_id is not None:
            query = query.where(Platform.client_id == client_id)
        return list(db.session.scalars(query.limit(2)))

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False  # always look up by issuer and client id

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        found = self._platforms(iss)
        return registration(found[0]) if len(found) == 1 else None

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        found = self._platforms(iss, client_id)
        return registration(found[0]) if found else None

    def find_deployment(self, iss, deployment_id):
        return None  # registrations are looked up with their client id

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        found = self._platforms(iss, client_id)
        if not found or not isinstance(deployment_id, str):
            return None
        return db.session.get(Deployment, {"tenant_id": found[0].tenant_id, "platform_id": found[0].id,
                                           "deployment_id": deployment_id})


class _NoStore:
    """Stands in for PyLTI1p3's session and cookie services: the state and nonce are checked by ``Launch``."""

    def get_cookie(self, name):
        return None

    def check_state_is_valid(self, state, id_token_hash):
        return False

    def check_nonce(self, nonce):
        return False


class Launch(MessageLaunch):
    """A launch read from the form the platform posted. The state and nonce come from the signed state
    (``expected_nonce``), the audience must be our client id, and nothing is cached."""

    def __init__(self, expected_nonce: str):
        no_store = _NoStore()
        super().__init__(request, ToolConfig(), session_service=no_store, cookie_service=no_store,
                         requests_session=GuardedSession())
        self._expected_nonce = expected_nonce
        self.set_auto_validation(False)  # the steps are run one by one, to name the one that fails

    def _get_request_param(self, key: str) -> str:
        return request.form.get(key, "")

    def validate_state(self):
        return self  # the state was checked (signature, tenant, age) before the launch was read

    def validate_nonce(self):
        if self._get_jwt_body().get("nonce") != self._expected_nonce:
            raise LtiException("The nonce is not the one the login sent.")
        return self

    def validate_jwt_signature(self):
        public_key, algorithm = self.get_public_key()
        try:
            jwt.decode(self._get_id_token(), public_key, algorithms=[algorithm], audience=self.get_client_id(),
                       issuer=self.get_iss(), leeway=LEEWAY, options={"require": ["exp", "iat", "aud", "iss"]})
        except jwt.ExpiredSignatureError as error:
            raise Expired(str(error)) from error
        except jwt.InvalidTokenError as error:
            raise LtiException(f"The id_token is not valid: {error}") from error
        if self._get_jwt_body().get("azp") not in (None, self.get_client_id()):
            raise LtiException("The id_token's authorized party is not our client id.")
        return self

    def save_launch_data(self):
        return self

    def claims(self) -> dict:
        return self._get_jwt_body()

    def platform(self) -> Platform:
        return self._registration.platform


class Expired(LtiException):
    """The id_token has expired."""


class Connector(ServiceConnector):
    """Service calls through the guarded outbound client; access tokens are not cached (one score per click)."""

    def __init__(self, platform: Platform):
        super().__init__(registration(platform), GuardedSession())

    def _get_cached_access_token(self, scope_key):
        return None

    def _cache_access_token(self, scope_key, access_token, expires_in):
        return None
