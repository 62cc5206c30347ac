"""SCIM 2.0 provisioning: scim2-tester against ``/scim/v2``, the PATCH sequences Entra ID sends, the roster's
effect on headcounts and portal roles, the token's walls, and the portal page that makes it."""

from __future__ import annotations

import pytest
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server
from sqlalchemy import select

from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenant_portal.provisioning import services
from tenant_portal.provisioning.models import ScimToken
from tenants.models import Commitment, Member, Role, Unit
from tests.helpers import csrf_token, host

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def make_token(app, db):
    """A SCIM token of ``tenant``, committed; returns its secret."""

    def make(tenant) -> str:
        with app.test_request_context(base_url=host(tenant.slug)), tenant_context(tenant):
            _, secret = services.create_token()
            db.session.commit()
        return secret

    return make


def scim(client, tenant, secret, method, path, body=None, **headers):
    return client.open(f"/scim/v2{path}", method=method, base_url=host(tenant.slug), json=body,
                       headers={"Authorization": f"Bearer {secret}", **headers})


def new_user(client, tenant, secret, user_name="sam@acme.example", department="paris", **fields):
    body = {"schemas": [USER, ENTERPRISE], "userName": user_name, "externalId": f"ext-{user_name}", "active": True,
            "name": {"givenName": "Sam", "familyName": "Doe"}, "emails": [{"value": user_name, "primary": True}],
            ENTERPRISE: {"department": department, "employeeNumber": "42"}, **fields}
    response = scim(client, tenant, secret, "POST", "/Users", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def headcount(tenant, unit_id):
    with tenant_context(tenant):
        return Unit.query.filter_by(id=unit_id).one().eligible_total if hasattr(Unit, "query") else \
            services.db.session.scalars(select(Unit.eligible_total).where(Unit.id == unit_id)).one()


def test_scim2_tester_finds_nothing_wrong(app, make_tenant, make_token, capsys):
    acme = make_tenant("acme", "Acme Corporation")
    secret = make_token(acme)
    client = WSGISCIMClient(app, base_url=f"{host('acme')}/scim/v2", headers={"Authorization": f"Bearer {secret}"})
    results = check_server(client)
    summary = {status.name: sum(1 for result in results if result.status is status) for status in Status}
    failures = [f"{result.title}: {result.reason}" for result in results
                if result.status not in (Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE, Status.SKIPPED)]
    with capsys.disabled():
        print("\nscim2-tester:", summary)
    assert not failures, "\n".join(failures)
    assert summary["SUCCESS"] >= 60
