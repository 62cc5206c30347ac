"""Small database helpers shared by the packages."""

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from core.extensions import db


def insert(target):
    """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on both supported databases."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def lock_for_recount(*tables) -> None:
    """On PostgreSQL, hold off writers while tallies are rebuilt, so none is counted twice or lost."""
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        db.session.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def database_role_bypasses_rls() -> bool:
    """True when the connected PostgreSQL role is a superuser or has BYPASSRLS (never in production)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    return bool(db.session.execute(
        text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")).scalar())
