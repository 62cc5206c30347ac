"""The embedded run's taker: with ``SNAPSHOT_TAKER=thread``, a thread of each web process takes the day's snapshot
at start and again just after each midnight (UTC). Several processes may each run one: taking is idempotent per
day, and the table's key keeps one row a day whoever gets there first. Production runs ``flask snapshots take``
from a daily timer instead (docs/operations.md)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.snapshots import services

#: Past midnight before the day's snapshot is taken, so that a clock a little behind still sees the new day.
AFTER_MIDNIGHT = timedelta(seconds=30)
#: How long to wait after a failure (the database away, or not migrated yet) before trying again.
RETRY_SECONDS = 60.0


def seconds_until_next_day(now: datetime) -> float:
    midnight = datetime.combine(now.astimezone(timezone.utc).date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=timezone.utc)
    return (midnight + AFTER_MIDNIGHT - now).total_seconds()


def take_daily(app: Flask, stop: threading.Event) -> None:
    """Take today's snapshot, then each day's, until ``stop`` is set. A failure is logged and tried again."""
    while not stop.is_set():
        with app.app_context():
            try:
                snapshot, new = services.take()
                db.session.commit()
                if new:
                    app.logger.info("took the snapshot of %s (SHA-256 %s)", snapshot.day, snapshot.sha256)
                wait = seconds_until_next_day(datetime.now(timezone.utc))
            except (SQLAlchemyError, RuntimeError, services.SnapshotRefused):
                app.logger.exception("the day's snapshot could not be taken; trying again in %s s", RETRY_SECONDS)
                db.session.rollback()
                wait = RETRY_SECONDS
            finally:
                db.session.remove()
        stop.wait(wait)


def start_thread_taker(app: Flask) -> threading.Event | None:
    """With ``SNAPSHOT_TAKER=thread``, take the daily snapshots from a thread of this process; returns the event that
    stops it. Otherwise (``command``: a timer runs ``flask snapshots take``) nothing starts and None is returned."""
    if app.config["SNAPSHOT_TAKER"] != "thread":
        return None
    stop = threading.Event()
    threading.Thread(target=take_daily, args=(app, stop), name="snapshot-taker", daemon=True).start()
    return stop
