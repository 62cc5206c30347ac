"""Operator commands for the portal: a new tenant's first admin is invited by email."""

from __future__ import annotations

from sqlalchemy import select

from tenants.models import Role, Tenant
from tests.helpers import host
from tests.tenant_portal.test_members import accept, local, member

ACME = host("acme")


def test_a_new_tenants_first_admin_is_invited_by_email_and_gets_in_once(app, db, smtp_server):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["tenants", "create", "acme", "Acme Corporation", "--admin-email",
                                  "boss@acme.example"])
    assert created.exit_code == 0 and "flask portal invite-admin acme boss@acme.example" in created.output
    invited = runner.invoke(args=["portal", "invite-admin", "acme", "boss@acme.example"])
    assert invited.exit_code == 0, invited.output

    mail = smtp_server.last_to("boss@acme.example")
    assert "Acme Corporation" in mail["Subject"] and "The HeForShe team" in mail.get_content()
    link = smtp_server.link(mail)
    assert link.startswith(f"{ACME}/invitations/")
    boss = app.test_client()
    assert accept(boss, link).location == "/portal/"
    assert boss.get("/portal/sso", base_url=ACME).status_code == 200  # in, before any single sign-on exists
    acme = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    assert member(db, acme, "boss@acme.example").role is Role.ADMIN
    assert accept(app.test_client(), link).status_code == 410  # single-use


def test_inviting_into_an_unknown_tenant_is_refused(app, db, smtp_server):
    result = app.test_cli_runner().invoke(args=["portal", "invite-admin", "nobody", "boss@acme.example"])
    assert result.exit_code != 0 and "no tenant 'nobody'" in result.output
    assert smtp_server.messages == []

