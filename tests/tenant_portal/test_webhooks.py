"""The portal's webhook pages: admins add endpoints (the secret shown once), read the delivery log and resend;
viewers see none of it; every change is in the audit log."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenant_portal.targets import reached
from tenants.models import Role, Target, TargetMetric
from tenants.webhooks import delivery
from tenants.webhooks import services as webhooks
from tenants.webhooks.models import WebhookEndpoint
from tests.helpers import BASE_DOMAIN, csrf_token, host
from tests.webhook_receiver import receiver  # noqa: F401 - the fixture

ACME = host("acme")


def audit_actions(db, tenant) -> list[str]:
    with tenant_context(tenant):
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)))
        db.session.rollback()
        return actions


def add(client, url="https://hooks.acme.example/in", events=("commitment.created",), **more):
    token = csrf_token(client.get("/portal/webhooks/new", base_url=ACME).get_data(as_text=True))
    return client.post("/portal/webhooks/new", base_url=ACME,
                       data={"csrf_token": token, "url": url, "events": list(events), **more})


def test_viewers_and_strangers_cannot_reach_the_webhook_pages(client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme")
    assert client.get("/portal/webhooks", base_url=ACME).status_code == 302  # to sign in
    sign_in_as(acme, Role.VIEWER, client=client)
    assert client.get("/portal/webhooks", base_url=ACME).status_code == 403
    assert client.get("/portal/webhooks/new", base_url=ACME).status_code == 403
    assert client.post("/portal/webhooks/new", base_url=ACME, data={"url": "https://x.example/"}).status_code == 403
    with tenant_context(acme):
        assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme")
    sign_in_as(acme, Role.ADMIN, client=client)
    page = add(client).get_data(as_text=True)
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", page).group(0)
    assert "shown only once" in page
    for path in ("/portal/webhooks", re.search(r'href="(/portal/webhooks/[0-9a-f-]{36})"', page).group(1)):
        assert secret not in client.get(path, base_url=ACME).get_data(as_text=True)
    assert audit_actions(db, acme) == ["webhook.create"]
    audit = client.get("/portal/audit", base_url=ACME).get_data(as_text=True)
    assert "added the webhook endpoint https://hooks.acme.example/in" in audit


def test_bad_input_is_refused_with_a_clear_error_and_keeps_what_was_typed(app, client, db, make_tenant,
                                                                           sign_in_as):
    acme = make_tenant("acme")
    sign_in_as(acme, Role.ADMIN, client=client)
    no_event = add(client, events=())
    assert no_event.status_code == 400 and "Choose at least one event." in no_event.get_data(as_text=True)
    assert 'value="https://hooks.acme.example/in"' in no_event.get_data(as_text=True)
    app.config["OUTBOUND_ALLOW_PRIVATE"] = False  # as in production
    private = add(client, url="https://10.1.2.3/hooks")
    assert private.status_code == 400 and "not on the public internet" in private.get_data(as_text=True)
    for hostile in ("javascript:alert(1)", "https://" + "a" * 3000, "\x00", "https://[::1",
                    "https://x.example:99999/"):
        assert add(client, url=hostile).status_code == 400
    assert add(client, events=("nothing.real",)).status_code == 400
    with tenant_context(acme):
        assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_removing_an_endpoint_is_confirmed_and_audited(client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme")
    sign_in_as(acme, Role.ADMIN, client=client)
    add(client)
    with tenant_context(acme):
        endpoint_id = db.session.scalars(select(WebhookEndpoint.id)).one()
    path = f"/portal/webhooks/{endpoint_id}/delete"
    token = csrf_token(client.get(path, base_url=ACME).get_data(as_text=True))
    assert client.post(path, base_url=ACME, data={"csrf_token": token}).status_code == 303
    with tenant_context(acme):
        assert db.session.scalars(select(WebhookEndpoint)).all() == []
    assert audit_actions(db, acme) == ["webhook.create", "webhook.delete"]


# In a real browser.

def test_an_admin_adds_an_endpoint_reads_the_delivery_log_and_resends(page, axe, app, db, make_tenant,
                                                                     make_commitment, sign_in_as, receiver):
    acme = make_tenant("acme", "Acme")
    sign_in_as(acme, Role.ADMIN, page=page)
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/portal/webhooks")
    assert axe(page) == []
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("Address (URL)").fill(receiver.url)
    page.get_by_label("A commitment is made (commitment.created)").check()
    page.get_by_role("button", name="Add the endpoint").click()

    expect(page.get_by_role("heading", name="Endpoint added")).to_be_visible()
    expect(page.get_by_text("Copy this signing secret now: it is shown only once.")).to_be_visible()
    receiver.secret = page.locator(".webhook-secret").inner_text()
    assert receiver.secret.startswith("whsec_")
    assert axe(page) == []
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
    expect(page.get_by_text("No events have been sent to this endpoint yet.")).to_be_visible()
    assert receiver.secret not in page.content()

    receiver.plan = [500]
    app.config["WEBHOOK_RETRY_SECONDS"] = 0  # tried again at once
    make_commitment(acme)
    with app.app_context():
        delivery.deliver_due()  # answered 500
        delivery.deliver_due()
    page.reload()
    row = page.locator(".webhook-log tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("commitment.created")
    expect(row.locator(".badge")).to_have_text(["500", "200"])
    expect(row).to_contain_text("Delivered")
    assert axe(page) == []

    row.get_by_role("button", name=re.compile("Resend")).click()
    expect(page.get_by_role("status")).to_contain_text("The event will be sent again in a few seconds.")
    with app.app_context():
        delivery.deliver_due()
    page.reload()
    expect(page.locator(".webhook-log tbody tr .badge")).to_have_text(["500", "200", "200"])
    assert len(receiver.processed) == 1 and len(set(receiver.ids())) == 1  # the same webhook-id: one event
    assert audit_actions(db, acme) == ["webhook.create", "webhook.resend"]


def test_a_target_reached_is_sent_once_when_its_released_count_gets_there(app, db, make_tenant, make_commitment,
                                                                          receiver):
    app.config["TARGET_CHECK_SECONDS"] = 0
    acme = make_tenant("acme", privacy_k=5)
    with tenant_context(acme):
        added = webhooks.add_endpoint(receiver.url, ["target.reached"], False, None)
        receiver.secret = added.secret
        target = Target(metric=TargetMetric.MEN, value=5, deadline=date.today() + timedelta(days=30))
        db.session.add(target)
        db.session.commit()
        target_id = target.id
    for _ in range(4):
        make_commitment(acme)
    with app.app_context():
        assert reached.check() == 0
    make_commitment(acme)  # the fifth man: the goal
    with app.app_context():
        assert reached.check() == 1
        assert reached.check() == 0  # once
        delivery.deliver_due()
    [payload] = receiver.processed.values()
    assert payload["type"] == "target.reached"
    assert payload["data"]["id"] == str(target_id) and payload["data"]["count"] == 5
