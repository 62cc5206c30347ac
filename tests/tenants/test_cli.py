"""The operator's commands, as an operator types them."""

from dataclasses import replace

from sqlalchemy import select, update

from core.tenancy import tenant_context
from tenants.models import Member, Role, Tenant, TenantKind
from tenants.services.members import find_or_create_member
from tenants.sso import services as sso
from tenants.sso.models import Protocol, SsoEmailDomain
from tests.helpers import continues_to, csrf_token, host
from tests.sso_fixtures import OIDC_MAPPING


def test_create_a_tenant_with_its_first_admin(app, db):
    result = app.test_cli_runner().invoke(args=[
        "tenants", "create", "acme", "Acme Corporation", "--kind", "corporation", "--admin-email", "Boss@Acme.example"])
    assert result.exit_code == 0, result.output
    assert "http://acme.hfs.test/" in result.output
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
    assert (tenant.name, tenant.kind) == ("Acme Corporation", TenantKind.CORPORATION)
    with tenant_context(tenant):
        admin = db.session.scalars(select(Member)).one()
        assert (admin.email_canonical, admin.role) == ("boss@acme.example", Role.ADMIN)


def test_a_reserved_or_taken_slug_is_refused_with_a_reason(app, make_tenant):
    make_tenant("acme")
    runner = app.test_cli_runner()
    reserved = runner.invoke(args=["tenants", "create", "www", "W", "--admin-email", "a@b.example"])
    taken = runner.invoke(args=["tenants", "create", "acme", "Again", "--admin-email", "a@b.example"])
    assert reserved.exit_code == 1 and "'www' is reserved" in reserved.output
    assert taken.exit_code == 1 and "exists already" in taken.output


def test_add_a_custom_hostname(app, client, make_tenant):
    make_tenant("acme", "Acme Corporation")
    result = app.test_cli_runner().invoke(args=["tenants", "add-hostname", "acme", "HeForShe.Acme.example"])
    assert result.exit_code == 0 and "heforshe.acme.example -> acme (verified)" in result.output
    assert "Acme Corporation" in client.get("/", base_url="http://heforshe.acme.example").get_data(as_text=True)
    bad = app.test_cli_runner().invoke(args=["tenants", "add-hostname", "acme", "not a host"])
    assert bad.exit_code == 1 and "is not a valid hostname" in bad.output


def test_list_tenants_with_their_counts(app, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_tenant("globex")
    make_commitment(acme)
    lines = app.test_cli_runner().invoke(args=["tenants", "list"]).output.splitlines()
    assert lines[1].split()[:6] == ["acme", "corporation", "active", "yes", "1", "1"]
    assert lines[2].split()[:6] == ["globex", "corporation", "active", "yes", "0", "0"]


def test_load_the_demo_twice_safely(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tenants", "load-demo", "--commitments", "300"])
    assert first.exit_code == 0 and "Loaded 5 demo tenants and 300 commitments" in first.output
    second = runner.invoke(args=["tenants", "load-demo", "--commitments", "300"])
    assert second.exit_code == 0 and "nothing to do" in second.output
    stats = client.get("/stats.json", base_url=host()).get_json()
    assert stats["total"] == 300 and 0 < stats["men"] < 300
    assert len(stats["by_country"]) >= 2
    acme = client.get("/stats.json", base_url=host("acme")).get_json()
    assert acme["total"] > 0
    # The demo shows a tracker: Acme's sign-up page carries its public target.
    assert "of 1,000 men by" in client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert runner.invoke(args=["rollup", "recount"]).output.strip().endswith("every tally matches the commitments.")


def test_recount_reports_drift_and_repairs_it_on_request(app, db, make_tenant, make_commitment):
    from sqlalchemy import delete

    from core.rollup.models import TenantTally

    acme = make_tenant("acme")
    make_commitment(acme, country="KE")
    with tenant_context(acme):
        db.session.execute(delete(TenantTally))
        db.session.commit()
    runner = app.test_cli_runner()
    report = runner.invoke(args=["rollup", "recount"])
    assert report.exit_code == 1
    assert "tenant:acme country=KE: stored total/men/verified/verified_men 0/0/0/0, counted 1/1/0/0" in report.output
    assert runner.invoke(args=["rollup", "recount", "--repair"]).exit_code == 0
    assert runner.invoke(args=["rollup", "recount"]).exit_code == 0


def test_configure_the_map_and_the_privacy_threshold(app, client, make_tenant):
    make_tenant("acme")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "configure", "acme", "--map-visibility", "members", "--privacy-k", "12"])
    assert result.exit_code == 0 and "acme: map members, k=12, listed" in result.output
    assert client.get("/map", base_url=host("acme")).status_code == 403
    too_small = runner.invoke(args=["tenants", "configure", "acme", "--privacy-k", "4"])
    assert too_small.exit_code == 1 and "k must be at least 5" in too_small.output


def test_fold_addresses_recomputes_keys_stored_before_look_alikes_were_folded(app, db, client, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    with tenant_context(acme):
        # Keys as the earlier folding (lower case only) stored them.
        db.session.add_all(Member(email=email, email_canonical=email.lower())
                           for email in ("Ada@ＡＣＭＥ.example", "sam@example.org", "sam@ｅxample.org"))
        db.session.flush()
        ada = db.session.scalars(select(Member.id).where(Member.email == "Ada@ＡＣＭＥ.example")).one()
        sso.configure(acme, Protocol.OIDC, replace(OIDC_MAPPING, allowed_domains=["acme.example"]),
                      oidc=sso.OidcSettings("https://idp.invalid", "client", "secret"))
        sso.connection().allowed_domains = ["acme.example", "bücher.example"]
        db.session.add(SsoEmailDomain(domain="bücher.example", tenant_id=acme.id, verification_token="token"))
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["tenants", "fold-addresses"])
    assert result.exit_code == 1, result.output
    assert "acme: sam@example.org and sam@ｅxample.org are one address" in result.output
    assert "Folded 2 address keys and domain lists; 1 left for you to resolve." in result.output
    with tenant_context(acme):
        assert find_or_create_member("ada@acme.example").id == ada  # the same person, found again
        assert sso.connection().allowed_domains == ["acme.example", "xn--bcher-kva.example"]
        db.session.rollback()
    assert set(db.session.scalars(select(SsoEmailDomain.domain))) == {"acme.example", "xn--bcher-kva.example"}
    assert app.test_cli_runner().invoke(args=["sso", "prove-domain", "acme", "bücher.example"]).exit_code == 0
    page = client.get("/", base_url=host()).get_data(as_text=True)
    found = client.post("/sso/discover", base_url=host(), data={"csrf_token": csrf_token(page),
                                                               "email": "sam@bücher.example"})
    assert continues_to(found).startswith(f"{host('acme')}/sso/login?")

    with tenant_context(acme):
        db.session.execute(update(Member).where(Member.email == "sam@ｅxample.org").values(email="sam@example.net"))
        db.session.commit()
    again = app.test_cli_runner().invoke(args=["tenants", "fold-addresses"])
    assert again.exit_code == 0 and "Folded 1 address keys" in again.output


def test_fold_addresses_leaves_a_domain_that_now_folds_to_another_organisations_unproven(app, db, make_tenant):
    tenants = {}
    for slug, domain in (("acme", "acme.example"), ("globex", "xn--bcher-kva.example")):
        tenant = tenants[slug] = make_tenant(slug)
        with tenant_context(tenant):
            sso.configure(tenant, Protocol.OIDC, replace(OIDC_MAPPING, allowed_domains=[domain]),
                          oidc=sso.OidcSettings("https://idp.invalid", "client", "secret"))
            if slug == "acme":  # stored before domains were folded
                sso.connection().allowed_domains = ["acme.example", "bücher.example"]
                db.session.add(SsoEmailDomain(domain="bücher.example", tenant_id=tenant.id, verification_token="t"))
            else:
                sso.prove_domain(tenant, domain)
            db.session.commit()
    result = app.test_cli_runner().invoke(args=["tenants", "fold-addresses"])
    assert result.exit_code == 0, result.output
    # Both claim the one domain now; it stays globex's, the one that proved it.
    claims = db.session.execute(select(SsoEmailDomain.tenant_id, SsoEmailDomain.verified_at.is_not(None))
                                .where(SsoEmailDomain.domain == "xn--bcher-kva.example")).all()
    assert sorted(claims) == sorted([(tenants["acme"].id, False), (tenants["globex"].id, True)])


def test_a_refused_sso_setting_is_a_readable_error_not_a_traceback(app, db, make_tenant):
    make_tenant("acme", "Acme Corporation")
    result = app.test_cli_runner().invoke(args=[
        "sso", "oidc", "acme", "--issuer", "https://login.acme.example", "--client-id", "portal",
        "--client-secret", "s3cret", "--domains", "acme.example,gmail.com"])
    assert result.exit_code == 1, result.output
    assert "Error: gmail.com is a public mail service: it cannot belong to one organisation." in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
