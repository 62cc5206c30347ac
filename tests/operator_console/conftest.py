"""Fixtures of the operator console's tests: an operator with a break-glass sign-in, an application waiting."""

from __future__ import annotations

import pyotp
import pytest

from operator_console import services
from operator_console.models import ApplicationKind
from tests.helpers import csrf_token, host

GLOBAL = host()
OPERATOR_EMAIL = "olga@heforshe.example"
OPERATOR_PASSWORD = "a long operator password"


@pytest.fixture
def operator(app, db):
    """An operator with a break-glass sign-in; returns their TOTP secret."""
    _, secret = services.add_operator(OPERATOR_EMAIL, "Olga", OPERATOR_PASSWORD)
    db.session.commit()
    return secret


def sign_in_operator(client, secret: str, code: str | None = None):
    """Sign in at /operator/sign-in with password and TOTP code; returns the answer."""
    page = client.get("/operator/sign-in", base_url=GLOBAL)
    return client.post("/operator/sign-in", base_url=GLOBAL, data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "email": OPERATOR_EMAIL,
        "password": OPERATOR_PASSWORD, "code": code or pyotp.TOTP(secret).now()})


@pytest.fixture
def signed_in_operator(client, operator):
    assert sign_in_operator(client, operator).status_code == 303
    return client


def post_from(client, page_path: str, action: str, **fields):
    """Post a console form as a browser would: with the CSRF token of the page it is on."""
    page = client.get(page_path, base_url=GLOBAL)
    return client.post(action, base_url=GLOBAL, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                      **fields})


@pytest.fixture
def application(app, db):
    """Newco's application, waiting, made in French."""
    found = services.apply("Newco Industries", ApplicationKind.CORPORATION, "FR", "https://newco.example",
                           "Nadia Novak", "nadia@newco.example", "newco", "fr")
    db.session.commit()
    return found
