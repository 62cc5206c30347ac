"""Small database helpers shared by the packages."""

from functools import lru_cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from core.extensions import db
from core.tenancy import reviewed_sql


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
        db.session.execute(reviewed_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def database_role_refusal() -> str | None:
    """Why the connected PostgreSQL role must not run the app, or None. A superuser or a role with BYPASSRLS
    escapes row-level security; a table's owner, or a member of the owner's role, may change its policies
    and grants."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    bypasses, owns = db.session.execute(reviewed_sql("""
        SELECT rolsuper OR rolbypassrls,
               EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = ANY(current_schemas(false)) AND pg_has_role(current_user, c.relowner, 'USAGE'))
        FROM pg_roles WHERE rolname = current_user""")).one()
    if bypasses:
        return "can bypass row-level security"
    if owns:
        return "owns tables, or may act as their owner"
    return None
