"""Everyone's counts step without waiting for the verified ones, and the movement's sums over partners are the
partners' own copies.

- ``tenant_releases`` / ``global_releases`` get ``verified_released_at``: when the copy's verified figures were
  released. A copy may now take everyone's figures while keeping its verified ones as they were
  (``core/rollup/steps.py`` ``step``), so those have a time of their own. Existing marks take ``released_at``.
- ``release_global_tallies()`` decides as ``step`` now does.
- ``released_partner_figures()``: every tenant's released copy, its gender cells summed, read as that tenant
  (row-level security holds the owner too), for the movement's sums over partners; the app role may call it but
  reads no tenant's copy itself.

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

RELEASE_SIGNATURE = "release_global_tallies(integer)"
PARTNERS_SIGNATURE = "released_partner_figures()"

# As 0019's, but for the case where everyone's counts moved by k and the verified ones by 1 to k - 1: then the
# copy takes everyone's figures and keeps its verified ones, where each still fits in its cell.
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
          FROM public.global_tallies AS t GROUP BY t.dimension, t.key HAVING sum(t.total) <> 0) AS g;

    -- Per dimension that counts a person at most once (not ``tenant``: commitments), the summed moves of its
    -- cells; the largest over those dimensions.
    SELECT coalesce(max(per.total), 0), coalesce(max(per.verified), 0) INTO moved_total, moved_verified
    FROM (SELECT coalesce(l.dimension, c.dimension) AS dimension,
                 sum(abs(coalesce(l.total, 0) - coalesce(c.total, 0))) AS total,
                 sum(abs(coalesce(l.verified, 0) - coalesce(c.verified, 0))) AS verified
          FROM unnest(dims, keys, totals, verified) AS l(dimension, key, total, verified)
          FULL JOIN public.global_released_tallies AS c ON c.dimension = l.dimension AND c.key = l.key
          WHERE coalesce(l.dimension, c.dimension) IN ('country', 'day', 'gender')
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
        SELECT array_agg(coalesce(c.verified, 0) ORDER BY l.position),
               array_agg(coalesce(c.verified_men, 0) ORDER BY l.position)
        INTO verified, verified_men
        FROM unnest(dims, keys) WITH ORDINALITY AS l(dimension, key, position)
        LEFT JOIN public.global_released_tallies AS c ON c.dimension = l.dimension AND c.key = l.key;
        -- A held figure must fit in its cell; a verified cell whose people have all gone cannot be held.
        IF EXISTS (SELECT 1 FROM unnest(totals, men, verified, verified_men) AS n(total, men, verified, verified_men)
                   WHERE n.verified > n.total OR n.verified_men > n.men
                         OR n.men - n.verified_men > n.total - n.verified)
           OR EXISTS (SELECT 1 FROM public.global_released_tallies AS c
                      WHERE c.verified > 0 AND NOT EXISTS (
                          SELECT 1 FROM unnest(dims, keys) AS l(dimension, key)
                          WHERE l.dimension = c.dimension AND l.key = c.key)) THEN
            RETURN NULL;
        END IF;
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
    INSERT INTO public.global_released_tallies (dimension, key, total, men, verified, verified_men)
    SELECT * FROM unnest(dims, keys, totals, men, verified, verified_men);
    RETURN released;
END
$$
"""

RELEASED_PARTNER_FIGURES = """
CREATE FUNCTION released_partner_figures()
RETURNS TABLE (tenant_id integer, total integer, men integer, verified integer, verified_men integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    tenant record;
    caller constant text := coalesce(current_setting('app.tenant_id', true), '');
BEGIN
    FOR tenant IN SELECT t.id FROM public.tenants AS t ORDER BY t.id LOOP
        PERFORM set_config('app.tenant_id', tenant.id::text, true);
        RETURN QUERY
            SELECT tenant.id, sum(c.total)::integer, sum(c.men)::integer, sum(c.verified)::integer,
                   sum(c.verified_men)::integer
            FROM public.tenant_released_tallies AS c WHERE c.dimension = 'gender' HAVING count(*) > 0;
    END LOOP;
    PERFORM set_config('app.tenant_id', caller, true);
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


def upgrade():
    for table in ("tenant_releases", "global_releases"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("verified_released_at", sa.DateTime(timezone=True), nullable=True))
        op.execute(_as_each_tenant(f"UPDATE {table} SET verified_released_at = released_at")
                   if table == "tenant_releases" and op.get_bind().dialect.name == "postgresql"
                   else f"UPDATE {table} SET verified_released_at = released_at")
        with op.batch_alter_table(table) as batch:
            batch.alter_column("verified_released_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RELEASE_GLOBAL_TALLIES)
        op.execute(RELEASED_PARTNER_FIGURES)
        op.execute(f"REVOKE EXECUTE ON FUNCTION {PARTNERS_SIGNATURE} FROM PUBLIC")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {PARTNERS_SIGNATURE}")
        op.execute("CREATE OR REPLACE" + _global_release_function().RELEASE_GLOBAL_TALLIES.strip()[len("CREATE"):])
    for table in ("tenant_releases", "global_releases"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("verified_released_at")
