"""Sessions made at sign-in."""

from tenants.models import Role
from tests.helpers import BASE_DOMAIN, csrf_token, host


def test_a_request_racing_the_first_page_after_sign_in_leaves_its_form_working(client, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, client=client)
    cookie_at_sign_in = client.get_cookie("session", domain=f"acme.{BASE_DOMAIN}").value
    token = csrf_token(client.get("/portal/members", base_url=host("acme")).get_data(as_text=True))

    # The browser's /favicon.ico for the sign-in answer left with the older cookie and comes back last.
    client.set_cookie("session", cookie_at_sign_in, domain=f"acme.{BASE_DOMAIN}")
    client.get("/favicon.ico", base_url=host("acme"))

    signed_out = client.post("/sso/logout", base_url=host("acme"), data={"csrf_token": token})
    assert signed_out.status_code == 200
    assert client.get("/portal/", base_url=host("acme")).status_code in (302, 303)
