"""Subscribing, Stripe's webhooks and dunning, against the fake Stripe through the real stripe library."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from billing.models import BillingAccount, StripeEvent
from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenant_portal.provisioning import services as provisioning
from tenants import plans
from tenants.models import Commitment, Role, TenantPlan, utcnow
from tests.helpers import continues_to, csrf_token, host, sign_up
from tests.tenant_portal.api_fixtures import bearer, commitment, make_key  # noqa: F401 (a fixture)

ACME = host("acme")


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation", plan="community")


def billing_page(client) -> str:
    answer = client.get("/portal/billing", base_url=ACME)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def press(client, action: str, **fields):
    """Press a button of the billing page, as a browser would."""
    token = csrf_token(billing_page(client))
    return client.post(f"/portal/billing/{action}", base_url=ACME, data={"csrf_token": token, **fields})


def plan_row(db, tenant) -> TenantPlan:
    db.session.expire_all()
    return db.session.get(TenantPlan, tenant.id)


def subscribe(client, stripe_fake, plan: str = "partner") -> str:
    """Choose ``plan``, pay on the fake Checkout page, let Stripe's events arrive and the worker handle them;
    returns the subscription's id."""
    checkout = continues_to(press(client, "checkout", plan=plan))
    assert checkout.startswith(stripe_fake.base + "/pay/")
    assert requests_post(checkout).status_code == 303
    stripe_fake.deliver(client)
    stripe_fake.work()
    return stripe_fake.client.v1.checkout.sessions.retrieve(checkout.rsplit("/", 1)[1]).subscription


def requests_post(url: str):
    """Pay on the fake Checkout page with a card that works."""
    return requests.post(url, data={"card": "pm_card_visa"}, allow_redirects=False, timeout=10)


def test_without_stripe_keys_the_page_says_billing_is_not_configured(client, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, client=client)
    page = billing_page(client)
    assert "Billing is not configured on this site" in page and "Community" in page
    answer = press(client, "checkout", plan="partner")
    assert answer.status_code == 303
    assert "Billing is not configured on this site" in billing_page(client)


def test_a_plan_is_active_only_once_stripe_confirms_it(app, client, db, acme, sign_in_as, stripe_fake):
    sign_in_as(acme, Role.ADMIN, client=client)
    assert client.get("/portal/api", base_url=ACME).status_code == 403  # Community has no API
    checkout = continues_to(press(client, "checkout", plan="partner"))
    assert "You started to pay for the Partner plan but did not finish" in billing_page(client)
    assert requests_post(checkout).status_code == 303  # paid at Stripe, back on the billing page
    page = billing_page(client)
    assert "Processing…" in page and 'id="billing-plan">Community' in page  # the return alone changes nothing
    assert client.get("/portal/api", base_url=ACME).status_code == 403

    assert "checkout.session.completed" in stripe_fake.deliver(client)
    page = billing_page(client)
    assert "Processing…" in page  # received, not handled yet: acknowledged before any work
    stripe_fake.work()
    page = billing_page(client)
    assert 'id="billing-plan">Partner' in page and "Processing…" not in page and "Paid" in page
    assert client.get("/portal/api", base_url=ACME).status_code == 200
    with tenant_context(acme):
        customer = stripe_fake.client.v1.customers.retrieve(db.session.scalars(select(BillingAccount)).one()
                                                            .customer_id)
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)).all()
    assert customer.metadata["tenant_id"] == str(acme.id)
    assert actions[0] == "billing.checkout" and "billing.plan_change" in actions
    assert "Next invoice" in page and "$500.00" in page


def signed_event(stripe_fake, kind: str = "customer.subscription.updated") -> str:
    return json.dumps({"id": "evt_test_forged", "object": "event", "type": kind, "created": int(time.time()),
                       "data": {"object": {"id": "sub_nothing", "object": "subscription"}}})


@pytest.mark.parametrize("tampering", ["wrong secret", "altered body", "six minutes old", "no signature"])
def test_an_event_not_signed_by_stripe_now_is_refused_and_changes_nothing(client, db, stripe_fake, tampering):
    body = signed_event(stripe_fake)
    if tampering == "wrong secret":
        answer = stripe_fake.post(client, body, secret="whsec_someone_else")
    elif tampering == "altered body":
        answer = stripe_fake.post(client, body, sent=body.replace("sub_nothing", "sub_someone"))
    elif tampering == "six minutes old":
        answer = stripe_fake.post(client, body, timestamp=int(time.time()) - 6 * 60)
    else:
        answer = client.post("/stripe/webhook", base_url=host(), data=body)
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0
    assert stripe_fake.post(client, body).status_code == 200  # the same, signed rightly: kept


def test_the_endpoint_is_on_the_global_host_only(client, acme, stripe_fake):
    assert stripe_fake.post(client, signed_event(stripe_fake)).status_code == 200
    header = {"Stripe-Signature": "t=1,v1=00"}
    assert client.post("/stripe/webhook", base_url=ACME, data="{}", headers=header).status_code == 404


def test_an_event_sent_again_is_handled_once(client, db, acme, sign_in_as, stripe_fake):
    sign_in_as(acme, Role.ADMIN, client=client)
    subscribe(client, stripe_fake)
    events = stripe_fake.events()
    for event in events:  # Stripe sends again what it is not sure we got
        assert stripe_fake.post(client, json.dumps(event)).status_code == 200
    stripe_fake.work()
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == len(events)
    with tenant_context(acme):
        changes = db.session.scalar(select(func.count()).where(AuditEntry.action == "billing.plan_change"))
    assert changes == 1  # Community → Partner, once


def test_events_out_of_order_leave_the_plan_as_stripe_has_it(client, db, acme, sign_in_as, stripe_fake):
    sign_in_as(acme, Role.ADMIN, client=client)
    checkout = continues_to(press(client, "checkout", plan="partner"))
    requests_post(checkout)
    subscription = stripe_fake.client.v1.checkout.sessions.retrieve(checkout.rsplit("/", 1)[1]).subscription
    declined = stripe_fake.renew(subscription, card="pm_card_chargeCustomerFail")
    stripe_fake.pay(declined["id"])
    # The payment failed, then was made; its events arrive newest first (the failure last).
    types = stripe_fake.deliver(client, reverse=True)
    assert "invoice.payment_failed" in types and types.index("invoice.payment_failed") > 0
    stripe_fake.work()
    row = plan_row(db, acme)
    assert (row.plan, row.status, row.past_due_since) == ("partner", "active", None)
    assert plans.entitled(acme, "api")


def test_a_failed_payment_warns_then_switches_features_off_and_a_paid_invoice_restores_them(
        app, client, db, acme, sign_in_as, stripe_fake, smtp_server, make_commitment):
    sign_in_as(acme, Role.ADMIN, client=client, email="ada@acme.example")
    subscription = subscribe(client, stripe_fake)
    declined = stripe_fake.renew(subscription, card="pm_card_chargeCustomerFail")
    stripe_fake.deliver(client)
    stripe_fake.work()
    row = plan_row(db, acme)
    assert row.status == "past_due" and row.past_due_since is not None
    mail = smtp_server.last_to("ada@acme.example")
    assert "payment" in mail["Subject"] and "Acme Corporation" in mail["Subject"]
    assert "The API and webhooks" in mail.get_content() and "every commitment keeps counting" in mail.get_content()
    assert smtp_server.link(mail) == f"{ACME}/portal/billing", "the mail leads to the tenant's billing page"
    page = client.get("/portal/", base_url=ACME, follow_redirects=True).get_data(as_text=True)
    assert "A payment for your Partner plan failed" in page
    assert client.get("/portal/api", base_url=ACME).status_code == 200  # still, through the grace period

    fifteen_days_later = utcnow() + timedelta(days=15)
    with app.test_request_context():
        assert plans.entitled(acme, "api", now=utcnow() + timedelta(days=13))
        assert not plans.entitled(acme, "api", now=fifteen_days_later)
        assert plans.notice(acme, now=fifteen_days_later).kind == "lapsed"
    with tenant_context(acme):  # the grace period began fifteen days ago
        plan_row(db, acme).past_due_since = utcnow() - timedelta(days=15)
        db.session.commit()
    gated = client.get("/portal/api", base_url=ACME)
    assert gated.status_code == 403
    assert "switched off: your Partner plan is not paid for" in gated.get_data(as_text=True)
    assert "Every setting you made here is kept" in gated.get_data(as_text=True)
    assert sign_up(client, "acme").status_code in (200, 303)  # a person still commits, and counts
    with tenant_context(acme):
        assert db.session.scalar(select(func.count()).select_from(Commitment).where(Commitment.counted)) == 1

    stripe_fake.pay(declined["id"])
    stripe_fake.deliver(client)
    stripe_fake.work()
    row = plan_row(db, acme)
    assert (row.status, row.past_due_since) == ("active", None)
    assert client.get("/portal/api", base_url=ACME).status_code == 200


def test_cancelling_ends_the_plan_at_the_end_of_the_period_and_keeps_every_setting(client, db, acme, sign_in_as,
                                                                                    stripe_fake):
    sign_in_as(acme, Role.ADMIN, client=client)
    subscription = subscribe(client, stripe_fake)
    assert press(client, "cancel").status_code == 303
    page = billing_page(client)
    assert "Your Partner plan ends on" in page and "Keep my plan" in page
    assert plans.entitled(acme, "api")
    stripe_fake.client.v1.subscriptions.cancel(subscription)  # the period ends
    stripe_fake.deliver(client)
    stripe_fake.work()
    page = client.get("/portal/api", base_url=ACME)
    assert page.status_code == 403 and "Your Partner plan has ended" in page.get_data(as_text=True)


def test_a_tenant_sees_and_changes_only_its_own_billing(client, db, acme, make_tenant, sign_in_as, stripe_fake):
    globex = make_tenant("globex", "Globex Hidden", plan="community")
    sign_in_as(globex, Role.ADMIN, client=client)
    token = csrf_token(client.get("/portal/billing", base_url=host("globex")).get_data(as_text=True))
    client.post("/portal/billing/checkout", base_url=host("globex"), data={"csrf_token": token, "plan": "enterprise"})
    sign_in_as(acme, Role.ADMIN, client=client)
    page = billing_page(client)
    assert "Globex" not in page and "did not finish" not in page and "Manage billing" not in page
    assert press(client, "cancel").status_code == 303  # nothing of Acme's to cancel; Globex's untouched
    assert "There is no subscription to change." in billing_page(client)
    with tenant_context(acme):
        assert db.session.scalars(select(BillingAccount)).all() == []
    with tenant_context(globex):
        assert db.session.scalars(select(BillingAccount)).one().checkout_plan == "enterprise"


def test_a_sponsored_tenant_has_every_feature_without_paying(app, db, acme):
    with app.test_request_context():
        assert not plans.entitled(acme, "sso")
        plans.set_sponsored(acme, True, "An NGO")
        db.session.commit()
    with app.test_request_context():
        assert all(plans.entitled(acme, feature) for feature in plans.FEATURES)


def test_without_the_paid_features_people_still_commit_by_the_api_and_the_roster_waits(app, client, db, acme,
                                                                                       make_key):
    token = make_key(acme)
    listed = client.get("/api/v1/commitments", base_url=ACME, headers=bearer(token))
    assert listed.status_code == 403 and "not part of this organisation's plan" in listed.get_json()["detail"]
    sent = client.post("/api/v1/commitments", json=commitment(), base_url=ACME,
                       headers=bearer(token, **{"Idempotency-Key": "k-1"}))
    assert sent.status_code == 201  # a person's commitment is never refused for billing
    assert client.get("/scim/v2/Users", base_url=ACME, headers=bearer("nothing")).status_code == 401  # token first
    with app.test_request_context(base_url=ACME), tenant_context(acme):
        _, scim_token = provisioning.create_token()
        db.session.commit()
    roster = client.get("/scim/v2/Users", base_url=ACME, headers=bearer(scim_token))
    assert roster.status_code == 403 and "not part of this organisation's plan" in roster.get_data(as_text=True)
