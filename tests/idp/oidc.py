"""A real OpenID Connect provider for the tests: npm ``oidc-provider`` run by ``oidc_provider.mjs``.

Authorization code flow only, PKCE S256 required, client_secret_basic or client_secret_post at the
token endpoint. Scopes: ``openid``, ``email`` (email, email_verified), ``profile`` (name, department),
``groups`` (groups). As the provider does by default, the id_token carries only ``sub`` (and the
protocol claims): the rest comes from /userinfo. One provider per ``workdir``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
# A provider comes up in about a second; on a loaded CI box (two test workers, a browser, PostgreSQL) node's
# provider once took over 20 s, so the wait is long: it costs nothing when the provider is quick.
START_TIMEOUT = 60
_LOGIN_FORM = re.compile(r'<form[^>]*\baction="([^"]*)"[^>]*>(?:(?!</form>).)*name="password"', re.S)


def unavailable() -> str | None:
    """Why the provider cannot run here, or None when it can."""
    if shutil.which("node") is None or not (ROOT / "node_modules" / "oidc-provider" / "package.json").is_file():
        return "needs Node.js and `npm ci` (oidc-provider)"
    return None


@dataclass
class SignInResult:
    """Where the browser stopped: the redirect that leaves the provider, or the page it showed instead."""

    callback_url: str | None
    page: str
    status: int
    form_shown: bool


@dataclass
class OidcProvider:
    """A running oidc-provider; stop it with ``stop()`` or use it as a context manager."""

    issuer: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def __enter__(self) -> OidcProvider:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if node has not exited within 5 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def rotate_signing_key(self) -> None:
        """Replace the provider's signing key with a new one (a new ``kid``), as a key rollover does."""
        out = self.log_path.with_suffix(".out")
        rotations = out.read_text().count("ROTATED")
        self.process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + START_TIMEOUT
        while out.read_text().count("ROTATED") == rotations:
            if time.monotonic() > deadline:
                raise RuntimeError(f"oidc-provider did not rotate its key:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def sign_in(
        self, authorize_url: str, username: str, password: str, session: requests.Session | None = None
    ) -> SignInResult:
        """Play the browser from the authorization request to the redirect back to the app.

        Follows redirects while they stay on the provider, fills the login form if it is shown, and stops at
        the first redirect elsewhere: ``callback_url`` (carrying ``code`` and ``state``, or ``error`` when the
        provider refuses a request it can safely answer at the redirect_uri, e.g. a missing code_challenge or
        ``prompt=none`` without a session). When the redirect_uri itself is not registered (or the client is
        unknown) the provider shows an error page instead: ``callback_url`` is None and ``page`` holds it.
        A wrong password shows the form again: ``callback_url`` None, ``page`` with "Invalid username or
        password". With the same ``session`` (the provider's cookies), a second sign-in skips the form.
        """
        session = session or requests.Session()
        response, callback = self._browse(session, "GET", authorize_url)
        form = _LOGIN_FORM.search(response.text) if callback is None else None
        if form:
            action = urljoin(response.url, html.unescape(form.group(1)))
            response, callback = self._browse(session, "POST", action, {"username": username, "password": password})
        return SignInResult(callback, response.text, response.status_code, form_shown=form is not None)

    def _browse(self, session: requests.Session, method: str, url: str, data: dict | None = None):
        """Follow redirects on the provider; returns its last response and the first URL that leaves it."""
        while True:
            response = session.request(method, url, data=data, allow_redirects=False, timeout=10)
            if not response.is_redirect:
                return response, None
            url = urljoin(response.url, response.headers["Location"])
            if urlsplit(url).netloc != urlsplit(self.issuer).netloc:
                return response, url
            method, data = "GET", None  # the provider redirects with 302/303 only


def start_oidc_provider(
    workdir: Path, clients: list[dict], accounts: list[dict], clock_offset_seconds: int = 0, id_token_ttl: int = 600
) -> OidcProvider:
    """Start a provider for ``clients`` ({client_id, client_secret, redirect_uris, post_logout_redirect_uris}, and
    optionally ``id_token_audience``: the ``aud`` its id_tokens carry instead of the client_id, with no ``azp``)
    and ``accounts`` ({username, password, claims: {sub, email, email_verified, name, groups, department}}); an
    account's claims are sent as given, so ``email_verified`` may be false (an address the provider has not checked).

    ``clock_offset_seconds`` shifts the provider's clock (e.g. -7200 issues already-expired id_tokens).
    Its config and logs go to ``workdir``; raises RuntimeError (with the log) if it does not come up.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "oidc-provider.json"
    config_path.write_text(json.dumps({
        "issuer_port": 0, "clients": clients, "accounts": accounts,
        "clock_offset_seconds": clock_offset_seconds, "id_token_ttl": id_token_ttl,
    }))
    stdout_path, log_path = workdir / "oidc-provider.out", workdir / "oidc-provider.log"
    # Files, not pipes: nobody reads node's output while the tests run, so a pipe could fill and block it.
    with stdout_path.open("w") as stdout, log_path.open("w") as stderr:
        process = subprocess.Popen(["node", str(SCRIPT), str(config_path)], cwd=ROOT, stdout=stdout, stderr=stderr)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if match := re.match(r"READY (\S+)\n", stdout_path.read_text()):
            return OidcProvider(match.group(1), log_path, process)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=5)
    raise RuntimeError(f"oidc-provider did not start (exit code {process.poll()}):\n{log_path.read_text()}")
