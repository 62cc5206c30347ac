"""Webhooks: written to the outbox with the change they tell of, signed the Standard Webhooks way, tried again
with growing delays, and delivered once per event id even when a worker is killed in the middle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core import crypto
from core.rollup.models import Gender
from core.tenancy import reviewed_sql, tenant_context
from tenants import plans
from tenants.models import Commitment, Role
from tenants.services import signups
from tenants.services.members import find_or_create_member
from tenants.webhooks import delivery, services as webhooks
from tenants.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookEndpoint, WebhookMessage
from tests.webhook_receiver import receiver  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]


def add_endpoint(db, tenant, receiver, events=("commitment.created", "commitment.withdrawn"), personal=False):
    with tenant_context(tenant):
        added = webhooks.add_endpoint(receiver.url, list(events), personal, "admin@example.org")
        db.session.commit()
        receiver.secret = added.secret
        return added.endpoint.id


def deliver_until(app, done, seconds: float = 10) -> None:
    """Run the worker's webhook task until ``done()`` (the retry delays are short in these tests)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "not delivered in time"
        with app.app_context():
            delivery.deliver_due()
        time.sleep(0.02)


def messages(db, tenant) -> list:
    """The tenant's messages as rows of values (read outside any transaction)."""
    with tenant_context(tenant):
        rows = db.session.execute(select(
            WebhookMessage.event_id, WebhookMessage.status, WebhookMessage.attempts, WebhookMessage.created_at,
            WebhookMessage.next_attempt_at).order_by(WebhookMessage.created_at)).all()
        db.session.rollback()
        return rows


def attempts(db, tenant) -> list[int | None]:
    with tenant_context(tenant):
        codes = list(db.session.scalars(select(WebhookAttempt.status_code).order_by(WebhookAttempt.at)))
        db.session.rollback()
        return codes


def test_a_signed_delivery_answered_500_three_times_is_tried_again_and_recorded_once(
        app, db, make_tenant, make_commitment, receiver):
    app.config.update(WEBHOOK_RETRY_SECONDS=0.01)
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    receiver.plan = [500, 500, 500]
    make_commitment(acme, email="jo@acme.example", gender=Gender.MAN, country="FR")

    deliver_until(app, lambda: receiver.processed)
    assert [r["status"] for r in receiver.requests] == [500, 500, 500, 200]
    assert all(r["verified"] for r in receiver.requests)
    assert len(set(receiver.ids())) == 1  # one webhook-id for every try
    [message] = messages(db, acme)
    assert message.status is DeliveryStatus.DELIVERED and message.attempts == 4
    assert attempts(db, acme) == [500, 500, 500, 200]
    payload = receiver.processed[message.event_id]
    assert payload["type"] == "commitment.created"
    assert payload["data"]["gender"] == "man" and payload["data"]["country"] == "FR"
    assert "email" not in payload["data"] and "jo@acme.example" not in str(payload)  # no personal data by default


def test_the_delay_doubles_between_tries(app, db, make_tenant, make_commitment, receiver):
    app.config.update(WEBHOOK_RETRY_SECONDS=60)
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    receiver.plan = [503, 503]
    make_commitment(acme)
    delays = []
    for _ in range(2):
        with app.app_context():
            delivery.deliver_due()
        [message] = messages(db, acme)
        delays.append(_aware(message.next_attempt_at) - _aware(message.created_at))
        with tenant_context(acme):  # the time comes
            db.session.execute(update(WebhookMessage).values(next_attempt_at=message.created_at))
            db.session.commit()
    assert 55 <= delays[0].total_seconds() <= 65 and 115 <= delays[1].total_seconds() <= 125


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite gives naive UTC back


def test_personal_data_goes_only_to_an_endpoint_allowed_to_receive_it(app, db, make_tenant, make_commitment,
                                                                     receiver):
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver, personal=True)
    make_commitment(acme, email="jo@acme.example", name="Jo", city="Lyon")
    deliver_until(app, lambda: receiver.processed)
    [payload] = receiver.processed.values()
    assert payload["data"]["email"] == "jo@acme.example" and payload["data"]["name"] == "Jo"


def test_what_was_queued_before_the_plan_lost_the_api_waits_until_it_has_it_again(app, db, make_tenant,
                                                                                  make_commitment, receiver):
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver, personal=True)
    make_commitment(acme, email="jo@acme.example")
    plans.grant(acme, "community")  # a downgrade, or a payment lapsed past its grace
    db.session.commit()
    for _ in range(3):
        with app.app_context():
            delivery.deliver_due()
    assert receiver.processed == {} and attempts(db, acme) == []
    assert [message.status for message in messages(db, acme)] == [DeliveryStatus.PENDING]
    plans.grant(acme, "enterprise")
    db.session.commit()
    deliver_until(app, lambda: receiver.processed)
    [payload] = receiver.processed.values()
    assert payload["data"]["email"] == "jo@acme.example"


def test_a_withdrawal_is_sent_and_an_endpoint_gets_only_the_events_it_asked_for(app, db, make_tenant,
                                                                                make_commitment, receiver):
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver, events=("commitment.withdrawn",))
    make_commitment(acme, email="jo@acme.example")
    with tenant_context(acme):
        signups.withdraw(db.session.scalars(select(Commitment)).one())
        db.session.commit()
    deliver_until(app, lambda: receiver.processed)
    assert [p["type"] for p in receiver.processed.values()] == ["commitment.withdrawn"]


def test_a_sign_up_rolled_back_sends_nothing(app, db, make_tenant, receiver):
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    with tenant_context(acme):
        signups.commit(signups.SignUp(email="jo@acme.example", gender=Gender.MAN, country_code="FR",
                                      language="en", consent_version="2026-11"))
        assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 1  # in the transaction
        db.session.rollback()
    with app.app_context():
        assert delivery.deliver_due() == 0
    assert messages(db, acme) == [] and receiver.requests == []


def test_another_tenants_events_never_reach_an_endpoint(app, db, make_tenant, make_commitment, receiver):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    add_endpoint(db, acme, receiver)
    make_commitment(globex)
    with app.app_context():
        delivery.deliver_due()
    assert receiver.requests == [] and messages(db, globex) == []


def test_410_turns_the_endpoint_off_and_mails_the_admins(app, db, make_tenant, make_commitment, receiver,
                                                         smtp_server):
    acme = make_tenant("acme", "Acme")
    with tenant_context(acme):
        find_or_create_member("boss@acme.example").role = Role.ADMIN
        find_or_create_member("viewer@acme.example").role = Role.VIEWER
        db.session.commit()
    add_endpoint(db, acme, receiver)
    receiver.plan = [410]
    make_commitment(acme)
    make_commitment(acme)
    with app.app_context():
        assert delivery.deliver_due() == 0
    assert len(receiver.requests) == 1  # the second event is not sent to an endpoint that is gone
    with tenant_context(acme):
        assert db.session.execute(select(WebhookEndpoint.enabled, WebhookEndpoint.disabled_reason)).one() == (
            False, "gone")
        db.session.rollback()
    assert {m.status for m in messages(db, acme)} == {DeliveryStatus.FAILED}
    [mail] = smtp_server.delivered()
    assert mail["To"] == "boss@acme.example" and "410" in mail.get_content()
    make_commitment(acme)  # nothing more is written for it
    assert len(messages(db, acme)) == 2


def test_failures_in_a_row_turn_the_endpoint_off(app, db, make_tenant, make_commitment, receiver, smtp_server):
    app.config.update(WEBHOOK_RETRY_SECONDS=0.01, WEBHOOK_MAX_FAILURES=3)
    acme = make_tenant("acme")
    with tenant_context(acme):
        find_or_create_member("boss@acme.example").role = Role.ADMIN
        db.session.commit()
    add_endpoint(db, acme, receiver)
    receiver.plan = [500] * 10
    make_commitment(acme)
    deliver_until(app, lambda: messages(db, acme)[0].status is DeliveryStatus.FAILED)
    assert len(receiver.requests) == 3
    with tenant_context(acme):
        assert db.session.scalars(select(WebhookEndpoint.disabled_reason)).one() == "failures"
        db.session.rollback()
    assert "3" in smtp_server.delivered()[0].get_content()


def test_a_message_is_given_up_after_the_retry_window(app, db, make_tenant, make_commitment, receiver):
    app.config.update(WEBHOOK_RETRY_SECONDS=0)
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    receiver.plan = [500] * 10
    make_commitment(acme)
    with app.app_context():
        delivery.deliver_due()
    assert messages(db, acme)[0].status is DeliveryStatus.PENDING  # tried again later
    with tenant_context(acme):  # as if it were 24 hours and a minute later
        created = messages(db, acme)[0].created_at
        assert _aware(db.session.scalars(select(WebhookMessage.retry_until)).one()) == _aware(created) + timedelta(
            hours=24)
        db.session.execute(update(WebhookMessage).values(retry_until=created - timedelta(minutes=1)))
        db.session.commit()
    with app.app_context():
        delivery.deliver_due()
        assert delivery.deliver_due() == 0
    assert messages(db, acme)[0].status is DeliveryStatus.FAILED and len(receiver.requests) == 2


def test_the_secret_is_kept_encrypted(db, make_tenant, receiver):
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    with tenant_context(acme):
        stored = db.session.scalars(select(WebhookEndpoint.secret)).one()
        db.session.rollback()
    assert receiver.secret.startswith("whsec_") and receiver.secret not in stored
    assert crypto.decrypt(stored) == receiver.secret


@pytest.mark.parametrize("url", ["http://hooks.example.com/in", "https://127.0.0.1/in", "https://10.0.0.8/in",
                                 "https://[::1]/in", "https://169.254.169.254/latest", "https://localhost/in",
                                 "https://user:pw@hooks.example.com/", "ftp://hooks.example.com/", "hooks"])
def test_production_refuses_addresses_that_are_not_public_https(app, url):
    app.config["OUTBOUND_ALLOW_PRIVATE"] = False
    with app.test_request_context(), pytest.raises(webhooks.InvalidEndpoint):
        webhooks.check_url(url)


def test_production_never_connects_to_a_loopback_endpoint(app, db, make_tenant, make_commitment, receiver):
    """An endpoint added while private addresses were allowed (or a name that now resolves to one) is refused
    by the fenced client: no request leaves, and the try is logged without an answer."""
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    make_commitment(acme)
    app.config["OUTBOUND_ALLOW_PRIVATE"] = False
    with app.app_context():
        assert delivery.deliver_due() == 0
    assert receiver.requests == [] and attempts(db, acme) == [None]


def _worker(app_config: dict, tmp_path: Path, name: str) -> subprocess.Popen:
    """``flask worker`` as a process of its own, on the test's database, polling often and leasing briefly."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "DATABASE_"))}
    env |= {"FLASK_APP": "wsgi", "DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
            "MIGRATION_DATABASE_URL": app_config["MIGRATION_DATABASE_URL"],
            "DATABASE_APP_ROLE": app_config["DATABASE_APP_ROLE"], "SECRET_KEY": app_config["SECRET_KEY"],
            "BASE_DOMAIN": app_config["BASE_DOMAIN"], "WORKER_POLL_SECONDS": "0.1", "WEBHOOK_LEASE_SECONDS": "2",
            "WEBHOOK_RETRY_SECONDS": "0.1", "SNAPSHOT_SIGNING_KEY": app_config["SNAPSHOT_SIGNING_KEY"]}
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


@pytest.mark.long
def test_a_worker_killed_in_the_middle_still_ends_in_one_delivery_per_event(app, app_config, db, make_tenant,
                                                                           make_commitment, receiver, tmp_path):
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    for _ in range(5):
        make_commitment(acme)
    event_ids = {m.event_id for m in messages(db, acme)}
    assert len(event_ids) == 5
    receiver.hold_first_seconds = 1.0  # the first worker is killed while it waits for the first answer

    first = _worker(app_config, tmp_path, "first")
    try:
        deadline = time.monotonic() + 30
        while not receiver.requests:
            assert first.poll() is None and time.monotonic() < deadline, (tmp_path / "first.log").read_text()
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)  # kill -9: sent, processed by the receiver, but not noted as delivered
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    killed_mid_request = receiver.ids()[0]
    assert [m.status for m in messages(db, acme)].count(DeliveryStatus.DELIVERED) == 0

    second = _worker(app_config, tmp_path, "second")
    try:
        deadline = time.monotonic() + 60
        while {m.status for m in messages(db, acme)} != {DeliveryStatus.DELIVERED}:
            assert second.poll() is None and time.monotonic() < deadline, (tmp_path / "second.log").read_text()
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    assert second.returncode == 0  # SIGTERM ends it cleanly

    # Each event processed exactly once by the receiver, which dedupes on webhook-id; the event in flight when
    # the worker died was sent again (at least once) with the same id, and recorded delivered once.
    assert set(receiver.processed) == event_ids
    assert all(r["verified"] for r in receiver.requests)
    assert receiver.ids().count(killed_mid_request) == 2
    assert all(receiver.ids().count(event_id) == 1 for event_id in event_ids - {killed_mid_request})
    assert attempts(db, acme).count(200) == 5


def test_on_postgresql_the_app_role_reads_no_other_tenants_webhooks_even_in_raw_sql(postgres, db, make_tenant,
                                                                                     make_commitment, receiver):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    add_endpoint(db, globex, receiver)
    make_commitment(globex)
    counts = "SELECT (SELECT count(*) FROM webhook_endpoints), (SELECT count(*) FROM webhook_messages)"
    with tenant_context(acme):
        # Reviewed: a count across the tables on purpose, to show row-level security hides the other tenant's rows.
        assert tuple(db.session.execute(reviewed_sql(counts)).one()) == (0, 0)
        db.session.rollback()
    with tenant_context(globex):
        assert tuple(db.session.execute(reviewed_sql(counts)).one()) == (1, 1)
        db.session.rollback()


def test_a_worker_whose_lease_ran_out_leaves_the_message_to_the_worker_that_took_it(app, db, make_tenant,
                                                                                   make_commitment, receiver):
    acme = make_tenant("acme")
    add_endpoint(db, acme, receiver)
    make_commitment(acme)
    with app.app_context(), tenant_context(acme):
        [(message_id, lease)] = delivery._claim(delivery.utcnow())
        db.session.execute(update(WebhookMessage).values(leased_until=lease + timedelta(seconds=1)))  # another's
        db.session.commit()
        assert delivery._deliver(message_id, lease) == 0
    assert receiver.requests == []
