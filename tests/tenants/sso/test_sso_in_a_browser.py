"""An employee signs in through the company's identity provider and commits, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import BASE_DOMAIN
from tests.sso_fixtures import ACME_CLIENT, ADA, connect_oidc, start_provider


def test_sign_in_with_acme_then_one_click_commitment(page, axe, make_tenant, make_unit, tmp_path):
    acme_url = f"http://acme.{BASE_DOMAIN}:{page.port}"
    client = {**ACME_CLIENT, "redirect_uris": [f"{acme_url}/sso/oidc/callback"]}
    provider = start_provider(tmp_path, "oidc", [client])
    try:
        acme = make_tenant("acme", "Acme Corporation")
        make_unit(acme, "Paris office", country="FR")
        connect_oidc(acme, provider, client)

        page.goto(acme_url + "/")
        page.get_by_role("link", name="Sign in with Acme Corporation").first.click()
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill(ADA["password"])
        page.get_by_role("button", name="Sign in").click()

        expect(page.locator(".signed-in")).to_contain_text("Signed in through Acme Corporation as Ada Lovelace")
        expect(page.get_by_label("Country")).to_have_value("FR")
        assert axe(page) == []
        page.get_by_label("Woman", exact=True).check()
        page.get_by_label("I agree").check()
        page.get_by_role("button", name="I commit").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")

        page.goto(acme_url + "/portal/sso")  # Ada is in the admins' group
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in settings")
        expect(page.get_by_text(f"{acme_url}/sso/oidc/callback")).to_be_visible()
        assert axe(page) == []
    finally:
        provider.stop()
