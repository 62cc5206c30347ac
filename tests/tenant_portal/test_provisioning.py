"""SCIM 2.0 provisioning: scim2-tester against ``/scim/v2``, the PATCH sequences Entra ID sends, the roster's
effect on headcounts and portal roles, the token's walls, and the portal page that makes it."""

from __future__ import annotations

import lxml.html
import pytest
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server
from sqlalchemy import select

from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenant_portal.provisioning import services
from tenant_portal.provisioning.models import ScimToken
from tenants.models import Commitment, Member, Role, Unit
from tests.core.test_hostile_parameters import HOSTILE, QUERY_PARAMETERS, encoded
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


def headcount(db, tenant, unit_id):
    with tenant_context(tenant):
        return db.session.scalars(select(Unit.eligible_total).where(Unit.id == unit_id)).one()


def patch(client, tenant, secret, path, *operations, **headers):
    return scim(client, tenant, secret, "PATCH", path, {"schemas": [PATCH], "Operations": list(operations)},
                **headers)


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


def test_the_roster_drives_the_eligible_headcount_and_keeps_only_what_links_a_member(client, db, make_tenant,
                                                                                    make_token, make_unit):
    acme = make_tenant("acme", "Acme Corporation")
    paris = make_unit(acme, "Paris office", external_key="paris")
    lyon = make_unit(acme, "Lyon office")
    secret = make_token(acme)
    sam = new_user(client, acme, secret, "sam@acme.example")
    new_user(client, acme, secret, "ana@acme.example")
    new_user(client, acme, secret, "guest@partner.example", userType="Guest")
    assert headcount(db, acme, paris.id) == 2  # the guest is on the roster, not counted
    assert sam["userName"] == "sam@acme.example" and sam["externalId"] == "ext-sam@acme.example"
    assert "name" not in sam and "emails" not in sam and "employeeNumber" not in sam[ENTERPRISE]
    moved = patch(client, acme, secret, f"/Users/{sam['id']}",
                  {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Lyon office"})
    assert moved.status_code == 200, moved.get_json()
    assert (headcount(db, acme, paris.id), headcount(db, acme, lyon.id)) == (1, 1)


def test_the_units_page_says_the_roster_keeps_the_headcounts(client, make_tenant, make_token, make_unit,
                                                             sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_unit(acme, "Paris office", external_key="paris")
    sign_in_as(acme, Role.ADMIN, client=client)
    assert "units-roster" not in client.get("/portal/units", base_url=host("acme")).get_data(as_text=True)
    secret = make_token(acme)
    new_user(client, acme, secret, "sam@acme.example")
    new_user(client, acme, secret, "guest@partner.example", userType="Guest")
    page = lxml.html.fromstring(client.get("/portal/units", base_url=host("acme")).get_data(as_text=True))
    note = " ".join(page.get_element_by_id("units-roster").text_content().split())
    assert "1 of the 2 people it sent are active and eligible" in note


def test_entra_patch_sequences(client, db, make_tenant, make_token, make_unit, make_commitment):
    """Entra sends capitalised ops, booleans as strings and group members added and removed by PATCH."""
    acme = make_tenant("acme", "Acme Corporation")
    paris = make_unit(acme, "Paris office", external_key="paris")
    secret = make_token(acme)
    make_commitment(acme, "sam@acme.example", unit=paris)
    with tenant_context(acme):
        sam_member = db.session.scalars(select(Member).where(Member.email_canonical == "sam@acme.example")).one()
        sam_member.role = Role.ADMIN
        db.session.commit()
    sam = new_user(client, acme, secret)
    found = scim(client, acme, secret, "GET", "/Users", None).status_code
    assert found == 200
    listed = client.get('/scim/v2/Users?filter=userName eq "sam@acme.example"', base_url=host("acme"),
                        headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert listed["totalResults"] == 1 and listed["Resources"][0]["id"] == sam["id"]
    assert client.get('/scim/v2/Users?filter=userName eq "nobody@acme.example"', base_url=host("acme"),
                      headers={"Authorization": f"Bearer {secret}"}).get_json()["totalResults"] == 0

    group = scim(client, acme, secret, "POST", "/Groups", {"schemas": [GROUP], "displayName": "Paris staff",
                                                           "externalId": "g-1"}).get_json()
    added = patch(client, acme, secret, f"/Groups/{group['id']}",
                  {"op": "Add", "path": "members", "value": [{"value": sam["id"]}]})
    assert added.status_code in (200, 204)
    members = scim(client, acme, secret, "GET", f"/Groups/{group['id']}").get_json()["members"]
    assert [member["value"] for member in members] == [sam["id"]]
    removed = patch(client, acme, secret, f"/Groups/{group['id']}",
                    {"op": "Remove", "path": f'members[value eq "{sam["id"]}"]'})
    assert removed.status_code in (200, 204)
    assert not scim(client, acme, secret, "GET", f"/Groups/{group['id']}").get_json().get("members")
    patch(client, acme, secret, f"/Groups/{group['id']}", {"op": "Add", "path": "members", "value": [{"value": sam["id"]}]})
    entra_removed = patch(client, acme, secret, f"/Groups/{group['id']}",
                          {"op": "Remove", "path": "members", "value": [{"value": sam["id"]}]})
    assert entra_removed.status_code == 200, entra_removed.get_json()
    assert not scim(client, acme, secret, "GET", f"/Groups/{group['id']}").get_json().get("members")

    current = scim(client, acme, secret, "GET", f"/Users/{sam['id']}")
    stale = patch(client, acme, secret, f"/Users/{sam['id']}", {"op": "Replace", "path": "userType", "value": "x"},
                  **{"If-Match": 'W/"not-the-version"'})
    assert stale.status_code == 412
    gone = patch(client, acme, secret, f"/Users/{sam['id']}", {"op": "Replace", "path": "active", "value": "False"},
                 **{"If-Match": current.headers["ETag"]})
    assert gone.status_code == 200, gone.get_json()
    assert gone.get_json()["active"] is False
    assert headcount(db, acme, paris.id) == 0
    with tenant_context(acme):
        member = db.session.scalars(select(Member).where(Member.email_canonical == "sam@acme.example")).one()
        assert member.role is Role.MEMBER
        assert db.session.scalars(select(Commitment).where(Commitment.member_id == member.id)).one()
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "provisioning.user_deprovision")).one()
        assert entry.details["previous_role"] == "admin"

    back = patch(client, acme, secret, f"/Users/{sam['id']}", {"op": "replace", "value": {"active": "True"}})
    assert back.get_json()["active"] is True and headcount(db, acme, paris.id) == 1
    assert scim(client, acme, secret, "DELETE", f"/Users/{sam['id']}").status_code == 204
    assert headcount(db, acme, paris.id) == 0
    assert scim(client, acme, secret, "GET", f"/Users/{sam['id']}").status_code == 404


def test_a_token_is_refused_on_another_tenants_host_and_once_revoked(app, client, db, make_tenant, make_token):
    acme = make_tenant("acme", "Acme Corporation")
    globex = make_tenant("globex", "Globex Hidden")
    acme_secret = make_token(acme)
    new_user(client, acme, acme_secret, "sam@acme.example")
    on_globex = scim(client, globex, acme_secret, "GET", "/Users")
    assert on_globex.status_code == 401
    assert on_globex.get_json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert "sam@acme.example" not in on_globex.get_data(as_text=True)
    assert scim(client, globex, make_token(globex), "GET", "/Users").get_json()["totalResults"] == 0
    assert scim(client, acme, "hfs_scim_nothing.wrong", "GET", "/Users").status_code == 401
    too_large = scim(client, acme, acme_secret, "POST", "/Users", {"userName": "x" * 2_000_000})
    assert too_large.status_code == 413 and too_large.get_json()["status"] == "413"
    with tenant_context(acme):
        services.revoke_token(db.session.scalars(select(ScimToken)).one())
        db.session.commit()
    assert scim(client, acme, acme_secret, "GET", "/Users").status_code == 401


def test_the_portal_page_shows_a_new_token_once(client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, client=client)
    page = client.get("/portal/provisioning", base_url=host("acme"))
    assert page.status_code == 200 and "http://acme.hfs.test/scim/v2" in page.get_data(as_text=True)
    made = client.post("/portal/provisioning", base_url=host("acme"),
                       data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert made.headers["Cache-Control"] == "no-store"
    body = made.get_data(as_text=True)
    secret = body.split('id="new-scim-token">')[1].split("<")[0]
    assert secret.startswith(services.TOKEN_PREFIX)
    assert secret not in client.get("/portal/provisioning", base_url=host("acme")).get_data(as_text=True)
    with tenant_context(acme):
        token = db.session.scalars(select(ScimToken)).one()
        assert secret not in (token.secret_hash, token.prefix)
    assert scim(client, acme, secret, "GET", "/Users").status_code == 200


def test_hostile_query_parameters_get_a_scim_error_never_a_server_error(app, client, make_tenant, make_token):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    acme = make_tenant("acme", "Acme Corporation")
    secret = make_token(acme)
    new_user(client, acme, secret)
    for name in QUERY_PARAMETERS["scim.endpoint"]:
        for value in HOSTILE + ['userName eq "x" or (', 'emails[type eq "work"].value co "@"']:
            response = client.get(f"/scim/v2/Users?{name}={encoded(value)}", base_url=host("acme"),
                                  headers={"Authorization": f"Bearer {secret}"})
            assert response.status_code < 500, f"{name}={value!r}"


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_line_break_in_the_address_gets_a_scim_error_never_a_server_error(app, client, make_tenant, make_token,
                                                                            signed_in):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    acme = make_tenant("acme", "Acme Corporation")
    secret = make_token(acme) if signed_in else "wrong"
    for path in ("/%0D", "/Users/%0D", "/Users/x%0DSet-Cookie:%20x=1"):  # a CR reaches SCIM (an LF matches no route)
        response = scim(client, acme, secret, "GET", path)
        assert response.status_code == (404 if signed_in else 401), path
        assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], path
        assert response.headers["Location"] == f"{host('acme')}/scim/v2{path}", "the address, escaped"
        assert "Set-Cookie" not in response.headers, path
    assert scim(client, acme, secret, "GET", "/Users/%0A").status_code == 404


def test_a_viewer_sees_the_page_but_cannot_make_a_token(client, make_tenant, make_token, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_token(acme)
    sign_in_as(acme, Role.VIEWER, client=client)
    page = client.get("/portal/provisioning", base_url=host("acme"))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "/scim/v2" in body and "Make a token" not in body and "Revoke" not in body
    refused = client.post("/portal/provisioning", base_url=host("acme"), data={"csrf_token": csrf_token(body)})
    assert refused.status_code == 403


def test_text_no_database_can_store_gets_a_scim_error_never_a_server_error(client, make_tenant, make_token,
                                                                            make_unit):
    acme = make_tenant("acme", "Acme Corporation")
    make_unit(acme, "Paris office", external_key="paris")
    secret = make_token(acme)
    for fields in ({"userName": "sam\ud800@acme.example"}, {"externalId": "ext\x00"},
                   {ENTERPRISE: {"department": "par\udc00is"}}):
        body = {"schemas": [USER, ENTERPRISE], "userName": "sam@acme.example", "active": True, **fields}
        answer = scim(client, acme, secret, "POST", "/Users", body)
        assert answer.status_code in (400, 409) and answer.get_json()["schemas"] == [
            "urn:ietf:params:scim:api:messages:2.0:Error"], (fields, answer.status_code)
