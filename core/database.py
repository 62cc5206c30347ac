"""Small database helpers shared by the packages."""

from functools import lru_cache

from sqlalchemy import Engine, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite

from core.extensions import db


def insert(target):
    """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on both supported databases."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


@lru_cache(maxsize=32)
def _insert_new_statement(table: Table, unique_columns: tuple[str, ...], dialect: str):
    return ((postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
            .on_conflict_do_nothing(index_elements=list(unique_columns)).returning(table.c.id))


def insert_new(table: Table, unique_columns: tuple[str, ...], values: dict):
    """Insert a row unless one with the same ``unique_columns`` exists; returns the new row's id, or None.

    For the hot paths (a sign-up runs it twice): the statement is built once per table, so SQLAlchemy
    reuses its compiled form instead of building and hashing a new one on each call.
    """
    statement = _insert_new_statement(table, unique_columns, db.session.get_bind().dialect.name)
    return db.session.execute(statement, values).scalar()


def lock_for_recount(*tables) -> None:
    """On PostgreSQL, hold off writers while tallies are rebuilt, so none is counted twice or lost."""
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        db.session.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def refuse_rls_bypass(engine: Engine) -> None:
    """Check each connection ``engine`` opens, as it opens: a role that is a superuser or has BYPASSRLS is
    refused (production). Per connection rather than once at start, so that a worker starting while the
    database is unreachable still starts, and is checked all the same once it connects."""
    event.listen(engine, "connect", _refuse_role_that_bypasses_rls)


def _refuse_role_that_bypasses_rls(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        bypasses = cursor.fetchone()[0]
    finally:
        cursor.close()
        dbapi_connection.rollback()
    if bypasses:
        raise RuntimeError("the database role in DATABASE_URL can bypass row-level security: "
                           "connect as the app role (NOSUPERUSER NOBYPASSRLS), not as the owner")
