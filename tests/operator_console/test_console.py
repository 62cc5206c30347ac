"""The operator console at /operator on the global host: sign-in (the team's OpenID provider, break-glass), the
applications queue, the tenants list, suspension and sponsorship, and the global audit log."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import func, select

from core.tenancy import tenant_context
from operator_console.models import ApplicationStatus, OperatorAuditEntry, PartnerApplication, PartnerRecord
from tenant_portal.models import AuditEntry
from tenants.models import Member, Role, Tenant, TenantKind, TenantStatus
from tests.helpers import host
from tests.operator_console.conftest import GLOBAL, OPERATOR_EMAIL, post_from, sign_in_operator
from tests.tenant_portal.test_members import accept


def actions(db) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OperatorAuditEntry.action).order_by(OperatorAuditEntry.id)))


# --- Who may open it ----------------------------------------------------------------------------------------------

def test_anyone_not_signed_in_is_sent_to_sign_in(client):
    for path in ("/operator/", "/operator/applications", "/operator/tenants", "/operator/audit"):
        answer = client.get(path, base_url=GLOBAL)
        assert answer.status_code == 302 and answer.location == "/operator/sign-in", path


def test_a_tenant_admin_cannot_reach_the_console(client, make_tenant, sign_in_as):
    acme = make_tenant("acme")
    sign_in_as(acme, Role.ADMIN, client=client)
    assert client.get("/portal/dashboard", base_url=host("acme")).status_code == 200  # an admin there
    for path in ("/operator/", "/operator/applications", "/operator/tenants", "/operator/sign-in"):
        assert client.get(path, base_url=host("acme")).status_code == 404, path
        assert client.get(path, base_url=GLOBAL).status_code in (200, 302), path
    assert client.get("/operator/applications", base_url=GLOBAL).location == "/operator/sign-in"


def test_a_movement_member_cannot_reach_the_console(client, movement, sign_in_as):
    sign_in_as(movement, Role.MEMBER, client=client)
    assert client.get("/operator/tenants", base_url=GLOBAL).location == "/operator/sign-in"


def test_break_glass_needs_the_password_and_a_fresh_code(client, db, operator):
    wrong = sign_in_operator(client, operator, code="000000")
    assert wrong.status_code == 200 and "These details are not right" in wrong.get_data(as_text=True)
    assert client.get("/operator/tenants", base_url=GLOBAL).status_code == 302
    code = pyotp.TOTP(operator).now()
    assert sign_in_operator(client, operator, code=code).status_code == 303
    assert client.get("/operator/tenants", base_url=GLOBAL).status_code == 200
    assert sign_in_operator(client.application.test_client(), operator, code=code).status_code == 200  # used once
    assert actions(db)[-3:] == ["operator.sign_in_refused", "operator.sign_in", "operator.sign_in_refused"]


def test_five_wrong_tries_lock_the_break_glass_sign_in(app, client, db, operator):
    for _ in range(5):
        assert sign_in_operator(client, operator, code="000000").status_code == 200
    locked = sign_in_operator(client, operator)  # the right code, but locked for a while
    assert locked.status_code == 200 and "These details are not right" in locked.get_data(as_text=True)
    assert client.get("/operator/tenants", base_url=GLOBAL).status_code == 302


def test_signing_out_ends_the_session(signed_in_operator, db):
    client = signed_in_operator
    assert post_from(client, "/operator/tenants", "/operator/sign-out").status_code == 303
    assert client.get("/operator/tenants", base_url=GLOBAL).status_code == 302
    assert actions(db)[-1] == "operator.sign_out"


def test_removing_an_operator_ends_their_sessions(app, signed_in_operator, db):
    result = app.test_cli_runner().invoke(args=["operator", "remove", OPERATOR_EMAIL])
    assert result.exit_code == 0, result.output
    assert signed_in_operator.get("/operator/tenants", base_url=GLOBAL).status_code == 302


OPERATORS_CLIENT = {"client_id": "heforshe-console", "client_secret": "console-secret-for-tests",
                    "redirect_uris": [f"{GLOBAL}/operator/sign-in/oidc/callback"], "post_logout_redirect_uris": []}
OLGA = {"username": "olga", "password": "olga-long-password", "claims": {
    "sub": "staff-1", "email": OPERATOR_EMAIL, "email_verified": True, "name": "Olga", "groups": []}}
STRANGER = {"username": "sam", "password": "sam-long-password", "claims": {
    "sub": "staff-2", "email": "sam@heforshe.example", "email_verified": True, "name": "Sam", "groups": []}}
UNVERIFIED = {"username": "eve", "password": "eve-long-password", "claims": {
    "sub": "staff-3", "email": OPERATOR_EMAIL, "email_verified": False, "name": "Eve", "groups": []}}


@pytest.fixture
def operators_idp(app, tmp_path):
    """The HeForShe team's own OpenID provider, set as the console's."""
    from tests.conftest import cannot_run
    from tests.idp import oidc

    reason = oidc.unavailable()
    if reason:
        cannot_run("node", reason)
    provider = oidc.start_oidc_provider(tmp_path / "operators-idp", [OPERATORS_CLIENT], [OLGA, STRANGER, UNVERIFIED])
    app.config.update(OPERATOR_OIDC_ISSUER=provider.issuer, OPERATOR_OIDC_CLIENT_ID=OPERATORS_CLIENT["client_id"],
                      OPERATOR_OIDC_CLIENT_SECRET=OPERATORS_CLIENT["client_secret"])
    yield provider
    provider.stop()


def sign_in_through(client, provider, account):
    start = client.get("/operator/sign-in/oidc", base_url=GLOBAL)
    assert start.status_code == 302, start.get_data(as_text=True)
    result = provider.sign_in(start.location, account["username"], account["password"])
    assert result.callback_url, result.page[:300]
    return client.get(result.callback_url)


def test_an_operator_signs_in_through_the_teams_identity_provider(client, db, operator, operators_idp):
    page = client.get("/operator/sign-in", base_url=GLOBAL).get_data(as_text=True)
    assert "Sign in with the HeForShe team" in page
    answer = sign_in_through(client, operators_idp, OLGA)
    assert answer.status_code == 303 and answer.location == "/operator/applications"
    assert client.get("/operator/tenants", base_url=GLOBAL).status_code == 200
    entry = db.session.scalars(select(OperatorAuditEntry).order_by(OperatorAuditEntry.id.desc())).first()
    assert (entry.action, entry.operator_email, entry.details) == ("operator.sign_in", OPERATOR_EMAIL, {"via": "oidc"})


@pytest.mark.parametrize("account", [STRANGER, UNVERIFIED], ids=["not an operator", "address not verified"])
def test_the_identity_provider_alone_does_not_make_an_operator(client, db, operator, operators_idp, account):
    answer = sign_in_through(client, operators_idp, account)
    assert answer.status_code == 200 and "That sign-in did not work" in answer.get_data(as_text=True)
    assert client.get("/operator/tenants", base_url=GLOBAL).status_code == 302


def test_a_forged_callback_signs_nobody_in(client, operator, operators_idp):
    client.get("/operator/sign-in/oidc", base_url=GLOBAL)
    forged = client.get("/operator/sign-in/oidc/callback?code=made-up&state=made-up", base_url=GLOBAL)
    assert forged.status_code == 200 and "That sign-in did not work" in forged.get_data(as_text=True)
    assert client.get("/operator/tenants", base_url=GLOBAL).status_code == 302


# --- The applications queue ---------------------------------------------------------------------------------------

def test_approving_creates_the_tenant_and_invites_its_first_admin_once(app, signed_in_operator, db, application,
                                                                        smtp_server):
    client = signed_in_operator
    queue = client.get("/operator/applications", base_url=GLOBAL).get_data(as_text=True)
    assert "Newco Industries" in queue
    page = f"/operator/applications/{application.id}"
    approved = post_from(client, page, f"{page}/approve")
    assert approved.status_code == 303
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "newco"))
    assert (tenant.name, tenant.kind, tenant.status, tenant.default_language) == (
        "Newco Industries", TenantKind.CORPORATION, TenantStatus.ACTIVE, "fr")
    assert db.session.get(PartnerRecord, tenant.id).country_code == "FR"
    db.session.expire_all()
    assert db.session.get(PartnerApplication, application.id).status is ApplicationStatus.APPROVED

    mail = smtp_server.last_to("nadia@newco.example")
    link = smtp_server.link(mail)
    assert link.startswith(f"{host('newco')}/invitations/")
    admin = app.test_client()
    assert accept(admin, link).location == "/portal/"
    assert admin.get("/portal/dashboard", base_url=host("newco")).status_code == 200
    assert accept(app.test_client(), link).status_code == 410  # single-use
    with tenant_context(tenant):
        assert db.session.scalar(select(Member.role).where(Member.email == "nadia@newco.example")) is Role.ADMIN

    again = post_from(client, page, f"{page}/approve")
    assert again.status_code == 409 and "This application was decided already." in again.get_data(as_text=True)
    assert "application.approve" in actions(db)


def test_an_application_whose_subdomain_was_taken_meanwhile_is_not_approved(signed_in_operator, db, application,
                                                                              make_tenant, smtp_server):
    make_tenant("newco", "Someone Else")
    page = f"/operator/applications/{application.id}"
    refused = post_from(signed_in_operator, page, f"{page}/approve")
    assert refused.status_code == 409 and "exists already" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PartnerApplication, application.id).status is ApplicationStatus.PENDING
    assert smtp_server.delivered() == []


def test_a_rejection_mails_the_reason_in_the_applicants_language(signed_in_operator, db, application, smtp_server):
    page = f"/operator/applications/{application.id}"
    empty = post_from(signed_in_operator, page, f"{page}/reject", reason="  ")
    assert empty.status_code == 400 and "Please give the reason." in empty.get_data(as_text=True)
    rejected = post_from(signed_in_operator, page, f"{page}/reject",
                         reason="We could not confirm the organisation at newco.example.")
    assert rejected.status_code == 303
    mail = smtp_server.last_to("nadia@newco.example")
    assert "Newco Industries" in mail["Subject"]
    assert "We could not confirm the organisation at newco.example." in mail.get_content()
    db.session.expire_all()
    found = db.session.get(PartnerApplication, application.id)
    assert found.status is ApplicationStatus.REJECTED and db.session.scalar(select(func.count(Tenant.id))) == 0
    entry = db.session.scalars(select(OperatorAuditEntry).where(OperatorAuditEntry.action == "application.reject")).one()
    assert (entry.operator_email, entry.reason) == (OPERATOR_EMAIL, found.rejection_reason)


def test_an_unknown_application_is_not_found(signed_in_operator):
    assert signed_in_operator.get("/operator/applications/0190a0a0-0000-7000-8000-000000000000",
                                  base_url=GLOBAL).status_code == 404


# --- Tenants ------------------------------------------------------------------------------------------------------

def test_the_tenants_list_searches_filters_and_pages(signed_in_operator, db, make_tenant, movement):
    for n in range(27):
        make_tenant(f"corp{n:02}", f"Corporation {n:02}")
    make_tenant("kenya-gov", "Government of Kenya", kind=TenantKind.GOVERNMENT, plan="community")
    unicef = make_tenant("ngo", "Helping Hands", kind=TenantKind.NGO, plan="partner")
    with tenant_context(unicef):
        db.session.add(PartnerRecord(tenant_id=unicef.id, country_code="KE"))
        db.session.commit()

    def listed(**query):
        body = signed_in_operator.get("/operator/tenants", base_url=GLOBAL, query_string=query).get_data(as_text=True)
        return re.findall(r'href="/operator/tenants/([a-z0-9-]+)"', body), body

    first, body = listed()
    assert len(first) == 25 and "29 tenants match." in body and "heforshe" not in first  # the movement is no partner
    second, _ = listed(page=2)
    assert len(second) == 4 and not set(first) & set(second)
    assert listed(q="KENYA")[0] == ["kenya-gov"]
    assert listed(kind="ngo")[0] == ["ngo"]
    assert listed(country="KE")[0] == ["ngo"]
    assert listed(status="suspended")[0] == []
    assert listed(plan="community")[0] == ["kenya-gov"] and listed(plan="partner")[0] == ["ngo"]
    assert len(listed(kind="no-such-kind", country="??", plan="gold", q="x" * 500)[0]) == 25  # what is not a choice narrows nothing


def test_suspending_shows_a_neutral_page_and_reactivating_restores_it(signed_in_operator, client, db, make_tenant,
                                                                      make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    make_commitment(acme)
    assert "Acme Corporation" in client.get("/", base_url=host("acme")).get_data(as_text=True)
    page = "/operator/tenants/acme"
    missing = post_from(signed_in_operator, page, f"{page}/suspend", reason="")
    assert missing.status_code == 400 and "Please give the reason." in missing.get_data(as_text=True)
    assert post_from(signed_in_operator, page, f"{page}/suspend", reason="Unpaid for a year").status_code == 303

    for path in ("/", "/map", "/stats.json", "/portal/"):
        answer = client.get(path, base_url=host("acme"))
        body = answer.get_data(as_text=True)
        assert answer.status_code == 404 and "Acme" not in body and "Unpaid" not in body, path
    assert "This HeForShe page is not available at the moment." in client.get("/", base_url=host("acme")).get_data(
        as_text=True)
    assert "No HeForShe partner has a page" in client.get("/", base_url=host("nobody")).get_data(as_text=True)
    db.session.expire_all()
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Member.id))) == 1  # nothing deleted

    assert post_from(signed_in_operator, page, f"{page}/reactivate", reason="Paid").status_code == 303
    assert "Acme Corporation" in client.get("/", base_url=host("acme")).get_data(as_text=True)
    again = post_from(signed_in_operator, page, f"{page}/reactivate", reason="Paid")
    assert again.status_code == 409
    log = signed_in_operator.get("/operator/audit", base_url=GLOBAL).get_data(as_text=True)
    assert "tenant.suspend" in log and "Unpaid for a year" in log and "tenant.reactivate" in log


def test_sponsoring_says_why(signed_in_operator, db, make_tenant):
    make_tenant("ngo", "Helping Hands", kind=TenantKind.NGO)
    page = "/operator/tenants/ngo"
    assert post_from(signed_in_operator, page, f"{page}/sponsor", reason="An NGO: no charge").status_code == 303
    shown = signed_in_operator.get(page, base_url=GLOBAL).get_data(as_text=True)
    assert "Yes: An NGO: no charge" in shown
    assert post_from(signed_in_operator, page, f"{page}/unsponsor", reason="Now a paying partner").status_code == 303
    assert actions(db)[-2:] == ["tenant.sponsor", "tenant.unsponsor"]


def test_the_movement_is_not_the_consoles_to_suspend(signed_in_operator, movement):
    assert signed_in_operator.get("/operator/tenants/heforshe", base_url=GLOBAL).status_code == 404


def test_every_operator_action_is_in_the_global_audit_log_not_a_tenants(app, signed_in_operator, db, application,
                                                                         make_tenant, smtp_server):
    acme = make_tenant("acme")
    post_from(signed_in_operator, f"/operator/applications/{application.id}",
              f"/operator/applications/{application.id}/approve")
    for change in ("suspend", "reactivate", "sponsor", "unsponsor"):
        post_from(signed_in_operator, "/operator/tenants/acme", f"/operator/tenants/acme/{change}", reason=change)
    post_from(signed_in_operator, "/operator/tenants", "/operator/sign-out")
    assert actions(db) == ["operator.add", "operator.sign_in", "application.approve", "tenant.suspend",
                           "tenant.reactivate", "tenant.sponsor", "tenant.unsponsor", "operator.sign_out"]
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0  # acme's own log is its admins'


def test_the_commands_keep_working(app, db):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["tenants", "create", "acme", "Acme Corporation", "--admin-email", "boss@acme.example"])
    assert created.exit_code == 0, created.output
    added = runner.invoke(args=["operator", "add", "ops@heforshe.example", "--break-glass"],
                          input="a long operator password\na long operator password\n")
    assert added.exit_code == 0 and "TOTP secret" in added.output, added.output
    assert "ops@heforshe.example" in runner.invoke(args=["operator", "list"]).output
    short = runner.invoke(args=["operator", "add", "x@heforshe.example", "--break-glass"], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
