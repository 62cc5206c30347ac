"""Look-alike spellings of an address or a domain (fullwidth, compatibility forms, Unicode or punycode) are
one address or domain wherever single sign-on compares them: allowed domains, discovery, break-glass."""

from __future__ import annotations

from dataclasses import replace

import pyotp
import pytest
from sqlalchemy import func, select

from core.tenancy import tenant_context
from tenants.models import Member
from tenants.services.members import find_or_create_member
from tenants.services.registry import InvalidTenantSetting
from tenants.sso import break_glass, services
from tenants.sso.models import Protocol
from tests.helpers import continues_to, csrf_token, host
from tests.sso_fixtures import OIDC_MAPPING


def connect(db, tenant, domains: list[str]):
    """Connect ``tenant`` to an OpenID provider (never called here) allowing ``domains``, proven as the
    operator proves them."""
    with tenant_context(tenant):
        services.configure(tenant, Protocol.OIDC, replace(OIDC_MAPPING, allowed_domains=domains),
                           oidc=services.OidcSettings("https://idp.invalid", "client", "secret"))
        for domain in domains:
            services.prove_domain(tenant, domain)
        db.session.commit()


@pytest.fixture
def acme(db, make_tenant):
    tenant = make_tenant("acme", "Acme Corporation")
    connect(db, tenant, ["acme.example", "Bücher.example"])
    return tenant


def discover(client, email: str):
    page = client.get("/", base_url=host()).get_data(as_text=True)
    return client.post("/sso/discover", base_url=host(), data={"csrf_token": csrf_token(page), "email": email})


@pytest.mark.parametrize("email", ["ada@ａｃｍｅ.example", "ada@ACME．EXAMPLE", "ada@xn--bcher-kva.example",
                                   "ada@BÜCHER.example"])
def test_discovery_finds_the_organisation_however_its_domain_is_written(client, acme, email):
    answer = discover(client, email)
    assert continues_to(answer).startswith(f"{host('acme')}/sso/login?")


def test_allowed_domains_are_stored_in_one_form(db, acme):
    with tenant_context(acme):
        assert services.connection().allowed_domains == ["acme.example", "xn--bcher-kva.example"]


@pytest.mark.parametrize("domain", ["ｇｍａｉｌ.com", "GMAIL.com.", "@gmail.com"])
def test_a_public_mail_service_cannot_be_claimed_under_another_spelling(app, db, make_tenant, domain):
    tenant = make_tenant("globex")
    with app.test_request_context(), pytest.raises(InvalidTenantSetting, match="public mail service"):
        connect(db, tenant, [domain])


@pytest.mark.parametrize("domain", ["ａｃｍｅ.example", "xn--bcher-kva.example"])
def test_another_organisations_domain_cannot_be_proven_under_another_spelling(app, db, acme, make_tenant, domain):
    globex = make_tenant("globex")
    with app.test_request_context(), pytest.raises(InvalidTenantSetting, match="is proven for acme already"):
        connect(db, globex, [domain])


@pytest.mark.parametrize("email", ["ada@ａｃｍｅ.example", "ada@xn--bcher-kva.example"])
def test_a_provider_may_spell_an_allowed_domain_otherwise(db, acme, email):
    with tenant_context(acme):
        member = services.sign_in_member(services.connection(), services.Identity(
            subject="employee-1", email=email, name="Ada", unit=None, groups=[]))
        assert member.email == email


def test_a_look_alike_address_from_the_provider_is_the_member_already_known(db, acme):
    with tenant_context(acme):
        known = find_or_create_member("ada@acme.example").id
        db.session.commit()
        member = services.sign_in_member(services.connection(), services.Identity(
            subject="employee-1", email="ＡＤＡ@ａｃｍｅ.example", name="Ada", unit=None, groups=[]))
        assert member.id == known
        assert db.session.scalar(select(func.count(Member.id))) == 1


def test_break_glass_finds_its_admin_however_the_address_is_written(db, acme):
    with tenant_context(acme):
        secret = break_glass.enable(acme, "root@acme.example", "a long enough password")
        db.session.commit()
        code = pyotp.TOTP(secret).now()
        found = break_glass.verify(acme, "ｒｏｏｔ@ＡＣＭＥ.example", "a long enough password", code)
        assert found is not None and found.email == "root@acme.example"
