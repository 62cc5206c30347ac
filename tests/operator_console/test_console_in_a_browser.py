"""The partner lifecycle's first steps in a real browser: an organisation applies on the global host (the subdomain
checked as it is typed, under the strict CSP), an operator signs in through the team's own OpenID provider and
approves, the invitation arrives by mail, and the invited admin opens its link and reaches the portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from operator_console import services
from tests.conftest import cannot_run
from tests.helpers import BASE_DOMAIN
from tests.operator_console.test_console import OLGA, OPERATORS_CLIENT
from tests.tenants.sso.test_sso_in_a_browser import sign_in_at_the_provider


def site(page, slug: str | None = None) -> str:
    return f"http://{slug + '.' if slug else ''}{BASE_DOMAIN}:{page.port}"


@pytest.fixture
def operators_idp(app, db, page, tmp_path):
    """The team's OpenID provider, knowing this test server's port, and Olga an operator."""
    from tests.idp import oidc

    if reason := oidc.unavailable():
        cannot_run("node", reason)
    client = {**OPERATORS_CLIENT, "redirect_uris": [f"{site(page)}/operator/sign-in/oidc/callback"]}
    provider = oidc.start_oidc_provider(tmp_path / "operators-idp", [client], [OLGA])
    app.config.update(OPERATOR_OIDC_ISSUER=provider.issuer, OPERATOR_OIDC_CLIENT_ID=client["client_id"],
                      OPERATOR_OIDC_CLIENT_SECRET=client["client_secret"])
    services.add_operator(OLGA["claims"]["email"], "Olga")
    db.session.commit()
    yield provider
    provider.stop()


@pytest.mark.both_databases
def test_apply_approve_invite_and_the_new_admin_reaches_the_portal(page, browser, axe, make_tenant, operators_idp,
                                                                    smtp_server):
    make_tenant("acme", "Acme Corporation")
    page.goto(site(page) + "/join/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bring HeForShe to your organisation")
    assert axe(page) == []
    page.get_by_label("Organisation name").fill("Newco Industries")
    page.get_by_label("Kind of organisation").select_option("corporation")
    page.get_by_label("Country").select_option("KE")
    page.get_by_label("Website").fill("https://newco.example")
    page.get_by_label("Your name").fill("Nadia Novak")
    page.get_by_label("Your work email").fill("nadia@newco.example")
    subdomain = page.get_by_label("Address of your HeForShe page")
    status = page.locator("#subdomain-status")
    subdomain.fill("acme")
    expect(status).to_have_text("This address is taken already. Please choose another.")
    subdomain.fill("new_co")
    expect(status).to_contain_text("Use 1 to 63 lower-case letters")
    subdomain.fill("newco")
    expect(status).to_have_text("This address is free.")
    page.get_by_role("button", name="Send the application").click()
    expect(page.locator(".error-summary")).to_contain_text("Please agree")  # consent forgotten: nothing lost
    expect(page.get_by_label("Organisation name")).to_have_value("Newco Industries")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Send the application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your application")

    page.goto(site(page) + "/operator/")
    page.get_by_role("link", name="Sign in with the HeForShe team's account").click()
    sign_in_at_the_provider(page, OLGA)
    expect(page.get_by_role("heading", level=1)).to_have_text("Applications")
    assert axe(page) == []
    page.get_by_role("link", name="Newco Industries").click()
    expect(page.get_by_text("newco.hfs.test (This address is free.)")).to_be_visible()
    page.get_by_role("button", name="Approve and invite").click()
    expect(page.locator(".notice")).to_contain_text("Newco Industries is a partner now")

    link = smtp_server.link(smtp_server.last_to("nadia@newco.example"))
    assert link.startswith(f"{site(page, 'newco')}/invitations/")
    newcomer = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB").new_page()
    newcomer.goto(link)
    newcomer.get_by_role("button", name="Accept and sign in").click()
    expect(newcomer).to_have_url(f"{site(page, 'newco')}/portal/dashboard")
    expect(newcomer.get_by_role("link", name="Members")).to_be_visible()
    newcomer.context.close()

    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("tbody")).to_contain_text("application.approve")
