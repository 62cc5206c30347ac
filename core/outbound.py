"""The one HTTP client for addresses that someone other than the operator chose: an identity provider's
discovery document, keys, token and userinfo endpoints, SAML metadata.

Such an address could point the server at itself or at its neighbours (server-side request forgery). Unless
``OUTBOUND_ALLOW_PRIVATE`` is on (the embedded run and the tests, whose identity providers listen on the
loopback), every connection goes through requests-hardened's adapter: the name is resolved once, the address is
refused when it is loopback, private, link-local (cloud metadata at 169.254.169.254 included) or otherwise not
public, and the connection is made to that very address, so a name that changes its answer between the check
and the connection (DNS rebinding) gains nothing. Redirects pass through the same check, hop by hop. Every
answer has timeouts and a size cap.

Failures are ``requests.RequestException``; their text is for the log, never for the person who typed the URL.
"""

from __future__ import annotations

import requests
from flask import current_app
from requests_hardened.ip_filter_adapter import IPFilterAdapter

#: Seconds to connect, and between two bytes of the answer.
TIMEOUT = (5, 10)
#: The largest answer read (after decompression); an identity provider's own metadata is a few kilobytes.
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class ResponseTooLarge(requests.RequestException):
    """The answer is larger than ``MAX_RESPONSE_BYTES``."""


class GuardedSession(requests.Session):
    """A requests session that keeps to public addresses (unless ``OUTBOUND_ALLOW_PRIVATE``), with timeouts,
    few redirects and a size cap. Mix it in before another session class (authlib's) to guard that one too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # requests.Session.__init__ mounts its plain adapters: replace them after
        self.max_redirects = MAX_REDIRECTS
        if not current_app.config["OUTBOUND_ALLOW_PRIVATE"]:
            self.mount("http://", IPFilterAdapter(is_https_proto=False, allow_loopback=False))
            self.mount("https://", IPFilterAdapter(is_https_proto=True, allow_loopback=False))
        self.hooks["response"].append(_read_capped)  # every hop of a redirect, before requests reads a body

    def send(self, request, **kwargs):
        kwargs["timeout"] = kwargs.get("timeout") or TIMEOUT
        return super().send(request, **kwargs)


def _read_capped(response: requests.Response, **_kwargs) -> None:
    """Read the body, refusing it once it passes the cap (a declared length that is too large is refused at once)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        response.close()
        raise ResponseTooLarge(f"{response.url} announces {declared} bytes", response=response)
    body = bytearray()
    for chunk in response.iter_content(_CHUNK):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            response.close()
            raise ResponseTooLarge(f"{response.url} sent more than {MAX_RESPONSE_BYTES} bytes", response=response)
    # What requests itself does once a body is read: later .content, .text and .json() use these bytes.
    response._content = bytes(body)
    response._content_consumed = True


def public_only() -> bool:
    """Whether outbound requests keep to public addresses over https (production): an answer over plain http
    could come from anyone on the way, and a signing key read from it would let them sign in as anybody."""
    return not current_app.config["OUTBOUND_ALLOW_PRIVATE"]


def get(url: str, **kwargs) -> requests.Response:
    """GET ``url`` through the guarded client."""
    with GuardedSession() as session:
        return session.get(url, **kwargs)
