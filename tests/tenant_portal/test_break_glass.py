"""The break-glass sign-in under attack: concurrent wrong passwords, a replayed code, a hammered form."""

from __future__ import annotations

import threading
import time

import pyotp
import requests
from sqlalchemy import select

from core.app import create_app
from core.tenancy import tenant_context
from tenants.models import Member
from tenants.sso import break_glass
from tests.helpers import BASE_DOMAIN, csrf_token, host

ACME = host("acme")
PASSWORD = "a long break-glass password"


def turn_on(db, make_tenant) -> tuple:
    tenant = make_tenant("acme", "Acme Corporation")
    with tenant_context(tenant):
        secret = break_glass.enable(tenant, "root@acme.example", PASSWORD)
        db.session.commit()
    return tenant, pyotp.TOTP(secret)


def attempt(client, code: str, password: str = PASSWORD):
    page = client.get("/portal/sign-in", base_url=ACME).get_data(as_text=True)
    return client.post("/portal/sign-in", base_url=ACME, data={
        "csrf_token": csrf_token(page), "email": "root@acme.example", "password": password, "code": code})


def signed_in(answer) -> bool:
    return answer.status_code == 303 and answer.location == "/portal/"


def test_a_code_is_accepted_once(client, app, db, make_tenant):
    _, totp = turn_on(db, make_tenant)
    code = totp.now()
    assert signed_in(attempt(client, code))
    assert not signed_in(attempt(app.test_client(), code)), "the same code, replayed in another browser"


def test_a_code_older_than_the_last_one_used_is_refused(client, app, db, make_tenant):
    _, totp = turn_on(db, make_tenant)
    now = time.time()
    assert signed_in(attempt(client, totp.at(now)))
    earlier = totp.at(now - totp.interval)  # still inside the tolerated clock window, but older
    assert not signed_in(attempt(app.test_client(), earlier))


def test_twelve_concurrent_wrong_passwords_get_no_more_than_five_tries(app, db, make_tenant, postgres, live_server,
                                                                      monkeypatch):
    app.config["BREAK_GLASS_RATE_LIMIT"] = "100 per minute"  # the tries, not the throttle, are under test here
    tenant, totp = turn_on(db, make_tenant)
    checked = []
    real_check = break_glass.check_password_hash
    monkeypatch.setattr(break_glass, "check_password_hash",
                        lambda stored, given: checked.append(given) or real_check(stored, given))
    headers = {"Host": f"acme.{BASE_DOMAIN}:{live_server}"}
    url = f"http://127.0.0.1:{live_server}/portal/sign-in"
    browsers = [requests.Session() for _ in range(12)]
    forms = [csrf_token(browser.get(url, headers=headers, timeout=10).text) for browser in browsers]
    start = threading.Barrier(len(browsers))
    answers = []

    def wrong_password(browser, token):
        start.wait()
        answers.append(browser.post(url, headers=headers, allow_redirects=False, timeout=30, data={
            "csrf_token": token, "email": "root@acme.example", "password": "wrong password!", "code": totp.now()}))

    threads = [threading.Thread(target=wrong_password, args=pair) for pair in zip(browsers, forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == 12 and all(a.status_code == 200 for a in answers)
    assert len(checked) <= break_glass.MAX_FAILURES
    right = requests.Session()
    token = csrf_token(right.get(url, headers=headers, timeout=10).text)
    answer = right.post(url, headers=headers, allow_redirects=False, timeout=10, data={
        "csrf_token": token, "email": "root@acme.example", "password": PASSWORD, "code": totp.now()})
    assert answer.status_code != 303, "the right password got in: the account should be locked"
    with tenant_context(tenant):
        assert db.session.scalar(select(Member.locked_until)) is not None


def test_the_form_is_throttled_per_address(client, app, db, make_tenant):
    turn_on(db, make_tenant)
    guesses = [attempt(client, "123456", f"guess number {n}") for n in range(10)]
    assert all(answer.status_code == 200 for answer in guesses)
    throttled = attempt(client, "123456", "guess number 11")
    assert throttled.status_code == 429
    assert "Too many tries" in throttled.get_data(as_text=True)
    assert 1 <= int(throttled.headers["Retry-After"]) <= 61  # the browser (and the person) learn how long
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "127.9.0.9"
    assert attempt(elsewhere, "123456", "someone else").status_code == 200
    assert client.get("/portal/sign-in", base_url=ACME).status_code == 200  # the page itself still opens


def test_behind_a_proxy_the_form_is_throttled_per_client_not_for_everyone(app_config, db, make_tenant):
    app = create_app({**app_config, "PROXY_COUNT": 1})
    turn_on(db, make_tenant)
    crowd = [app.test_client() for _ in range(2)]
    for client, address in zip(crowd, ("198.51.100.7", "203.0.113.9")):
        client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)  # the proxy's address
    for _ in range(11):
        throttled = attempt(crowd[0], "123456", "wrong")
    assert throttled.status_code == 429
    assert attempt(crowd[1], "123456", "someone else").status_code == 200
