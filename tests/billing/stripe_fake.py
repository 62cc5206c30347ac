"""A fake Stripe for the tests, run as a process of its own (``python tests/billing/stripe_fake.py``; it prints its
port): localstripe, a stateful fake by a third party, for customers, payment methods, subscriptions, invoices and
events, kept in memory; and, on the same server, the little localstripe lacks, in Stripe's wire format:

- Checkout Sessions (``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/<id>``), in subscription mode
  (a price made beforehand, or one given inline that recurs) or payment mode (an inline price: a one-off gift), and
  the page a person pays on (``/pay/<id>``, which asks for an email without a customer): paying in subscription
  mode attaches a test card and makes the subscription in localstripe (which invoices and charges it); either
  mode records ``checkout.session.completed``;
- the billing portal's sessions (``POST /v1/billing_portal/sessions``) and a page standing for the portal;
- a new period of a subscription (``POST /_fake/subscriptions/<id>/renew``, as a test clock moved on would bring):
  an invoice charged to the customer's card, and, when the card is declined, what Stripe then does (localstripe
  only marks the charge failed): ``invoice.payment_failed`` and the subscription ``past_due``.

Prices are localstripe's plans: a plan's id is a price id to Stripe too. Events are not sent by this server: the
tests read them (``GET /v1/events``) and deliver them, signed as Stripe signs them (``tests/billing/conftest.py``).
"""

from __future__ import annotations

import html
import socket
import sys

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import (Customer, Event, Invoice, PaymentIntent, PaymentMethod, Plan, Product, StripeObject,
                                   Subscription)

resources.Store.dump_to_disk = lambda self: None  # in memory only: nothing shared with another run


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, base: str, mode=None, customer=None, line_items=None, success_url=None, cancel_url=None,
                 metadata=None, subscription_data=None, client_reference_id=None, **ignored):
        if mode not in ("subscription", "payment") or not isinstance(line_items, list) or len(line_items) != 1:
            raise UserError(400, "Only one line item, in subscription or payment mode, is faked")
        item = line_items[0]
        if customer is not None:
            Customer._api_retrieve(customer)
        if item.get("price") is not None:  # a price made beforehand (a plan, to localstripe)
            plan = Plan._api_retrieve(item["price"])
            self._price, self.amount_total, self.currency = plan.id, plan.amount, plan.currency
            self._name = plan.nickname or plan.id
        else:  # a price given inline (a gift): made into a plan when it recurs
            data = item.get("price_data") or {}
            self._price, self.amount_total, self.currency = None, int(data["unit_amount"]), data["currency"]
            self._name = (data.get("product_data") or {}).get("name") or "Item"
            if mode == "subscription":
                self._price = Plan(product=Product(name=self._name).id, amount=self.amount_total,
                                   currency=self.currency, interval=(data.get("recurring") or {}).get("interval")).id
        super().__init__()
        self.mode, self.customer, self.success_url, self.cancel_url = mode, customer, success_url, cancel_url
        self.metadata, self.client_reference_id = metadata or {}, client_reference_id
        self._subscription_metadata = (subscription_data or {}).get("metadata")
        self.status, self.payment_status, self.subscription, self.customer_details = "open", "unpaid", None, None
        self.url = f"{base}/pay/{self.id}"

    def _pay(self, payment_method: str, email: str | None) -> None:
        """What Stripe does once the person paid: in subscription mode the card kept as the customer's (a new
        customer when none was given), the subscription made (and its first invoice charged); the session
        complete."""
        if self.mode == "subscription":
            if self.customer is None:
                self.customer = Customer(email=email).id
            card = PaymentMethod._api_retrieve(payment_method)
            PaymentMethod._api_attach(card.id, customer=self.customer)
            Customer._api_update(self.customer, invoice_settings={"default_payment_method": card.id})
            self.subscription = Subscription(customer=self.customer, items=[{"plan": self._price}],
                                             metadata=self._subscription_metadata).id
        self.customer_details = {"email": email or Customer._api_retrieve(self.customer).email}
        self.status, self.payment_status = "complete", "paid"
        Event("checkout.session.completed", self)


class PortalSession(StripeObject):
    object = "billing_portal.session"
    _id_prefix = "bps_"

    def __init__(self, base: str, customer=None, return_url=None, **ignored):
        Customer._api_retrieve(customer)
        super().__init__()
        self.customer, self.return_url, self.url = customer, return_url, f"{base}/portal/{self.id}"


def _base(request) -> str:
    return f"http://{request.host}"


async def create_checkout(request):
    data = await server.get_post_data(request)
    return server.json_response(CheckoutSession(_base(request), **data)._export())


async def retrieve_checkout(request):
    return server.json_response(CheckoutSession._api_retrieve(request.match_info["id"])._export())


async def create_portal(request):
    data = await server.get_post_data(request)
    return server.json_response(PortalSession(_base(request), **data)._export())


async def renew(request):
    subscription = Subscription._api_retrieve(request.match_info["id"])
    invoice = Invoice._api_create(customer=subscription.customer, subscription=subscription.id)
    Invoice._api_pay_invoice(invoice.id)
    if invoice.status != "paid":
        Event("payment_intent.payment_failed", PaymentIntent._api_retrieve(invoice.payment_intent))
        invoice._on_payment_failure_now()
    return server.json_response(invoice._export())


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


async def checkout_page(request):
    """The page a person pays on (Stripe's own, in real life): a test card that works, or one that is declined."""
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    # Without a customer, Stripe's page asks for the address its receipts go to.
    email = "" if session.customer else '<p><label>Email <input name="email" type="email"></label></p>'
    body = (f"<p>{html.escape(session._name)}: {session.amount_total / 100:.2f} {session.currency.upper()}</p>"
            f'<form method="post">{email}<button name="card" value="pm_card_visa">Pay</button></form>')
    return web.Response(text=PAGE.format(title="Test checkout", body=body), content_type="text/html")


async def pay(request):
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    form = await request.post()
    session._pay(form.get("card", "pm_card_visa"), form.get("email"))
    raise web.HTTPSeeOther(session.success_url)


async def portal_page(request):
    session = PortalSession._api_retrieve(request.match_info["id"])
    body = f'<p><a href="{html.escape(session.return_url)}">Return</a></p>'
    return web.Response(text=PAGE.format(title="Test customer portal", body=body), content_type="text/html")


@web.middleware
async def pages_need_no_key(request, handler):
    """The pages a browser opens carry no API key (localstripe asks one of every request): served directly."""
    if request.path.startswith(("/pay/", "/portal/")):
        return await request.match_info.handler(request)
    return await handler(request)


def main() -> None:
    app = server.app
    app.middlewares.insert(0, pages_need_no_key)
    app.router.add_post("/v1/checkout/sessions", create_checkout)
    app.router.add_get("/v1/checkout/sessions/{id}", retrieve_checkout)
    app.router.add_post("/v1/billing_portal/sessions", create_portal)
    app.router.add_get("/pay/{id}", checkout_page)
    app.router.add_post("/pay/{id}", pay)
    app.router.add_get("/portal/{id}", portal_page)
    app.router.add_post("/_fake/subscriptions/{id}/renew", renew)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    sys.exit(main())
