"""The mail outbox: requests queue, the worker sends over SMTP, retries, gives up, and never sends twice."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from flask import abort
from sqlalchemy import func, select

from core import mail
from core import worker as core_worker
from core.extensions import db as _db
from core.models import MailStatus, OutboxMessage
from tests.helpers import host
from tests.mail_fixtures import _free_port


def queued(app, count: int = 1, to: str = "sam@example.org") -> None:
    """Queue ``count`` messages and commit, as a request does."""
    with app.app_context():
        for n in range(count):
            mail.queue(to, f"Message {n}", f"Body of message {n}: http://example.org/{n}")
        _db.session.commit()


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(_db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        _db.session.expunge_all()
        return rows


def later(minutes: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite gives naive UTC back


def test_the_worker_sends_the_queued_mail_once_and_keeps_no_text(app, smtp_server):
    queued(app)
    assert smtp_server.messages == []  # queued, not sent
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.output.startswith("mail: 1, "), result.exception
    assert [m["Subject"] for m in smtp_server.messages] == ["Message 0"]
    assert "http://example.org/0" in smtp_server.messages[0].get_content()
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.message) == (MailStatus.SENT, 1, None)  # its link is not kept
    assert smtp_server.deliver() == 0
    assert len(smtp_server.messages) == 1


def test_a_failed_send_is_tried_again_later_and_given_up_after_the_last_try(app, smtp_server, caplog):
    app.config.update(MAIL_PORT=_free_port(), MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_SECONDS=30)
    queued(app)
    waits = []
    for attempt, moment in enumerate((later(0), later(1), later(3)), start=1):
        with app.app_context():
            assert mail.deliver_due(now=moment) == 0
        (row,) = outbox(app)
        assert row.attempts == attempt and "refused" in row.last_error.lower()
        if attempt < 3:
            assert row.status is MailStatus.QUEUED
            waits.append(aware(row.next_attempt_at) - moment)
            with app.app_context():
                assert mail.deliver_due(now=moment) == 0  # not due again yet
            assert outbox(app)[0].attempts == attempt
    assert [round(w.total_seconds()) for w in waits] == [30, 60]  # doubling
    assert (row.status, row.message) == (MailStatus.FAILED, None)
    assert "given up after 3 tries" in caplog.text
    app.config.update(MAIL_PORT=smtp_server.port)
    with app.app_context():
        assert mail.deliver_due(now=later(600)) == 0
    assert smtp_server.messages == []


def test_a_job_whose_mail_cannot_be_made_is_tried_again_then_given_up_and_the_worker_goes_on(
        app, smtp_server, caplog, monkeypatch):
    app.config.update(MAIL_MAX_ATTEMPTS=2)

    def broken(payload):
        raise KeyError("a template bug")

    monkeypatch.setitem(mail._composers, "broken", broken)
    with app.app_context():
        mail.queue_job("broken", "sam@example.org", {})
        mail.queue("ada@example.org", "Hello", "A message queued after the broken job")
        _db.session.commit()
        assert mail.deliver_due(now=later(0)) == 1  # the broken job stopped nothing
        assert mail.deliver_due(now=later(60)) == 0
    broken_job = outbox(app)[0]
    assert (broken_job.status, broken_job.attempts) == (MailStatus.FAILED, 2)
    assert "could not be composed" in broken_job.last_error and "given up after 2 tries" in caplog.text
    assert [m["To"] for m in smtp_server.messages] == ["ada@example.org"]


def test_an_unexpected_error_while_sending_is_tried_again_and_the_worker_goes_on(app, smtp_server, monkeypatch):
    queued(app, count=2)
    real_deliver, calls = mail.deliver, []

    def first_one_breaks(message):
        calls.append(message["To"])
        if len(calls) == 1:
            raise UnicodeEncodeError("ascii", "ü", 0, 1, "a surprise")
        real_deliver(message)

    monkeypatch.setattr(mail, "deliver", first_one_breaks)
    with app.app_context():
        assert mail.deliver_due(now=later(0)) == 1
    first, second = outbox(app)
    assert (first.status, second.status) == (MailStatus.QUEUED, MailStatus.SENT)
    assert "UnicodeEncodeError" in first.last_error
    with app.app_context():
        assert mail.deliver_due(now=later(60)) == 1
    assert len(smtp_server.messages) == 2


def test_each_message_is_claimed_at_the_moment_it_is_taken(app, smtp_server, monkeypatch):
    queued(app, count=2)
    clock = (later(11 * n) for n in range(1000))  # every reading of the clock is 11 minutes on: a slow pass
    monkeypatch.setattr(mail, "_now", lambda: next(clock))
    with app.app_context():
        assert mail.deliver_due() == 2
    first, second = outbox(app)
    # The second claim is not dated back to the start of the pass, where it would look expired already.
    assert aware(second.claimed_at) - aware(first.claimed_at) >= timedelta(minutes=10)


def test_a_request_rolled_back_queues_nothing(app, smtp_server):
    @app.post("/queue-then-fail")
    def queue_then_fail():
        mail.queue("sam@example.org", "Never", "This request fails after queuing me.")
        abort(400)

    assert app.test_client().post("/queue-then-fail", base_url=host()).status_code == 400
    with app.app_context():
        assert _db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert smtp_server.delivered() == []


def test_two_workers_at_once_never_send_the_same_mail_twice(app, smtp_server):
    smtp_server.delay = 0.05
    queued(app, 12)
    start = threading.Barrier(2)
    sent = []

    def worker():
        start.wait()
        with app.app_context():
            sent.append(mail.deliver_due())

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(30)
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert sum(sent) == 12
    assert {row.status for row in outbox(app)} == {MailStatus.SENT}


def test_a_claim_left_by_a_worker_that_died_is_taken_up_again(app, smtp_server):
    queued(app)
    with app.app_context():
        row = _db.session.scalars(select(OutboxMessage)).one()
        row.status, row.claimed_at, row.attempts = MailStatus.SENDING, datetime.now(timezone.utc), 1
        _db.session.commit()
    assert smtp_server.deliver() == 0  # another worker may still be sending it
    with app.app_context():
        assert mail.deliver_due(now=later(mail.CLAIM_EXPIRY.total_seconds() / 60 + 1)) == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("worker", ["thread", "process"])
def test_the_embedded_run_sends_from_a_thread_and_production_leaves_it_to_the_worker_process(app, smtp_server,
                                                                                           worker):
    app.config.update(WORKER=worker, WORKER_POLL_SECONDS=0.05)
    stop = core_worker.start_thread(app)
    try:
        queued(app)
        deadline = time.monotonic() + 5
        while not smtp_server.messages and time.monotonic() < deadline and stop is not None:
            time.sleep(0.05)
    finally:
        if stop is not None:
            stop.set()
            for thread in threading.enumerate():
                if thread.name == "worker":
                    thread.join(5)
    assert len(smtp_server.messages) == (1 if worker == "thread" else 0)
