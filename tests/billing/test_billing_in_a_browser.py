"""A partner's billing in a real browser: an application is approved by an operator, the invited admin chooses a
plan and pays on (the fake) Stripe Checkout, the webhook makes the plan active and a paid feature opens; then a
payment fails, the grace period runs out and the feature switches off, and a paid invoice restores it."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from billing.models import BillingAccount
from core.tenancy import tenant_context
from operator_console import services as console
from operator_console.models import ApplicationKind
from tenants.models import Tenant, TenantPlan, utcnow
from tests.helpers import BASE_DOMAIN
from tests.operator_console.conftest import OPERATOR_EMAIL, OPERATOR_PASSWORD, operator  # noqa: F401 - a fixture


def site(page, slug: str | None = None) -> str:
    return f"http://{slug + '.' if slug else ''}{BASE_DOMAIN}:{page.port}"


def test_approved_subscribed_lapsed_and_restored(page, browser, axe, app, db, client, operator, smtp_server,
                                                 stripe_fake):
    application = console.apply("Newco Industries", ApplicationKind.CORPORATION, "KE", "https://newco.example",
                                "Nadia Novak", "nadia@newco.example", "newco", "en")
    db.session.commit()
    page.goto(site(page) + "/operator/sign-in")
    page.get_by_label("Email").fill(OPERATOR_EMAIL)
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(operator).now())
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{site(page)}/operator/applications/{application.id}")
    page.get_by_role("button", name="Approve and invite").click()
    expect(page.locator(".notice")).to_contain_text("Newco Industries is a partner now")

    admin = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB").new_page()
    admin.goto(smtp_server.link(smtp_server.last_to("nadia@newco.example")))
    admin.get_by_role("button", name="Accept and sign in").click()
    admin.get_by_role("link", name="Billing").click()
    expect(admin.locator("#billing-plan")).to_have_text("Community")
    assert axe(admin) == []
    admin.goto(site(page, "newco") + "/portal/api")
    expect(admin.locator("#not-in-plan")).to_have_text("This is not part of your plan (Community).")

    admin.goto(site(page, "newco") + "/portal/billing")
    admin.get_by_role("button", name="Choose Partner").click()
    admin.wait_for_url(f"{stripe_fake.base}/pay/**")  # on (the fake) Stripe's own page
    admin.get_by_role("button", name="Pay").click()
    expect(admin.locator("#billing-processing")).to_be_visible()  # back from Checkout: not active yet
    expect(admin.locator("#billing-plan")).to_have_text("Community")

    stripe_fake.deliver(client)
    stripe_fake.work()
    admin.reload()
    expect(admin.locator("#billing-plan")).to_have_text("Partner")
    admin.goto(site(page, "newco") + "/portal/api")
    expect(admin.get_by_role("heading", level=1)).to_have_text("API keys")  # the paid feature, open

    newco = db.session.query(Tenant).filter_by(slug="newco").one()
    with tenant_context(newco):
        subscription = db.session.scalars(select(BillingAccount)).one().subscription_id
    declined = stripe_fake.renew(subscription, card="pm_card_chargeCustomerFail")
    stripe_fake.deliver(client)
    stripe_fake.work()
    admin.reload()
    expect(admin.locator("#billing-notice")).to_contain_text("A payment for your Partner plan failed")
    expect(admin.get_by_role("heading", level=1)).to_have_text("API keys")  # through the grace period
    assert "payment" in smtp_server.last_to("nadia@newco.example")["Subject"]

    with tenant_context(newco):  # fifteen days on: the grace period is over
        row = db.session.get(TenantPlan, newco.id)
        row.past_due_since = utcnow() - timedelta(days=15)
        db.session.commit()
    admin.reload()
    expect(admin.locator("#not-in-plan")).to_have_text("This is switched off: your Partner plan is not paid for.")
    expect(admin.locator("#billing-notice")).to_contain_text("these features are switched off")
    assert axe(admin) == []

    stripe_fake.pay(declined["id"])
    stripe_fake.deliver(client)
    stripe_fake.work()
    admin.reload()
    expect(admin.get_by_role("heading", level=1)).to_have_text("API keys")
    expect(admin.locator("#billing-notice")).to_have_count(0)
    admin.context.close()
