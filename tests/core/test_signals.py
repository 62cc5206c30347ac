"""Work noted for a transaction is heard once it commits, by its topic's receivers only, and never on rollback."""

import pytest

from core import signals


@pytest.fixture
def heard():
    """What the receivers of the topic "test" hear, as (topic, items)."""
    heard = []

    def receiver(topic, items):
        heard.append((topic, items))

    signals.committed.connect(receiver, sender="test")
    yield heard
    signals.committed.disconnect(receiver, sender="test")


def test_noted_work_is_sent_after_the_commit_and_dropped_on_rollback(db, heard):
    db.session.connection()  # a transaction begins
    signals.after_commit(db.session(), "test", "dropped")
    db.session.rollback()
    assert heard == []

    db.session.connection()  # a transaction begins
    signals.after_commit(db.session(), "test", "a", "b")
    signals.after_commit(db.session(), "test", "a")
    signals.after_commit(db.session(), "other topic", "c")
    assert heard == []  # not before the commit
    db.session.commit()
    assert heard == [("test", {"a", "b"})]

    db.session.connection()  # a transaction begins
    db.session.commit()
    assert heard == [("test", {"a", "b"})]  # sent once


def test_a_savepoint_rolled_back_keeps_what_the_transaction_noted_before_it(db, heard):
    db.session.connection()  # a transaction begins
    signals.after_commit(db.session(), "test", "kept")
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert heard == [("test", {"kept"})]
