"""``rebuild_global_tallies()`` makes its own working table, or fails: it no longer takes a temporary table of that
name that the caller (the app role may call it) created first, whose rules or triggers would have run with the
owner's rights or fed it invented rows.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def _counting_rules():
    """Migration 0017, where the function was made (its text is changed here, not copied)."""
    path = Path(__file__).with_name("0017_counting_rules.py")
    spec = importlib.util.spec_from_file_location("counting_rules_0017", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BORROWING = "    CREATE TEMPORARY TABLE IF NOT EXISTS counted_now ("
OWN = ("    -- Another's table of this name (the caller's) cannot be dropped here: the rebuild stops instead.\n"
       "    DROP TABLE IF EXISTS pg_temp.counted_now;\n"
       "    CREATE TEMPORARY TABLE counted_now (")
BORROWED_TRUNCATE = "    TRUNCATE pg_temp.counted_now;\n"


def _replace(text: str) -> str:
    return "CREATE OR REPLACE" + text.strip()[len("CREATE"):]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    old = _counting_rules().REBUILD_GLOBAL_TALLIES
    assert BORROWING in old and BORROWED_TRUNCATE in old
    op.execute(_replace(old.replace(BORROWING, OWN).replace(BORROWED_TRUNCATE, "")))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_replace(_counting_rules().REBUILD_GLOBAL_TALLIES))
