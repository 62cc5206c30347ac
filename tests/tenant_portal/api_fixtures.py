"""Keys of the Commitments API for tests, and a valid commitment to send."""

from __future__ import annotations

import pytest

from core.tenancy import tenant_context
from tenant_portal.api import services
from tenant_portal.api.models import SCOPES
from tests.helpers import host


@pytest.fixture
def make_key(app, db):
    """A key of ``tenant`` (every scope unless told), committed; returns its token."""

    def make(tenant, scopes=SCOPES, name: str = "HR portal") -> str:
        with app.test_request_context(base_url=host(tenant.slug)), tenant_context(tenant):
            _, token = services.create_key(name, list(scopes))
            db.session.commit()
        return token

    return make


def commitment(**fields) -> dict:
    return {"email": "sam@example.org", "gender": "man", "country": "FR", "language": "en",
            "consent_version": "2026-11", "consented_at": "2026-12-01T10:00:00Z", **fields}


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}
