"""Confirming a commitment by mail: the link opens a page with a button, only pressing it confirms, once; expired,
used and altered links are explained; a tenant that requires it counts a commitment only once confirmed."""

import re
import time
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.models import OutboxMessage
from core.rollup.models import Source
from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenants.models import Commitment, EmailConfirmation, Role, Tenant
from tests.helpers import csrf_token, host, sign_up

ACME = host("acme")
CSRF_VALUE = re.compile(r'value="[^"]+"')
K = 5  # acme's smallest group: its men and verified figures move in steps of K people (tests/core/test_steps.py)


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation", privacy_k=K)


def others(make_commitment, tenant, n: int, **fields) -> None:
    for _ in range(n):
        make_commitment(tenant, **fields)


def path_of(link: str) -> str:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == ACME, "the link is for the tenant's own host"
    return parts.path


def stats(client) -> dict:
    return client.get("/stats.json", base_url=ACME).get_json()


def press(client, path: str):
    """Press the page's button, as its owner does."""
    page = client.get(path, base_url=ACME)
    token = csrf_token(page.get_data(as_text=True)) if page.status_code == 200 else "none"
    return client.post(path, base_url=ACME, data={"csrf_token": token})


def mailed_link(smtp_server, address="sam@example.org") -> str:
    return path_of(smtp_server.link(smtp_server.last_to(address)))


def test_a_scanner_opening_the_link_confirms_nothing_and_the_button_confirms_once(client, app, acme, smtp_server,
                                                                                 make_commitment):
    others(make_commitment, acme, K - 1)  # Sam is the K-th: the figures are released with him
    thanks = client.get(sign_up(client, "acme").location, base_url=ACME).get_data(as_text=True)
    assert "Please check your email" in thanks and "<strong>5</strong> men have committed" in thanks
    mail = smtp_server.last_to("sam@example.org")
    assert mail["Subject"] == "Please confirm your HeForShe commitment at Acme Corporation"
    assert "Acme Corporation" in mail["From"]
    path = mailed_link(smtp_server)

    scanner = app.test_client()  # a mail filter opens every link, more than once
    for _ in range(2):
        opened = scanner.get(path, base_url=ACME)
        assert opened.status_code == 200 and "Confirm my commitment" in opened.get_data(as_text=True)
    assert stats(client)["verified"] == {"people": 0, "men": 0, "commitments": 0}

    assert client.post(path, base_url=ACME, data={}).status_code == 400, "no CSRF token, no confirmation"
    assert stats(client)["verified"]["people"] == 0

    confirmed = press(client, path)
    assert confirmed.status_code == 303
    assert "Your commitment is confirmed" in client.get(confirmed.location, base_url=ACME).get_data(as_text=True)
    assert stats(client)["verified"]["people"] == 0, "one confirmation alone waits for the next step: it names Sam"
    others(make_commitment, acme, K)  # K more people, unverified: everyone's figures step, the verified ones wait
    counts = stats(client)
    assert (counts["people"], counts["men"], counts["verified"]["people"]) == (2 * K, 2 * K, 0)
    assert counts["verified_released_at"] < counts["released_at"]
    others(make_commitment, acme, K - 1, source=Source.SSO, verified=True)  # with Sam, K verified since
    counts = stats(client)
    assert (counts["men"], counts["verified"]["people"]) == (2 * K, 0), "everyone's moved by K - 1: no step"
    others(make_commitment, acme, 1)
    counts = stats(client)
    assert (counts["people"], counts["verified"], counts["unverified"]) == (
        3 * K, {"people": K, "men": K, "commitments": K}, {"people": 2 * K, "men": 2 * K, "commitments": 2 * K})
    assert counts["verified_released_at"] == counts["released_at"]
    global_counts = client.get("/stats.json", base_url=host()).get_json()  # 15 people: past the global k
    assert (global_counts["people"], global_counts["verified"]["people"]) == (3 * K, K)  # its first step

    again = press(client, path)
    assert again.status_code == 410 and "confirmed already" in again.get_data(as_text=True)
    assert scanner.get(path, base_url=ACME).status_code == 410
    assert stats(client)["verified"]["people"] == K, "counted once"


def test_a_required_confirmation_counts_the_commitment_only_once_confirmed(client, db, acme, smtp_server,
                                                                          make_commitment):
    others(make_commitment, acme, K - 1)  # before confirmation is required: they count
    with tenant_context(acme):
        db.session.get(Tenant, acme.id).email_confirmation = EmailConfirmation.REQUIRED
        db.session.commit()
    thanks = client.get(sign_up(client, "acme").location, base_url=ACME).get_data(as_text=True)
    assert "One more step" in thanks and "it counts once you have" in thanks
    assert "<strong>0</strong> men have committed" in thanks  # K - 1 so far: nothing released yet
    assert stats(client)["total"] == K - 1 and client.get("/stats.json", base_url=host()).get_json()["total"] == K - 1
    assert "counts once you have confirmed it" in smtp_server.last_to("sam@example.org").get_content()
    path = mailed_link(smtp_server)
    client.get(path, base_url=ACME)
    assert stats(client)["total"] == K - 1, "opening the link is not confirming"
    assert press(client, path).status_code == 303
    assert (stats(client)["total"], stats(client)["verified"]["people"]) == (K, 1)
    page = client.get("/", base_url=ACME).get_data(as_text=True)
    assert "<strong>5</strong> men have committed" in page


def test_an_expired_link_is_explained_and_confirms_nothing(client, acme, smtp_server, monkeypatch):
    sign_up(client, "acme")
    path = mailed_link(smtp_server)
    eight_days_on = int(time.time()) + 8 * 86400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: eight_days_on)
    opened = client.get(path, base_url=ACME)
    assert opened.status_code == 410 and "This confirmation link has expired" in opened.get_data(as_text=True)
    posted = client.post(path, base_url=ACME, data={"csrf_token": "whatever"})
    assert posted.status_code == 410
    assert stats(client)["verified"]["people"] == 0


def test_an_altered_link_or_another_tenants_is_explained_not_an_error(client, make_tenant, acme, smtp_server):
    make_tenant("globex", "Globex")
    sign_up(client, "acme")
    path = mailed_link(smtp_server)
    token = path.rsplit("/", 1)[1]
    altered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    for base, wrong in [(ACME, f"/confirm/{altered}"), (ACME, "/confirm/x"), (ACME, f"/confirm/{token[:20]}"),
                        (host("globex"), path)]:
        answer = client.get(wrong, base_url=base)
        assert answer.status_code == 404, wrong
        assert "This confirmation link cannot be used" in answer.get_data(as_text=True)
        assert client.post(wrong, base_url=base, data={"csrf_token": "x"}).status_code == 404
    assert stats(client)["verified"]["people"] == 0


def test_a_repeat_sees_the_same_page_and_gets_a_fresh_link_until_confirmed(app, client, db, acme, smtp_server):
    def thank_you_page(email):
        visitor = app.test_client()
        answer = sign_up(visitor, "acme", email=email)
        page = visitor.get(answer.location, base_url=ACME).get_data(as_text=True)
        return answer.status_code, answer.location, CSRF_VALUE.sub("", page)

    thank_you_page("sam@example.org")
    repeat, newcomer = thank_you_page("SAM@example.org"), thank_you_page("kim@example.org")
    notice = re.compile(r'<p class="notice" role="status">[^<]*</p>')
    assert repeat[:2] == newcomer[:2] and notice.findall(repeat[2]) == notice.findall(newcomer[2])
    assert "Please check your email" in notice.findall(repeat[2])[0]
    links = [smtp_server.link(m) for m in smtp_server.delivered() if "sam@example.org" in m["To"]]
    assert len(links) == 2, "a fresh link for the repeat who has not confirmed"
    assert press(client, path_of(links[1])).status_code == 303
    assert press(client, path_of(links[0])).status_code == 410, "one confirmation uses up every link"
    thank_you_page("sam@example.org")
    assert [m["To"] for m in smtp_server.delivered()].count("sam@example.org") == 2, "confirmed: no more mail"


def test_with_confirmation_off_no_mail_is_sent_and_the_page_does_not_ask(client, db, acme, smtp_server):
    with tenant_context(acme):
        db.session.get(Tenant, acme.id).email_confirmation = EmailConfirmation.OFF
        db.session.commit()
    thanks = client.get(sign_up(client, "acme").location, base_url=ACME).get_data(as_text=True)
    assert "check your email" not in thanks
    assert smtp_server.delivered() == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_confirming_is_throttled_per_address_and_host(app, client, acme, smtp_server):
    assert app.config["CONFIRMATION_RATE_LIMIT"] == "10 per minute"
    app.config["CONFIRMATION_RATE_LIMIT"] = "2 per minute"
    sign_up(client, "acme")
    path = mailed_link(smtp_server)
    assert [client.post(path, base_url=ACME, data={}).status_code for _ in range(2)] == [400, 400]
    assert press(client, path).status_code == 429
    assert client.get(path, base_url=ACME).status_code == 200, "the page itself still opens"
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "127.9.0.9"
    assert press(elsewhere, path).status_code == 303


def test_admins_choose_the_setting_on_the_sign_in_page_and_it_is_audited(client, db, acme, sign_in_as):
    sign_in_as(acme, Role.VIEWER, client=client)
    assert client.post("/portal/sso/email-confirmation", base_url=ACME,
                       data={"mode": "required"}).status_code == 403
    sign_in_as(acme, Role.ADMIN, client=client)
    page = client.get("/portal/sso", base_url=ACME).get_data(as_text=True)
    assert re.search(r'<input checked id="mode-\d" name="mode" required type="radio" value="optional">', page)
    refused = client.post("/portal/sso/email-confirmation", base_url=ACME,
                          data={"csrf_token": csrf_token(page), "mode": "always"})
    assert refused.status_code == 400
    saved = client.post("/portal/sso/email-confirmation", base_url=ACME,
                        data={"csrf_token": csrf_token(page), "mode": "required"})
    assert saved.status_code == 303
    db.session.expire_all()
    with tenant_context(acme):
        assert db.session.get(Tenant, acme.id).email_confirmation is EmailConfirmation.REQUIRED
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "signup.email_confirmation")).one()
        assert (entry.target, entry.details) == ("required", {"previous": "optional"})
    assert "applies to commitments made from now on" in client.get(saved.location, base_url=ACME).get_data(
        as_text=True)


@pytest.mark.browser
def test_a_person_confirms_from_the_mail_in_a_browser(page, axe, app, db, make_tenant, make_commitment, smtp_server):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=K)
    others(make_commitment, acme, K - 1)  # before confirmation is required: they count
    with tenant_context(acme):
        db.session.get(Tenant, acme.id).email_confirmation = EmailConfirmation.REQUIRED
        db.session.commit()
    site = f"http://acme.hfs.test:{page.port}"
    page.goto(site + "/")
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Man", exact=True).check()
    page.get_by_label("Country").select_option("KE")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="I commit").click()
    expect(page.get_by_role("status")).to_contain_text("One more step: please check your email.")
    expect(page.locator(".counter")).to_contain_text("0 men have committed at Acme Corporation")

    link = smtp_server.link(smtp_server.last_to("sam@example.org"))
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your commitment")
    assert axe(page) == []
    page.get_by_role("button", name="Confirm my commitment").click()
    expect(page.get_by_role("status")).to_contain_text("Your commitment is confirmed.")
    expect(page.locator(".counter")).to_contain_text("5 men have committed at Acme Corporation")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your commitment is confirmed already")
    with tenant_context(acme):
        assert db.session.scalars(select(Commitment.verified).where(Commitment.verified)).one() is True
