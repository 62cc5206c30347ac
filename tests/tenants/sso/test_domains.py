"""Email domains for home-realm discovery: a claim sends nobody anywhere until it is proven (a DNS TXT record
or the operator), and an unproven claim never blocks the domain's real owner."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenants.models import Role, TenantKind
from tenants.sso import services
from tenants.sso.models import Protocol, SsoEmailDomain
from tests.helpers import BASE_DOMAIN, continues_to, csrf_token, host

STUDENT = "student@northfield.example.org"
TXT_NAME = "_heforshe-verification.northfield.example.org"


def connect(db, tenant, domains: list[str]):
    """Give ``tenant`` an OpenID Connect sign-in whose allowed (and claimed) domains are ``domains``."""
    with tenant_context(tenant):
        services.configure(tenant, Protocol.OIDC, services.Mapping("email", "name", None, "groups", None, domains, None),
                           oidc=services.OidcSettings(f"https://login.{tenant.slug}.example", "heforshe", "secret"))
        db.session.commit()


def discovered(client, email: str) -> str | None:
    """Where the global page sends someone who types ``email`` (None: nowhere, the public pages go on)."""
    page = client.get("/", base_url=host()).get_data(as_text=True)
    answer = client.post("/sso/discover", base_url=host(), data={"csrf_token": csrf_token(page), "email": email})
    if "No partner organisation signs in with this address" not in answer.get_data(as_text=True):
        return continues_to(answer)
    assert answer.status_code == 200 and "No partner organisation signs in with this address" in answer.get_data(
        as_text=True)
    return None


def claim(db, tenant, domain: str) -> SsoEmailDomain:
    db.session.expire_all()
    return db.session.scalars(select(SsoEmailDomain).where(SsoEmailDomain.tenant_id == tenant.id,
                                                           SsoEmailDomain.domain == domain)).one()


def check_now(client, slug: str, domain: str, expect_status: int = 303) -> str:
    """Choose "Check now" beside ``domain`` on the sign-in settings page; returns the page shown afterwards."""
    page = client.get("/portal/sso", base_url=host(slug)).get_data(as_text=True)
    answer = client.post(f"/portal/sso/domains/{domain}/check", base_url=host(slug),
                         data={"csrf_token": csrf_token(page)})
    assert answer.status_code == expect_status
    if expect_status != 303:
        return ""
    assert answer.location == "/portal/sso#email-domains"
    return client.get(answer.location, base_url=host(slug)).get_data(as_text=True)


def test_a_claimed_domain_sends_nobody_anywhere_until_it_is_proven(client, db, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    connect(db, acme, ["northfield.example.org"])  # Acme's admin claims Northfield's people
    assert discovered(client, STUDENT) is None


def test_an_unproven_claim_does_not_block_the_real_owner(app, client, db, make_tenant, sign_in_as, dns_server):
    acme = make_tenant("acme", "Acme Corporation")
    connect(db, acme, ["northfield.example.org"])
    northfield = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    connect(db, northfield, ["northfield.example.org"])  # refused before: "belongs to another organisation"

    sign_in_as(northfield, Role.ADMIN, client=client)
    page = client.get("/portal/sso", base_url=host("northfield")).get_data(as_text=True)
    token = claim(db, northfield, "northfield.example.org").verification_token
    assert TXT_NAME in page and token in page and "Not proven yet" in page

    missing = check_now(client, "northfield", "northfield.example.org")
    assert f"There is no TXT record at {TXT_NAME} yet" in missing
    assert discovered(client, STUDENT) is None

    dns_server[TXT_NAME] = ["v=spf1 -all", token]
    proven = check_now(client, "northfield", "northfield.example.org")
    assert "northfield.example.org is proven" in proven and "Proven" in proven and token not in proven
    assert discovered(client, STUDENT) == f"{host('northfield')}/sso/login?login_hint=student%40northfield.example.org"
    with tenant_context(northfield):
        assert db.session.scalars(select(AuditEntry.action)).all() == ["sso.domain_proven"]

    # Acme, second to come, cannot take the domain over, even with its own code published as well.
    dns_server[TXT_NAME] = [token, claim(db, acme, "northfield.example.org").verification_token]
    acme_admin = app.test_client()
    sign_in_as(acme, Role.ADMIN, client=acme_admin)
    taken = check_now(acme_admin, "acme", "northfield.example.org")
    assert "northfield.example.org is proven by another organisation" in taken
    assert "Proven by another organisation" in taken
    assert claim(db, acme, "northfield.example.org").verified_at is None
    assert discovered(client, STUDENT).startswith(host("northfield"))


def test_saving_the_settings_again_keeps_a_proven_domain_proven(client, db, make_tenant):
    northfield = make_tenant("northfield", "Northfield University")
    connect(db, northfield, ["northfield.example.org"])
    with tenant_context(northfield):
        services.prove_domain(northfield, "northfield.example.org")
        db.session.commit()
    connect(db, northfield, ["northfield.example.org", "alumni.northfield.example.org"])
    assert claim(db, northfield, "northfield.example.org").verified_at is not None
    assert claim(db, northfield, "alumni.northfield.example.org").verified_at is None
    assert discovered(client, STUDENT).startswith(host("northfield"))
    connect(db, northfield, ["alumni.northfield.example.org"])  # removed: no longer discovered
    assert discovered(client, STUDENT) is None


def test_the_operator_proves_a_domain(app, client, db, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    northfield = make_tenant("northfield", "Northfield University")
    connect(db, acme, ["northfield.example.org"])
    connect(db, northfield, ["northfield.example.org"])
    runner = app.test_cli_runner()

    unclaimed = runner.invoke(args=["sso", "prove-domain", "northfield", "elsewhere.example.org"])
    assert unclaimed.exit_code == 1 and "northfield does not claim elsewhere.example.org" in unclaimed.output
    proven = runner.invoke(args=["sso", "prove-domain", "northfield", "Northfield.Example.org"])
    assert proven.exit_code == 0, proven.output
    assert "northfield.example.org: proven for northfield" in proven.output
    assert discovered(client, STUDENT).startswith(host("northfield"))

    taken = runner.invoke(args=["sso", "prove-domain", "acme", "northfield.example.org"])
    assert taken.exit_code == 1 and "proven for northfield already" in taken.output
    revoked = runner.invoke(args=["sso", "prove-domain", "northfield", "northfield.example.org", "--revoke"])
    assert revoked.exit_code == 0 and "no longer proven" in revoked.output
    assert discovered(client, STUDENT) is None
    assert runner.invoke(args=["sso", "prove-domain", "acme", "northfield.example.org"]).exit_code == 0
    assert discovered(client, STUDENT).startswith(host("acme"))


def test_an_admin_cannot_check_another_tenants_domain(app, client, db, make_tenant, sign_in_as, dns_server):
    acme = make_tenant("acme", "Acme Corporation")
    northfield = make_tenant("northfield", "Northfield University")
    connect(db, northfield, ["northfield.example.org"])
    dns_server[TXT_NAME] = [claim(db, northfield, "northfield.example.org").verification_token]
    sign_in_as(acme, Role.ADMIN, client=client)
    check_now(client, "acme", "northfield.example.org", expect_status=404)
    assert claim(db, northfield, "northfield.example.org").verified_at is None
    viewer = app.test_client()
    sign_in_as(northfield, Role.VIEWER, client=viewer)
    token = csrf_token(viewer.get("/portal/dashboard", base_url=host("northfield")).get_data(as_text=True))
    assert viewer.post("/portal/sso/domains/northfield.example.org/check", base_url=host("northfield"),
                       data={"csrf_token": token}).status_code == 403
    assert claim(db, northfield, "northfield.example.org").verified_at is None


def test_an_admin_proves_a_domain_in_a_browser(page, axe, db, make_tenant, sign_in_as, dns_server):
    northfield = make_tenant("northfield", "Northfield University")
    connect(db, northfield, ["northfield.example.org"])
    sign_in_as(northfield, Role.ADMIN, page=page)
    page.goto(f"http://northfield.{BASE_DOMAIN}:{page.port}/portal/sso")
    row = page.locator("section[aria-labelledby=email-domains] tbody tr", has_text="northfield.example.org")
    expect(row).to_contain_text("Not proven yet")
    expect(row).to_contain_text(TXT_NAME)
    assert axe(page) == []

    dns_server[TXT_NAME] = [row.locator("dd code").nth(1).inner_text()]
    row.get_by_role("button", name="Check now").click()
    expect(page.get_by_role("status")).to_contain_text("northfield.example.org is proven")
    expect(row).to_contain_text("Proven")
    expect(row.get_by_role("button", name="Check now")).to_have_count(0)
