"""Abuse resistance of the public sign-up: rate limits per client network, organisation and email domain, and
the signs of a script noted on each commitment (never a reason to refuse it)."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select

from core.app import create_app
from core.rollup import services as rollup
from core.tenancy import tenant_context
from tenants.models import Commitment
from tests.conftest import ServerLikeClient
from tests.core.test_live_across_workers import _free_port
from tests.helpers import hidden_fields, host, sign_up


def visitor(app, address: str, **headers):
    """A browser at ``address`` (each visitor has their own cookies)."""
    app.test_client_class = ServerLikeClient
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, **headers)
    return client


def commitments(db, tenant) -> list[Commitment]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(Commitment).order_by(Commitment.created_at)))


def signals(db, tenant) -> list[tuple]:
    return [(c.client_network, c.email_domain, c.suspect) for c in commitments(db, tenant)]


NETWORKS = {
    "IPv4 /24": ("198.51.100.7", "198.51.100.200", "198.51.101.7"),
    "IPv6 /56": ("2001:db8:0:100::1", "2001:db8:0:1ff:ffff::9", "2001:db8:0:200::1"),
}


@pytest.mark.parametrize("first,same_network,other_network", NETWORKS.values(), ids=NETWORKS.keys())
def test_past_the_network_limit_a_sign_up_waits_and_keeps_what_was_typed(app, db, make_tenant, first,
                                                                          same_network, other_network):
    acme = make_tenant("acme")
    app.config["SIGNUP_RATE_LIMIT_NETWORK"] = "2 per minute"
    assert sign_up(visitor(app, first), "acme", email="a@example.org").status_code == 303
    assert sign_up(visitor(app, first), "acme", email="b@example.org").status_code == 303

    held = sign_up(visitor(app, same_network), "acme", email="chris@example.org", name="Chris Typed-Name",
                   city="Lyon", gender="woman", country="FR")
    page = held.get_data(as_text=True)
    assert held.status_code == 429
    assert 1 <= int(held.headers["Retry-After"]) <= 61  # the window's end, rounded up
    assert "Everything you entered is still here: please press “I commit” again in 1 minute." in page
    assert 'role="alert"' in page
    woman = 'checked id="gender-1" name="gender" required type="radio" value="woman"'
    for typed in ('value="chris@example.org"', 'value="Chris Typed-Name"', 'value="Lyon"', woman,
                  '<option selected value="FR">'):
        assert typed in page, f"{typed} is kept"
    assert len(commitments(db, acme)) == 2

    assert sign_up(visitor(app, other_network), "acme", email="c@example.org").status_code == 303
    assert len(commitments(db, acme)) == 3


def test_the_wait_is_said_in_the_persons_language_and_counts_down(app, make_tenant):
    make_tenant("acme")
    app.config["SIGNUP_RATE_LIMIT_NETWORK"] = "1 per 30 seconds"
    sign_up(visitor(app, "198.51.100.7"), "acme", email="a@example.org")
    held = sign_up(visitor(app, "198.51.100.8"), "acme", path="/?lang=fr", email="b@example.org")
    seconds = int(held.headers["Retry-After"])
    assert held.status_code == 429 and 25 <= seconds <= 31
    assert f"dans {seconds} secondes" in held.get_data(as_text=True)


def test_the_organisation_limit_counts_every_network(app, db, make_tenant):
    acme, northfield = make_tenant("acme"), make_tenant("northfield")
    app.config["SIGNUP_RATE_LIMIT_TENANT"] = "2 per minute"
    for n in (1, 2):
        assert sign_up(visitor(app, f"198.51.{n}.1"), "acme", email=f"p{n}@example.org").status_code == 303
    assert sign_up(visitor(app, "198.51.3.1"), "acme", email="p3@example.org").status_code == 429
    assert sign_up(visitor(app, "198.51.3.1"), "northfield", email="p3@example.org").status_code == 303
    assert (len(commitments(db, acme)), len(commitments(db, northfield))) == (2, 1)


def test_the_domain_limit_counts_one_domain_at_one_organisation(app, db, make_tenant):
    acme, _ = make_tenant("acme"), make_tenant("northfield")
    app.config["SIGNUP_RATE_LIMIT_DOMAIN"] = "2 per minute"
    for n, email in enumerate(["a@catchall.example", "b@CATCHALL.example"]):
        assert sign_up(visitor(app, f"198.51.{n}.1"), "acme", email=email).status_code == 303
    assert sign_up(visitor(app, "198.51.7.1"), "acme", email="c@Catchall.Example").status_code == 429
    assert sign_up(visitor(app, "198.51.7.1"), "acme", email="c@other.example").status_code == 303
    assert sign_up(visitor(app, "198.51.7.1"), "northfield", email="c@catchall.example").status_code == 303
    assert [domain for _, domain, _ in signals(db, acme)] == ["catchall.example", "catchall.example",
                                                              "other.example"]


def test_a_refused_form_counts_against_no_limit(app, make_tenant):
    make_tenant("acme")
    app.config["SIGNUP_RATE_LIMIT_NETWORK"] = "1 per minute"
    person = visitor(app, "198.51.100.7")
    for mistake in ({"email": "sam@"}, {"consent": None}, {"csrf_token": None}):
        assert sign_up(person, "acme", **mistake).status_code == 400
    assert sign_up(person, "acme").status_code == 303


def test_with_the_limit_store_down_sign_ups_work_and_the_outage_is_logged_once(app_config, make_tenant, db,
                                                                              caplog):
    acme = make_tenant("acme")
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_free_port()}/0",
                      "SIGNUP_RATE_LIMIT_NETWORK": "3 per minute"})
    with caplog.at_level(logging.INFO, logger="core.ratelimits"):
        answers = [sign_up(visitor(app, "198.51.100.7"), "acme", email=f"p{n}@example.org").status_code
                   for n in range(4)]
    assert answers == [303, 303, 303, 429], "counted in the worker meanwhile"
    assert len(commitments(db, acme)) == 3
    with tenant_context(acme):
        assert rollup.tenant_counts().men == 3
    outage = [r.getMessage() for r in caplog.records if r.name == "core.ratelimits"]
    assert len(outage) == 1 and outage[0].startswith("rate limit storage unreachable"), outage


def test_sign_ups_note_their_network_and_domain_but_never_the_address(client, db, make_tenant):
    acme = make_tenant("acme")
    sign_up(visitor(client.application, "203.0.113.77"), "acme", email="sam@Bücher.example")
    [(network, domain, _)] = signals(db, acme)
    assert (network, domain) == ("203.0.113.0/24", "xn--bcher-kva.example")


def test_a_person_at_a_human_pace_is_not_suspect(app, db, make_tenant):
    acme = make_tenant("acme")
    app.config["SIGNUP_MIN_SECONDS"] = 0.3
    person = visitor(app, "198.51.100.7")
    page = person.get("/", base_url=host("acme")).get_data(as_text=True)
    time.sleep(0.4)  # reading, typing
    answer = person.post("/", base_url=host("acme"), data={
        **hidden_fields(page), "website": "", "email": "sam@example.org", "gender": "man", "country": "FR",
        "consent": "y"})
    assert answer.status_code == 303
    assert signals(db, acme) == [("198.51.100.0/24", "example.org", None)]


SUSPECT = {
    "trap filled": ({"website": "http://spam.example"}, "honeypot,too_fast"),
    "sent at once": ({}, "too_fast"),
    "no render time": ({"rendered": None}, "no_render_time"),
    "render time altered": ({"rendered": "1000.forged"}, "no_render_time"),
    "render time garbage": ({"rendered": "x" * 5000}, "no_render_time"),
    "throwaway mail": ({"email": "sam@mailinator.com"}, "too_fast,disposable"),
    "throwaway subdomain": ({"email": "sam@inbox.MAILINATOR.com", "rendered": None}, "no_render_time,disposable"),
}


@pytest.mark.parametrize("fields,reasons", SUSPECT.values(), ids=SUSPECT.keys())
def test_a_suspect_sign_up_is_thanked_counted_and_noted(client, db, make_tenant, fields, reasons):
    acme = make_tenant("acme")
    answer = sign_up(client, "acme", **fields)
    assert answer.status_code == 303 and answer.location == "/thanks", "the same answer as anyone's"
    assert [suspect for _, _, suspect in signals(db, acme)] == [reasons]
    with tenant_context(acme):
        assert rollup.tenant_counts().men == 1
        assert commitments(db, acme)[0].verified is False


def test_the_trap_field_is_hidden_from_people_and_their_tools(client, make_tenant):
    make_tenant("acme")
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert '<div class="visually-hidden" aria-hidden="true">' in page
    assert '<label for="website">Leave this field empty</label>' in page
    assert 'autocomplete="off" id="website" name="website" tabindex="-1" type="text" value=""' in page


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(app, app_config, db, make_tenant):
    acme = make_tenant("acme")
    behind_proxy = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    app.config["SIGNUP_RATE_LIMIT_NETWORK"] = "1 per minute"
    sign_up(visitor(app, "127.0.0.1", **behind_proxy), "acme", email="a@example.org")
    forged = sign_up(visitor(app, "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"), "acme", email="b@example.org")
    assert forged.status_code == 429, "a header anyone can send does not make another client"
    assert [network for network, _, _ in signals(db, acme)] == ["127.0.0.0/24"]

    proxied = create_app({**app_config, "PROXY_COUNT": 1, "SIGNUP_RATE_LIMIT_NETWORK": "1 per minute"})
    sign_up(visitor(proxied, "127.0.0.1", **behind_proxy), "acme", email="c@example.org")
    assert sign_up(visitor(proxied, "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"), "acme",
                   email="d@example.org").status_code == 303
    assert [network for network, _, _ in signals(db, acme)] == ["127.0.0.0/24", "198.51.100.0/24",
                                                                "203.0.113.0/24"]


@pytest.mark.parametrize("method,path", [("GET", "/sso/oidc/callback?code=x&state=y"), ("POST", "/sso/saml/acs")])
def test_identity_provider_returns_are_limited_per_network(app, make_tenant, method, path):
    make_tenant("acme")
    app.config["SSO_CALLBACK_RATE_LIMIT"] = "2 per minute"
    answers = [visitor(app, f"198.51.100.{n}").open(path, method=method, base_url=host("acme")) for n in (1, 2, 3)]
    assert [answer.status_code for answer in answers] == [404, 404, 429]  # no sign-on set up: 404 until limited
    assert "Too many tries" in answers[2].get_data(as_text=True)
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 61
    assert visitor(app, "198.51.101.1").open(path, method=method, base_url=host("acme")).status_code == 404
