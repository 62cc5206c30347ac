"""The oidc-provider fixture itself, driven as a relying party would with plain requests."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.errors import ExpiredTokenError
from joserfc.jwk import KeySet

from tests.conftest import cannot_run
from tests.idp.oidc import start_oidc_provider, unavailable

REDIRECT_URI = "http://acme.hfs.test/sso/oidc/callback"
REDIRECT_URI_WITH_PORT = "http://acme.hfs.test:54321/sso/oidc/callback"
CLIENT = {
    "client_id": "hfs-acme",
    "client_secret": "a-long-client-secret-for-the-tests",
    "redirect_uris": [REDIRECT_URI, REDIRECT_URI_WITH_PORT],
    "post_logout_redirect_uris": ["http://acme.hfs.test/"],
}
ALICE = {
    "username": "alice",
    "password": "correct horse",
    "claims": {
        "sub": "alice-0001",
        "email": "alice@acme.example",
        "email_verified": True,
        "name": "Alice Moreau",
        "groups": ["staff", "hr"],
        "department": "People",
    },
}


@pytest.fixture
def start(tmp_path):
    """Start a provider with CLIENT and ALICE (options passed on); stopped after the test."""
    if reason := unavailable():
        cannot_run("node", reason)
    started = []

    def launch(**options):
        started.append(start_oidc_provider(tmp_path / f"idp{len(started)}", [CLIENT], [ALICE], **options))
        return started[-1]

    yield launch
    for idp in started:
        idp.stop()


@pytest.fixture
def idp(start):
    return start()


def discovery(idp) -> dict:
    return requests.get(idp.discovery_url, timeout=10).json()


def authorize_url(idp, redirect_uri=REDIRECT_URI, **overrides) -> tuple[str, dict]:
    """An authorization request with fresh state, nonce and PKCE; returns it and its secrets."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code", "client_id": CLIENT["client_id"], "redirect_uri": redirect_uri,
        "scope": "openid email profile groups", "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge, "code_challenge_method": "S256", **overrides,
    }
    params = {name: value for name, value in params.items() if value is not None}
    return f"{discovery(idp)['authorization_endpoint']}?{urlencode(params)}", {**params, "verifier": verifier}


def callback_params(url: str) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def exchange(idp, code: str, request: dict) -> dict:
    response = requests.post(discovery(idp)["token_endpoint"], timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": request["redirect_uri"],
        "code_verifier": request["verifier"],
    }, auth=(CLIENT["client_id"], CLIENT["client_secret"]))
    assert response.status_code == 200, response.text
    return response.json()


def id_token_claims(idp, id_token: str) -> dict:
    keys = KeySet.import_key_set(requests.get(discovery(idp)["jwks_uri"], timeout=10).json())
    return jwt.decode(id_token, keys, algorithms=["RS256"]).claims


def test_discovery_requires_s256(idp):
    document = discovery(idp)
    assert document["issuer"] == idp.issuer
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["end_session_endpoint"]


@pytest.mark.parametrize("redirect_uri", [REDIRECT_URI, REDIRECT_URI_WITH_PORT])
def test_code_flow_with_pkce(idp, redirect_uri):
    url, request = authorize_url(idp, redirect_uri)
    result = idp.sign_in(url, "alice", "correct horse")
    assert result.form_shown and result.callback_url.startswith(redirect_uri + "?")
    params = callback_params(result.callback_url)
    assert params["state"] == request["state"] and params["iss"] == idp.issuer

    token = exchange(idp, params["code"], request)
    claims = id_token_claims(idp, token["id_token"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": idp.issuer}, aud={"essential": True, "value": CLIENT["client_id"]},
        nonce={"essential": True, "value": request["nonce"]},
    ).validate(claims)
    assert claims["sub"] == "alice-0001" and "email" not in claims  # the rest is left to /userinfo

    userinfo = requests.get(discovery(idp)["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert userinfo == ALICE["claims"]


def test_wrong_password_shows_the_form_again(idp):
    result = idp.sign_in(authorize_url(idp)[0], "alice", "wrong")
    assert result.callback_url is None and result.status == 200
    assert "Invalid username or password" in result.page and 'name="password"' in result.page


def test_authorization_without_pkce_is_refused(idp):
    url = authorize_url(idp, code_challenge=None, code_challenge_method=None)[0]
    result = idp.sign_in(url, "alice", "correct horse")
    params = callback_params(result.callback_url)
    assert params["error"] == "invalid_request" and "code" not in params and not result.form_shown


def test_unregistered_redirect_uri_gets_no_callback(idp):
    result = idp.sign_in(authorize_url(idp, "http://evil.test/callback")[0], "alice", "correct horse")
    assert result.callback_url is None and result.status == 400
    assert "redirect_uri" in result.page


def test_second_sign_in_with_the_same_session_is_silent(idp):
    session = requests.Session()
    assert idp.sign_in(authorize_url(idp)[0], "alice", "correct horse", session).form_shown
    for extra in ({}, {"prompt": "none"}):
        result = idp.sign_in(authorize_url(idp, **extra)[0], "alice", "not asked", session)
        assert not result.form_shown and "code" in callback_params(result.callback_url)


def test_prompt_none_without_session_reports_login_required(idp):
    result = idp.sign_in(authorize_url(idp, prompt="none")[0], "alice", "correct horse")
    assert callback_params(result.callback_url)["error"] == "login_required"


def test_clock_offset_issues_expired_id_tokens(start):
    idp = start(clock_offset_seconds=-7200)
    url, request = authorize_url(idp)
    result = idp.sign_in(url, "alice", "correct horse")
    claims = id_token_claims(idp, exchange(idp, callback_params(result.callback_url)["code"], request)["id_token"])
    assert claims["exp"] < time.time() - 3600
    with pytest.raises(ExpiredTokenError):
        jwt.JWTClaimsRegistry().validate(claims)
