"""The movement's released copy is replaced only by ``release_global_tallies()``, from the global tallies as they
are: the app role may no longer write the copy or its mark itself (it could have put any figure into the copy
the pages show and the daily snapshots sign).

The function decides as ``core/rollup/steps.py`` ``ready`` does (everyone's counts and the verified counts each
moved by 0 or at least k people, measured in the dimensions that count people, something moved; the first
release: k people), with the movement's k and the database's clock, then compares and sets the mark and copies
the tallies, as one statement read them. SQLite has no roles: there the app does it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

SIGNATURE = "release_global_tallies(integer)"

# Everything the caller cannot choose is fixed here: k is the movement's (core/privacy.py DEFAULT_K), the time is
# the database's. The live rows are held in the function's own variables (a temporary table could be one the
# caller made first, with rules or triggers of its own).
RELEASE_GLOBAL_TALLIES = """
CREATE FUNCTION release_global_tallies(expected_number integer) RETURNS timestamptz
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
    IF expected_number IS NULL AND moved_total < k  -- the first release: k people, however many confirmed
       OR expected_number IS NOT NULL AND (moved_total + moved_verified = 0 OR moved_total BETWEEN 1 AND k - 1
                                           OR moved_verified BETWEEN 1 AND k - 1) THEN
        RETURN NULL;
    END IF;

    IF expected_number IS NULL THEN
        INSERT INTO public.global_releases (id, number, released_at) VALUES (1, 1, released)
        ON CONFLICT (id) DO NOTHING;
    ELSE
        UPDATE public.global_releases SET number = number + 1, released_at = released
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


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RELEASE_GLOBAL_TALLIES)
        op.execute(f"REVOKE EXECUTE ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {SIGNATURE}")
