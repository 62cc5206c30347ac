"""A learning platform for the LTI tests: lti1p3platform (PyPI), an independent LTI 1.3 platform implementation,
signing with its own RSA key, served over HTTP on the loopback. It serves its key set, answers the tool's
authentication request with a signed launch (a form the browser posts to the tool), issues access tokens for
the tool's client assertions and takes scores. It adds the checks lti1p3platform leaves to its host: the
redirect URI, the client assertion's ``aud``, ``iss``, ``sub`` and a reused ``jti``."""

from __future__ import annotations

import html
import http.server
import json
import threading
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import LtiException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs):
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url):
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data, **kwargs):
        return launch_data


class Platform:
    """One platform (its issuer is its own address) with one registration of the tool."""

    def __init__(self, client_id: str = "heforshe-tool", deployment_id: str = "deployment-1"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.registration = (Registration().set_iss(self.issuer).set_client_id(client_id)
                             .set_deployment_id(deployment_id).set_platform_public_key(public)
                             .set_platform_private_key(private))
        self.config = _Config(registration=self.registration)
        self.scores: list[dict] = []
        self.token_requests: list[dict] = []
        self._jtis: set[str] = set()
        self.user = {"sub": "student-42", "name": "Ines Duarte", "email": "ines@northfield.example"}
        self.course = {"id": "course-101", "title": "Law 101"}
        self.lineitem: str | None = f"{self.issuer}/lineitems/1"
        self.token_lifetime = 300
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # --- what the admin copies into the tool's LTI page ---
    @property
    def settings(self) -> dict:
        return {"issuer": self.issuer, "client_id": self.registration.get_client_id(),
                "deployment_ids": self.registration.get_deployment_id(), "key_set_url": f"{self.issuer}/jwks",
                "auth_login_url": f"{self.issuer}/auth", "auth_token_url": f"{self.issuer}/token"}

    def use_tool(self, site: str) -> None:
        """Register the tool's addresses (``site`` like http://northfield.hfs.test:5000)."""
        self.registration.set_oidc_login_url(f"{site}/lti/login").set_launch_url(f"{site}/lti/launch")
        self.registration.set_tool_key_set_url(f"{site}/lti/jwks")

    def login_url(self) -> str:
        """The third-party-initiated login the course's link starts."""
        login = _Login(None, self.config)
        login.set_lti_message_hint(hint="resource-1")
        return login.initiate_login(self.user["sub"])

    def authenticate(self, query: dict) -> dict:
        """Answer the tool's authentication request: the launch (``launch_url``, ``id_token``, ``state``)."""
        if query.get("redirect_uri") != self.registration.get_launch_url():
            raise ValueError("the redirect URI is not the tool's")
        if query.get("login_hint") != self.user["sub"] or query.get("response_mode") != "form_post":
            raise ValueError("not this platform's login")
        launch = _Launch({"get_data": query}, self.config)
        launch._request = type("R", (), {"get_data": query, "form_data": {}})()
        launch.set_user_data(self.user["sub"], ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
                             full_name=self.user["name"], email_address=self.user["email"])
        launch.set_resource_link_claim("resource-1", title="HeForShe")
        launch.set_launch_context_claim(self.course["id"], context_title=self.course["title"])
        launch.set_id_token_expiration(self.token_lifetime)
        if self.lineitem:
            launch.set_ags(f"{self.issuer}/lineitems", self.lineitem)
        return launch.lti_launch()

    def _token(self, form: dict) -> tuple[int, dict]:
        assertion = jwt.decode(form.get("client_assertion", ""), options={"verify_signature": False})
        client_id = self.registration.get_client_id()
        if assertion.get("aud") != f"{self.issuer}/token" or assertion.get("iss") != client_id \
                or assertion.get("sub") != client_id or assertion.get("jti") in self._jtis:
            return 400, {"error": "invalid_client"}
        self._jtis.add(assertion["jti"])
        self.token_requests.append(form)
        try:
            return 200, dict(_Config(registration=self.registration).get_access_token(form))
        except (LtiException, jwt.InvalidTokenError):  # the assertion is not signed by a key of the tool's
            return 401, {"error": "invalid_client"}

    def _score(self, headers, body: bytes) -> int:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self.registration.get_platform_public_key(), algorithms=["RS256"])
        except jwt.InvalidTokenError:
            return 401
        if SCORE_SCOPE not in claims.get("scopes", "").split():
            return 403
        self.scores.append(json.loads(body))
        return 200

    def _handler(self):
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: str, kind: str = "application/json"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/jwks":
                    return self._send(200, json.dumps({"keys": platform.registration.get_jwks()}))
                if parts.path == "/course":  # the course page: the tool in a frame, as platforms show it
                    return self._send(200, f'<!doctype html><title>Law 101</title><h1>Law 101</h1><iframe '
                                           f'src="{html.escape(platform.login_url())}" title="HeForShe" '
                                           f'width="500" height="500"></iframe>', "text/html")
                if parts.path == "/auth":
                    try:
                        launch = platform.authenticate(dict(parse_qsl(parts.query)))
                    except ValueError as error:
                        return self._send(400, str(error), "text/plain")
                    fields = "".join(f'<input type="hidden" name="{name}" value="{html.escape(launch[name])}">'
                                     for name in ("id_token", "state"))
                    return self._send(200, f'<!doctype html><title>Launching</title><form method="post" '
                                           f'action="{html.escape(launch["launch_url"])}">{fields}</form>'
                                           f'<script>document.forms[0].submit()</script>', "text/html")
                return self._send(404, "{}")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":
                    status, answer = platform._token(dict(parse_qsl(body.decode())))
                    return self._send(status, json.dumps(answer))
                if self.path == "/lineitems/1/scores":
                    return self._send(platform._score(self.headers, body), "{}")
                return self._send(404, "{}")

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
