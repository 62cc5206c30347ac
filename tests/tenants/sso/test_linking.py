"""Which member a single sign-on lands on: an address the provider has not verified is never trusted, an
identity already linked is never taken over, and a break-glass account is never changed by a sign-in."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from core.tenancy import tenant_context
from tenants.models import Commitment, Member, Role
from tenants.services.members import find_or_create_member
from tenants.sso import break_glass, services
from tests.helpers import csrf_token, host
from tests.sso_fixtures import ADA, ADA_TWIN, ALICE, BRUNO, EVE, NEWCOMER, ROOT
from tests.tenants.sso import test_oidc, test_saml
from tests.tenants.sso.test_oidc import page_of, sign_in_through

ACME = host("acme")
ROOT_PASSWORD = "a long break-glass password"


def members(db, tenant) -> dict[str, tuple]:
    with tenant_context(tenant):
        return {m.email: (m.role, m.sso_subject, m.display_name) for m in db.session.scalars(select(Member))}


def enable_break_glass(db, tenant, email="root@acme.example") -> str:
    with tenant_context(tenant):
        secret = break_glass.enable(tenant, email, ROOT_PASSWORD)
        db.session.commit()
    return secret


def break_glass_sign_in(client, secret, email="root@acme.example"):
    page = client.get("/portal/sign-in", base_url=ACME).get_data(as_text=True)
    return client.post("/portal/sign-in", base_url=ACME, data={
        "csrf_token": csrf_token(page), "email": email, "password": ROOT_PASSWORD, "code": pyotp.TOTP(secret).now()})


def refused(client, answer) -> str:
    assert answer.location == "/sso/failed"
    return client.get("/sso/failed", base_url=ACME).get_data(as_text=True)


def test_an_unverified_address_never_signs_in_as_the_break_glass_admin(client, app, db, acme, oidc_provider):
    secret = enable_break_glass(db, acme)
    _, answer = sign_in_through(client, oidc_provider, EVE)
    assert "has not confirmed" in refused(client, answer)
    assert "Signed in" not in page_of(client)
    assert members(db, acme) == {"root@acme.example": (Role.ADMIN, None, None)}
    assert break_glass_sign_in(app.test_client(), secret).location == "/portal/"


def test_an_unverified_address_is_not_linked_to_the_member_who_has_it(client, db, acme, oidc_provider,
                                                                      make_commitment):
    make_commitment(acme, "root@acme.example")
    _, answer = sign_in_through(client, oidc_provider, EVE)
    assert "has not confirmed" in refused(client, answer)
    assert members(db, acme) == {"root@acme.example": (Role.MEMBER, None, None)}


def test_an_address_the_provider_has_not_verified_is_refused_even_when_nobody_has_it(client, db, acme,
                                                                                    oidc_provider):
    _, answer = sign_in_through(client, oidc_provider, NEWCOMER)
    assert "has not confirmed" in refused(client, answer)
    assert members(db, acme) == {}
    assert "nora@acme.example (email_verified is false)" in test_oidc.last_error(db, acme)


def test_a_verified_address_links_a_member_who_has_no_identity_yet(client, db, acme, oidc_provider, make_commitment):
    make_commitment(acme, "ada@acme.example")
    sign_in_through(client, oidc_provider, ADA)
    assert members(db, acme) == {
        "ada@acme.example": (Role.ADMIN, f"{oidc_provider.issuer}|employee-1001", "Ada Lovelace")}
    assert "Your commitment is counted" in page_of(client)


def test_a_verified_address_does_not_take_over_a_member_linked_to_another_identity(client, app, db, acme,
                                                                                   oidc_provider):
    sign_in_through(client, oidc_provider, ADA)
    impostor = app.test_client()
    _, answer = sign_in_through(impostor, oidc_provider, ADA_TWIN)
    assert "belongs to another account" in refused(impostor, answer)
    assert members(db, acme) == {
        "ada@acme.example": (Role.ADMIN, f"{oidc_provider.issuer}|employee-1001", "Ada Lovelace")}
    assert client.get("/portal/dashboard", base_url=ACME).status_code == 200


def test_a_verified_address_is_never_linked_to_a_break_glass_account(client, app, db, acme, oidc_provider):
    secret = enable_break_glass(db, acme)
    _, answer = sign_in_through(client, oidc_provider, ROOT)
    assert "belongs to another account" in refused(client, answer)
    assert members(db, acme) == {"root@acme.example": (Role.ADMIN, None, None)}
    assert break_glass_sign_in(app.test_client(), secret).location == "/portal/"


def test_a_sign_in_never_changes_or_demotes_a_break_glass_account(client, app, db, acme, oidc_provider):
    sign_in_through(client, oidc_provider, ADA)  # Ada is linked, then made the break-glass admin too
    secret = enable_break_glass(db, acme, "ada@acme.example")
    with tenant_context(acme):
        conn = services.connection()
        conn.admin_group, conn.claim_name = "heforshe-owners", "department"  # Ada is no longer in the admin group
        db.session.commit()
    sign_in_through(app.test_client(), oidc_provider, ADA)
    assert members(db, acme) == {
        "ada@acme.example": (Role.ADMIN, f"{oidc_provider.issuer}|employee-1001", "Ada Lovelace")}
    assert break_glass_sign_in(app.test_client(), secret, "ada@acme.example").location == "/portal/"


# SAML sends no email_verified: a university's directory is trusted for its own (allowed) domains only.

def test_a_saml_address_is_trusted_within_the_allowed_domains(client, db, northfield, simplesamlphp,
                                                              make_commitment):
    make_commitment(northfield, "alice.moreau@northfield.edu")
    test_saml.sign_in_through(client, simplesamlphp, ALICE)
    with tenant_context(northfield):
        alice = db.session.scalars(select(Member)).one()
        assert alice.sso_subject is not None and alice.display_name == "Alice Moreau"


def test_a_saml_address_outside_the_allowed_domains_is_not_linked(client, db, northfield, simplesamlphp,
                                                                 make_commitment):
    with tenant_context(northfield):
        services.connection().allowed_domains = []
        db.session.commit()
    make_commitment(northfield, "bruno@elsewhere.example")
    _, answer = test_saml.sign_in_through(client, simplesamlphp, BRUNO)
    assert answer.location == "/sso/failed"
    assert "has not confirmed" in client.get("/sso/failed", base_url=host("northfield")).get_data(as_text=True)
    with tenant_context(northfield):
        bruno = db.session.scalars(select(Member)).one()
        assert (bruno.sso_subject, bruno.role) == (None, Role.MEMBER)


def test_a_newcomer_whose_saml_address_is_not_trusted_signs_in_but_is_not_counted_as_verified(
        client, db, northfield, simplesamlphp):
    with tenant_context(northfield):
        services.connection().allowed_domains = []
        db.session.commit()
    _, answer = test_saml.sign_in_through(client, simplesamlphp, BRUNO)
    assert answer.location == "/"
    page = client.get("/", base_url=host("northfield")).get_data(as_text=True)
    assert "Signed in through Northfield University as Bruno Costa" in page
    client.post("/", base_url=host("northfield"), data={"csrf_token": csrf_token(page), "gender": "man",
                                                        "country": "BR", "consent": "y"})
    with tenant_context(northfield):
        assert db.session.scalars(select(Commitment.verified)).one() is False


def test_an_address_nobody_vouched_for_is_not_the_key_an_invitation_or_break_glass_finds(db, acme):
    with tenant_context(acme):
        services.connection().allowed_domains = []  # a provider that says nothing is trusted nowhere
        db.session.commit()
        intruder = services.sign_in_member(services.connection(), services.Identity(
            subject="https://idp|intruder", email="boss@acme.example", name="Not the boss", unit=None, groups=[]))
        db.session.commit()
        # The real boss is invited (or given break-glass) later: a member of their own, not the intruder's.
        boss = find_or_create_member("boss@acme.example")
        boss.role = Role.ADMIN
        db.session.commit()
        assert boss.id != intruder.id
        again = services.sign_in_member(services.connection(), services.Identity(
            subject="https://idp|intruder", email="boss@acme.example", name="Not the boss", unit=None, groups=[]))
        assert again.id == intruder.id and again.role is Role.MEMBER
