"""Small database helpers shared by the packages."""

from functools import lru_cache

from sqlalchemy import Engine, Table, event
from sqlalchemy.dialects import postgresql, sqlite

from core.extensions import db
from core.tenancy import reviewed_sql


def insert(target):
    """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on both supported databases."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


@lru_cache(maxsize=32)
def _insert_new_statement(table: Table, unique_columns: tuple[str, ...], returning: str, dialect: str):
    return ((postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
            .on_conflict_do_nothing(index_elements=list(unique_columns)).returning(table.c[returning]))


def insert_new(table: Table, unique_columns: tuple[str, ...], values: dict, returning: str = "id"):
    """Insert a row unless one with the same ``unique_columns`` exists; returns the new row's id (or its column
    ``returning``), or None.

    For the hot paths (a sign-up runs it twice): the statement is built once per table, so SQLAlchemy
    reuses its compiled form instead of building and hashing a new one on each call.
    """
    statement = _insert_new_statement(table, unique_columns, returning, db.session.get_bind().dialect.name)
    return db.session.execute(statement, values).scalar()


def lock_for_recount(*tables) -> None:
    """On PostgreSQL, hold off writers while tallies are rebuilt, so none is counted twice or lost."""
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        db.session.execute(reviewed_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def refuse_privileged_role(engine: Engine) -> None:
    """Check each connection ``engine`` opens, as it opens (production): a superuser or a role with BYPASSRLS
    escapes row-level security; a table's owner, or a member of the owner's role, may change its policies and
    grants. Per connection rather than once at start, so that a worker starting while the database is
    unreachable still starts, and is checked all the same once it connects."""
    event.listen(engine, "connect", _refuse_privileged_role)


_ROLE_CHECK = """
    SELECT rolsuper OR rolbypassrls,
           EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = ANY(current_schemas(false)) AND pg_has_role(current_user, c.relowner, 'USAGE'))
    FROM pg_roles WHERE rolname = current_user"""


def _refuse_privileged_role(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_ROLE_CHECK)
        bypasses, owns = cursor.fetchone()
    finally:
        cursor.close()
        dbapi_connection.rollback()
    problem = ("can bypass row-level security" if bypasses else
               "owns tables, or may act as their owner" if owns else None)
    if problem:
        raise RuntimeError(f"the database role in DATABASE_URL {problem}: connect as the app role "
                           "(NOSUPERUSER NOBYPASSRLS, owning nothing), not as the owner")
