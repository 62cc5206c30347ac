"""Gifts to UN Women: recorded only from Stripe's confirmation (once, whatever the replays), shown on a tenant's
pages only once k people gave; a tenant's match pledge beside its count; the receipt mailed to the giver."""

from __future__ import annotations

import time

import lxml.html
import pytest
import requests
from playwright.sync_api import expect

from billing.giving import services as gifts
from core.tenancy import tenant_context
from tenants.giving import services as giving
from tenants.giving.models import Gift
from tests.helpers import BASE_DOMAIN, continues_to, csrf_token, host, sign_up

ACME = host("acme")


def completed(tenant, n: int, amount: int = 2500, currency: str = "usd", mode: str = "payment", paid: bool = True,
              language: str = "en") -> dict:
    """A ``checkout.session.completed`` event of one gift, as Stripe sends it."""
    return {"id": f"evt_{n}", "type": "checkout.session.completed", "created": int(time.time()),
            "data": {"object": {
                "id": f"cs_test_{n}", "object": "checkout.session", "mode": mode, "amount_total": amount,
                "currency": currency, "payment_status": "paid" if paid else "unpaid",
                "customer_details": {"email": f"giver{n}@example.org"},
                "metadata": {"purpose": "gift", "tenant_id": str(tenant.id), "language": language}}}}


def monthly_invoice(tenant, n: int, amount: int = 1000, reason: str = "subscription_cycle") -> dict:
    return {"id": f"evt_inv_{n}", "type": "invoice.paid", "created": int(time.time()),
            "data": {"object": {
                "id": f"in_{n}", "object": "invoice", "amount_paid": amount, "currency": "eur",
                "billing_reason": reason, "customer_email": f"giver{n}@example.org",
                "parent": {"subscription_details": {"metadata": {"purpose": "gift", "tenant_id": str(tenant.id)}}}}}}


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme", privacy_k=5)


def giving_note(client, path: str = "/") -> str:
    tree = lxml.html.fromstring(client.get(path, base_url=ACME).get_data(as_text=True))
    return " ".join(" ".join(node.text_content().split()) for node in tree.xpath("//*[@class='giving-note']"))


def test_a_confirmed_gift_is_recorded_once_and_a_receipt_is_mailed(db, acme, smtp_server):
    event = completed(acme, 1, language="fr")
    assert gifts.handles(event)
    assert gifts.on_event(event) is True
    assert gifts.on_event(event) is False, "a replayed event records nothing more"
    db.session.commit()
    receipt = smtp_server.last_to("giver1@example.org")
    assert "25,00" in receipt.get_content() and "cs_test_1" in receipt.get_content(), "in the giver's language"
    with tenant_context(acme):
        assert giving.raised(acme) is None, "one giver is fewer than k"


def test_unpaid_sessions_other_purposes_and_a_monthly_gifts_first_invoice_record_nothing(db, acme):
    assert gifts.on_event(completed(acme, 1, paid=False)) is False
    subscription = completed(acme, 2)
    subscription["data"]["object"]["metadata"] = {"purpose": "subscription", "tenant_id": str(acme.id)}
    assert not gifts.handles(subscription)
    assert gifts.on_event(monthly_invoice(acme, 3, reason="subscription_create")) is False
    assert gifts.on_event(monthly_invoice(acme, 4)) is True, "each later month is a gift"
    db.session.commit()
    with tenant_context(acme):
        assert [(g.reference, g.monthly, g.currency) for g in db.session.query(Gift)] == [("in_4", True, "EUR")]


def test_the_amount_raised_shows_on_the_pages_only_once_k_people_gave(client, db, acme, make_tenant):
    other = make_tenant("globex", "Globex", privacy_k=5)
    for n in range(4):
        gifts.on_event(completed(acme, n))
        gifts.on_event(completed(other, 100 + n, amount=999_00))
    gifts.on_event(completed(acme, 4, amount=2000))
    gifts.on_event(completed(acme, 5, amount=1000, currency="eur"))
    gifts.on_event(monthly_invoice(acme, 6))
    gifts.on_event(completed(acme, 7) | {"id": "evt_again"})  # giver7 gives twice: one person more, not two
    gifts.on_event(dict(completed(acme, 7), data={"object": dict(completed(acme, 7)["data"]["object"], id="cs_2nd")}))
    db.session.commit()
    note = giving_note(client)
    assert "$170.00" in note and "€20.00" in note and "by 8 people" in note, note
    assert "999" not in note, "another tenant's gifts are not this tenant's"
    assert "given to UN Women" in giving_note(client, "/thanks")


def test_below_k_nothing_is_said_of_the_gifts(client, db, acme):
    for n in range(4):
        gifts.on_event(completed(acme, n))
    db.session.commit()
    assert giving_note(client) == ""


def test_a_pledge_per_commitment_shows_beside_the_count_with_its_progress(client, db, acme, make_commitment,
                                                                          sign_in_as):
    for n in range(3):
        make_commitment(acme)
    sign_in_as(acme, client=client)
    page = client.get("/portal/giving", base_url=ACME).get_data(as_text=True)
    assert "Fewer than 5 people have given through your pages" in page
    answer = client.post("/portal/giving", base_url=ACME, data={
        "csrf_token": csrf_token(page), "kind": "per_commitment", "amount": "2.50", "cap": "5", "currency": "USD"})
    assert answer.status_code == 303
    note = giving_note(client)
    assert "Acme gives $2.50 to UN Women for each commitment, up to $5.00." in note
    assert "$5.00 so far" in note, "three commitments would be $7.50: the cap holds"
    log = client.get("/portal/audit", base_url=ACME).get_data(as_text=True)
    assert "pledged $2.50 to UN Women for each commitment, up to $5.00" in log


def test_a_pledge_to_match_gifts_tells_its_progress_only_past_k(client, db, acme, sign_in_as):
    sign_in_as(acme, client=client)
    page = client.get("/portal/giving", base_url=ACME).get_data(as_text=True)
    client.post("/portal/giving", base_url=ACME, data={
        "csrf_token": csrf_token(page), "kind": "gifts", "cap": "100", "currency": "USD"})
    assert "so far" not in giving_note(client)
    for n in range(5):
        gifts.on_event(completed(acme, n))
    db.session.commit()
    assert "Acme matches every gift made through this page, up to $100.00. $100.00 so far." in giving_note(client)
    page = client.get("/portal/giving", base_url=ACME).get_data(as_text=True)
    assert "$125.00 given through your pages by 5 people" in " ".join(page.split())
    client.post("/portal/giving/withdraw", base_url=ACME, data={"csrf_token": csrf_token(page)})
    assert "matches" not in giving_note(client)


def test_a_pledge_missing_its_amount_is_refused_with_the_values_kept(client, db, acme, sign_in_as):
    sign_in_as(acme, client=client)
    page = client.get("/portal/giving", base_url=ACME).get_data(as_text=True)
    answer = client.post("/portal/giving", base_url=ACME, data={
        "csrf_token": csrf_token(page), "kind": "per_commitment", "cap": "5000", "currency": "EUR"})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "Give the amount for each commitment." in text and 'value="5000' in text


def test_giving_without_stripe_says_it_is_not_open(client, acme):
    page = client.get("/give", base_url=ACME)
    assert page.status_code == 200
    assert "Online giving is not open on this site yet." in page.get_data(as_text=True)


# --- Through the fake Stripe: Checkout, the signed webhook, the worker ---------------------------------------------

def give(client, stripe_fake, amount: str = "25", frequency: str = "once", email: str = "ana@example.org",
         other: str = "") -> str:
    """Give through /give and pay on the (fake) Checkout page; returns the Checkout Session's id."""
    page = client.get("/give?currency=USD", base_url=ACME).get_data(as_text=True)
    answer = client.post("/give", base_url=ACME, data={
        "csrf_token": csrf_token(page), "currency": "USD", "amount": amount, "other": other, "frequency": frequency})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    checkout = continues_to(answer)
    assert checkout.startswith(stripe_fake.base + "/pay/cs_test_")
    paid = requests.post(checkout, data={"card": "pm_card_visa", "email": email}, allow_redirects=False, timeout=10)
    assert paid.headers["Location"] == f"{ACME}/give/thanks"
    return checkout.rsplit("/", 1)[1]


def test_a_gift_is_recorded_only_when_stripes_event_arrives(client, db, acme, stripe_fake, smtp_server):
    session_id = give(client, stripe_fake, amount="other", other="12.50")
    assert "Thank you for your gift" in client.get("/give/thanks", base_url=ACME).get_data(as_text=True)
    with tenant_context(acme):
        assert giving.raised(acme) is None and db.session.query(Gift).count() == 0, "the way back records nothing"
    stripe_fake.deliver(client)
    stripe_fake.deliver(client)  # Stripe may send the same event again
    stripe_fake.work()
    with tenant_context(acme):
        assert [(g.reference, g.amount, g.currency, g.monthly) for g in db.session.query(Gift)] == [
            (session_id, 1250, "USD", False)]
    receipt = smtp_server.last_to("ana@example.org")
    assert "$12.50" in receipt.get_content() and "stop" not in receipt.get_content().lower()


def test_a_monthly_gift_can_be_stopped_from_its_receipt_by_a_button_not_by_the_link(client, db, acme, stripe_fake,
                                                                                      smtp_server):
    give(client, stripe_fake, amount="10", frequency="monthly", email="sam@example.org")
    stripe_fake.deliver(client)
    stripe_fake.work()
    receipt = smtp_server.last_to("sam@example.org")
    link = smtp_server.link(receipt)
    subscription = stripe_fake.client.v1.subscriptions.list().data[0]
    assert subscription.metadata["purpose"] == "gift" and subscription.status == "active"
    page = client.get(link.replace(ACME, ""), base_url=ACME)
    assert page.status_code == 200 and "Stop my monthly gift" in page.get_data(as_text=True)
    assert stripe_fake.client.v1.subscriptions.retrieve(subscription.id).status == "active", "a GET stops nothing"
    assert client.get(link.replace(ACME, ""), base_url=host("globex")).status_code == 404, "only on its own site"
    stopped = client.post(link.replace(ACME, ""), base_url=ACME, data={"csrf_token": csrf_token(page.get_data(
        as_text=True))})
    assert "Your monthly gift is stopped" in stopped.get_data(as_text=True)
    assert stripe_fake.client.v1.subscriptions.retrieve(subscription.id).status == "canceled"


def test_a_refused_amount_is_explained_and_nothing_goes_to_stripe(client, acme, stripe_fake):
    page = client.get("/give", base_url=ACME).get_data(as_text=True)
    answer = client.post("/give", base_url=ACME, data={
        "csrf_token": csrf_token(page), "currency": "USD", "amount": "other", "other": "", "frequency": "once"})
    assert answer.status_code == 400
    assert "Type the amount you would like to give." in answer.get_data(as_text=True)
    answer = client.post("/give", base_url=ACME, data={
        "csrf_token": csrf_token(page), "currency": "USD", "amount": "other", "other": "0.10", "frequency": "once"})
    assert answer.status_code == 400 and "Give between 1 and 100000." in answer.get_data(as_text=True)
    made = [event["type"] for event in stripe_fake.events()]
    assert not [kind for kind in made if not kind.startswith(("product.", "plan."))], made


@pytest.mark.parametrize("other, said", [
    ("sNaN", "N'est pas une valeur décimale valide."), ("NaN", "N'est pas une valeur décimale valide."),
    ("Infinity", "N'est pas une valeur décimale valide."), ("12.505", "Indiquez au plus deux décimales."),
    ("\x00", "N'est pas une valeur décimale valide."),
])
def test_a_hostile_amount_is_refused_in_the_readers_language(client, acme, stripe_fake, other, said):
    page = client.get("/give?lang=fr", base_url=ACME).get_data(as_text=True)
    answer = client.post("/give", base_url=ACME, data={
        "csrf_token": csrf_token(page), "currency": "EUR", "amount": "other", "other": other, "frequency": "once"})
    assert answer.status_code == 400
    assert said in " ".join(lxml.html.fromstring(answer.get_data(as_text=True)).text_content().split())


@pytest.mark.parametrize("field, value, said", [
    ("amount", "sNaN", "N'est pas une valeur décimale valide."),
    ("cap", "sNaN", "N'est pas une valeur décimale valide."),
    ("cap", "-Infinity", "N'est pas une valeur décimale valide."),
    ("amount", "0.015", "Indiquez au plus deux décimales."),
])
def test_a_hostile_pledge_is_refused_in_the_readers_language(client, db, acme, sign_in_as, field, value, said):
    sign_in_as(acme, client=client)
    page = client.get("/portal/giving?lang=fr", base_url=ACME).get_data(as_text=True)
    answer = client.post("/portal/giving", base_url=ACME, data={
        "csrf_token": csrf_token(page), "kind": "per_commitment", "amount": "1", "cap": "100", "currency": "EUR",
        field: value})
    assert answer.status_code == 400
    assert said in " ".join(lxml.html.fromstring(answer.get_data(as_text=True)).text_content().split())
    assert giving_note(client) == "", "nothing pledged"


@pytest.mark.both_databases
def test_a_gift_through_checkout_shows_on_the_tenants_page_only_past_k_givers(page, axe, db, acme, stripe_fake, app):
    """In a browser: a person thanked for committing gives through Checkout; the fifth giver makes Acme's total
    appear on its page."""
    for n in range(3):
        gifts.on_event(completed(acme, n))
    db.session.commit()
    base = f"http://acme.{BASE_DOMAIN}:{page.port}"
    page.goto(f"{base}/thanks")
    page.get_by_role("link", name="Give to UN Women").click()
    assert axe(page) == []
    page.get_by_label("$50.00").check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Email").fill("lee@example.org")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Thank you for your gift")).to_be_visible()
    stripe_fake.deliver(app.test_client())
    stripe_fake.work()
    page.goto(base + "/")
    expect(page.locator(".giving-note")).to_have_count(0)  # four givers: fewer than Acme's k of five
    gifts.on_event(completed(acme, 9))
    db.session.commit()
    page.reload()
    expect(page.locator(".giving-note")).to_contain_text("$150.00 given to UN Women through this page by 5 people")


def test_the_thank_you_page_invites_a_gift_right_after_a_commitment(client, acme, stripe_fake):
    sign_up(client, "acme", pillar="economic")
    page = client.get("/thanks", base_url=ACME).get_data(as_text=True)
    assert "I’ll do this" in page or "I'll do this" in page, "the person's plan is on the page"
    assert 'href="/give"' in page, "and so is the invitation to give"


def test_no_page_invites_a_gift_where_none_can_be_made(client, acme, movement):
    assert 'href="/give"' not in client.get("/thanks", base_url=ACME).get_data(as_text=True)
    assert 'href="/give"' not in client.get("/", base_url=host()).get_data(as_text=True)
