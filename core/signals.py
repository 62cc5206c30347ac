"""The project's named signals, all in one place (one blinker ``Namespace``).

A reaction across modules is either an explicit call or a receiver of a signal listed here, connected in the
reacting package's ``init_app``; this module is where a reader finds every signal, and each one's docstring says
who sends it and who listens.

Work to do once a transaction commits: code that changes something in a session and wants others to hear of it
only if the change is kept notes it with ``after_commit(session, topic, *items)``. When that session's
transaction commits, ``committed`` is sent once per topic (the topic is the sender) with the items noted; on
rollback they are dropped unheard. A receiver connects to its own topic::

    signals.committed.connect(_publish_committed, sender="live")  # in core.live.init_app
    live.note_changed(session, "global")  # calls signals.after_commit(session, "live", "global")

The one pair of session listeners that does this (after commit: send; after rollback: drop) is registered by
``init_app``, from the app factory.
"""

from __future__ import annotations

from collections.abc import Hashable

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session

_signals = Namespace()

committed = _signals.signal("committed", doc="""\
Sent after a session's transaction committed, once for each topic noted with ``after_commit``: the sender is the
topic (a string), ``items`` the set of what was noted under it. Receivers run after the commit, outside the
transaction; they may be called without an application context (a command's own session).

Topics: ``"live"`` (channels whose counts changed; ``core.live`` publishes them to every worker) and
``"changed tenants"`` (tenant ids; ``tenants.services.hosts`` forgets their cached hosts).""")

# session.info key: {topic: {items}} noted for the open transaction.
_PENDING = "after_commit"


def after_commit(session: Session, topic: str, *items: Hashable) -> None:
    """Note ``items`` for the receivers of ``topic``, once ``session``'s transaction commits (never on rollback)."""
    session.info.setdefault(_PENDING, {}).setdefault(topic, set()).update(items)


def _send_committed(session: Session) -> None:
    for topic, items in session.info.pop(_PENDING, {}).items():
        committed.send(topic, items=items)


def _drop_pending(session: Session, previous_transaction) -> None:
    # Only when the whole transaction rolls back: a savepoint rolled back inside it (a refused step of a sign-in)
    # must not lose what the rest of the transaction noted. What the savepoint itself noted is then sent too,
    # which costs a receiver one needless recount or lookup, never a missed one.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def init_app(app) -> None:
    """Listen for every session's commit and rollback (once per process; the listeners hold no app)."""
    if not event.contains(Session, "after_commit", _send_committed):
        event.listen(Session, "after_commit", _send_committed)
        event.listen(Session, "after_soft_rollback", _drop_pending)
