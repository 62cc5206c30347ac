"""Everyone's counts step without waiting for the verified ones.

- ``tenant_releases`` / ``global_releases`` get ``verified_released_at``: when the copy's verified figures were
  released. A copy may now take everyone's figures while keeping its verified ones as they were
  (``core/rollup/steps.py`` ``step``), so those have a time of their own. Existing marks take ``released_at``.
- ``tenant_released_tallies`` / ``global_released_tallies`` get ``released_verified`` and
  ``released_verified_men``: the verified figures as released, which the next step is measured against, beside
  those shown (the same, unless verified people have left a cell since and the shown ones were brought within it).
- The movement's copy no longer holds its commitments by partner (``tenant``): nothing shows them.
- ``release_global_tallies()`` decides as ``step`` now does.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


# As 0019's, over the people dimensions only, measuring the verified move from the figures as released; and for the
# case where everyone's counts moved by k and the verified ones by 1 to k - 1: everyone's figures taken, the verified
# ones kept as released, and shown brought within their cells (steps.fitted).
RELEASE_GLOBAL_TALLIES = """
CREATE OR REPLACE FUNCTION release_global_tallies(expected_number integer) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    k constant integer := 10;
    released constant timestamptz := clock_timestamp();
    dims text[];
    keys text[];
    totals integer[];
    men integer[];
    verified integer[];
    verified_men integer[];
    shown_verified integer[];
    shown_verified_men integer[];
    moved_total integer;
    moved_verified integer;
    held boolean := false;
BEGIN
    SELECT array_agg(g.dimension ORDER BY g.dimension, g.key), array_agg(g.key ORDER BY g.dimension, g.key),
           array_agg(g.total ORDER BY g.dimension, g.key), array_agg(g.men ORDER BY g.dimension, g.key),
           array_agg(g.verified ORDER BY g.dimension, g.key), array_agg(g.verified_men ORDER BY g.dimension, g.key)
    INTO dims, keys, totals, men, verified, verified_men
    FROM (SELECT t.dimension::text AS dimension, t.key::text AS key, sum(t.total)::integer AS total,
                 sum(t.men)::integer AS men, sum(t.verified)::integer AS verified,
                 sum(t.verified_men)::integer AS verified_men
          FROM public.global_tallies AS t WHERE t.dimension IN ('country', 'day', 'gender')
          GROUP BY t.dimension, t.key HAVING sum(t.total) <> 0) AS g;

    -- Per dimension, the summed moves of its cells (the verified ones from the figures as released); the largest.
    SELECT coalesce(max(per.total), 0), coalesce(max(per.verified), 0) INTO moved_total, moved_verified
    FROM (SELECT coalesce(l.dimension, c.dimension) AS dimension,
                 sum(abs(coalesce(l.total, 0) - coalesce(c.total, 0))) AS total,
                 sum(abs(coalesce(l.verified, 0) - coalesce(c.released_verified, 0))) AS verified
          FROM unnest(dims, keys, totals, verified) AS l(dimension, key, total, verified)
          FULL JOIN public.global_released_tallies AS c ON c.dimension = l.dimension AND c.key = l.key
          GROUP BY 1) AS per;
    IF expected_number IS NULL THEN
        IF moved_total < k THEN  -- the first release: k people, however many confirmed
            RETURN NULL;
        END IF;
    ELSIF moved_total BETWEEN 1 AND k - 1 OR moved_total + moved_verified = 0 THEN
        RETURN NULL;
    ELSIF moved_verified BETWEEN 1 AND k - 1 THEN
        IF moved_total = 0 THEN
            RETURN NULL;
        END IF;
        held := true;
        SELECT array_agg(n.dimension ORDER BY n.dimension, n.key), array_agg(n.key ORDER BY n.dimension, n.key),
               array_agg(n.total ORDER BY n.dimension, n.key), array_agg(n.men ORDER BY n.dimension, n.key),
               array_agg(n.verified ORDER BY n.dimension, n.key),
               array_agg(n.verified_men ORDER BY n.dimension, n.key),
               array_agg(least(n.verified, n.total) ORDER BY n.dimension, n.key),
               array_agg(least(greatest(n.verified_men, n.men + least(n.verified, n.total) - n.total, 0),
                               least(n.verified, n.total), n.men) ORDER BY n.dimension, n.key)
        INTO dims, keys, totals, men, verified, verified_men, shown_verified, shown_verified_men
        FROM (SELECT coalesce(l.dimension, c.dimension) AS dimension, coalesce(l.key, c.key) AS key,
                     coalesce(l.total, 0) AS total, coalesce(l.men, 0) AS men,
                     coalesce(c.released_verified, 0) AS verified,
                     coalesce(c.released_verified_men, 0) AS verified_men
              FROM unnest(dims, keys, totals, men) AS l(dimension, key, total, men)
              FULL JOIN public.global_released_tallies AS c ON c.dimension = l.dimension AND c.key = l.key) AS n
        WHERE n.total <> 0 OR n.verified <> 0;
    END IF;
    IF NOT held THEN
        shown_verified := verified;
        shown_verified_men := verified_men;
    END IF;

    IF expected_number IS NULL THEN
        INSERT INTO public.global_releases (id, number, released_at, verified_released_at)
        VALUES (1, 1, released, released)
        ON CONFLICT (id) DO NOTHING;
    ELSE
        UPDATE public.global_releases
        SET number = number + 1, released_at = released,
            verified_released_at = CASE WHEN held THEN verified_released_at ELSE released END
        WHERE id = 1 AND number = expected_number;
    END IF;
    IF NOT FOUND THEN  -- another reader released one since this one read the mark
        RETURN NULL;
    END IF;
    DELETE FROM public.global_released_tallies;
    INSERT INTO public.global_released_tallies (dimension, key, total, men, verified, verified_men,
                                                released_verified, released_verified_men)
    SELECT * FROM unnest(dims, keys, totals, men, shown_verified, shown_verified_men, verified, verified_men);
    RETURN released;
END
$$
"""


def _as_each_tenant(statement: str) -> str:
    """PostgreSQL: ``statement`` run once as each tenant (row-level security holds the owner too)."""
    return ("DO $$\nDECLARE\n    tenant record;\nBEGIN\n    FOR tenant IN SELECT id FROM tenants ORDER BY id LOOP\n"
            "        PERFORM set_config('app.tenant_id', tenant.id::text, true);\n"
            f"        {statement};\n"
            "    END LOOP;\n    PERFORM set_config('app.tenant_id', '', true);\nEND\n$$")


def _global_release_function():
    """Migration 0019, where the release function was made (its text is restored from there on downgrade)."""
    path = Path(__file__).with_name("0019_global_release_function.py")
    spec = importlib.util.spec_from_file_location("global_release_function_0019", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _each(table: str, statement: str) -> str:
    """``statement`` on ``table``: as each tenant where the table is a tenant's, on PostgreSQL."""
    return _as_each_tenant(statement) if table.startswith("tenant_") and op.get_bind().dialect.name == \
        "postgresql" else statement


def upgrade():
    for table in ("tenant_releases", "global_releases"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("verified_released_at", sa.DateTime(timezone=True), nullable=True))
        op.execute(_each(table, f"UPDATE {table} SET verified_released_at = released_at"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("verified_released_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    for table in ("tenant_released_tallies", "global_released_tallies"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("released_verified", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("released_verified_men", sa.Integer(), nullable=True))
        op.execute(_each(table, f"UPDATE {table} SET released_verified = verified, "
                                "released_verified_men = verified_men"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("released_verified", existing_type=sa.Integer(), nullable=False)
            batch.alter_column("released_verified_men", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM global_released_tallies WHERE dimension = 'tenant'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RELEASE_GLOBAL_TALLIES)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE" + _global_release_function().RELEASE_GLOBAL_TALLIES.strip()[len("CREATE"):])
    for table in ("tenant_released_tallies", "global_released_tallies"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("released_verified_men")
            batch.drop_column("released_verified")
    for table in ("tenant_releases", "global_releases"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("verified_released_at")
