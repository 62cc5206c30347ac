"""The movement's released copy is replaced only by ``release_global_tallies()``, from the global tallies as they
are: the app role may no longer write the copy or its mark itself (it could have put any figure into the copy
the pages show and the daily snapshots sign).

The function decides as ``core/rollup/steps.py`` ``ready`` does (everyone's counts and the verified counts each
moved by 0 or at least k people, measured in every dimension, something moved; the first release: k people),
then compares and sets the mark and copies the tallies, in one statement's view of them. SQLite has no roles: there the app does it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

SIGNATURE = "release_global_tallies(integer, integer, timestamptz)"

RELEASE_GLOBAL_TALLIES = """
CREATE FUNCTION release_global_tallies(expected_number integer, k integer, released timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    moved_total integer;
    moved_verified integer;
BEGIN
    IF k < 1 THEN
        RAISE EXCEPTION 'k must be at least 1, not %', k;
    END IF;
    CREATE TEMPORARY TABLE IF NOT EXISTS global_release_live
        (dimension text, key text, total integer, men integer, verified integer, verified_men integer)
        ON COMMIT DROP;
    DELETE FROM pg_temp.global_release_live;
    INSERT INTO pg_temp.global_release_live
    SELECT g.dimension, g.key, sum(g.total), sum(g.men), sum(g.verified), sum(g.verified_men)
    FROM global_tallies AS g GROUP BY g.dimension, g.key HAVING sum(g.total) <> 0;

    -- Per dimension, the summed moves of its cells; the largest over the dimensions.
    SELECT coalesce(max(per.total), 0), coalesce(max(per.verified), 0) INTO moved_total, moved_verified
    FROM (SELECT coalesce(l.dimension, c.dimension) AS dimension,
                 sum(abs(coalesce(l.total, 0) - coalesce(c.total, 0))) AS total,
                 sum(abs(coalesce(l.verified, 0) - coalesce(c.verified, 0))) AS verified
          FROM pg_temp.global_release_live AS l
          FULL JOIN global_released_tallies AS c ON c.dimension = l.dimension AND c.key = l.key
          GROUP BY 1) AS per;
    IF expected_number IS NULL AND moved_total < k  -- the first release: k people, however many confirmed
       OR expected_number IS NOT NULL AND (moved_total + moved_verified = 0 OR moved_total BETWEEN 1 AND k - 1
                                           OR moved_verified BETWEEN 1 AND k - 1) THEN
        RETURN false;
    END IF;

    IF expected_number IS NULL THEN
        INSERT INTO global_releases (id, number, released_at) VALUES (1, 1, released) ON CONFLICT (id) DO NOTHING;
    ELSE
        UPDATE global_releases SET number = number + 1, released_at = released
        WHERE id = 1 AND number = expected_number;
    END IF;
    IF NOT FOUND THEN  -- another reader released one since this one read the mark
        RETURN false;
    END IF;
    DELETE FROM global_released_tallies;
    INSERT INTO global_released_tallies (dimension, key, total, men, verified, verified_men)
    SELECT dimension, key, total, men, verified, verified_men FROM pg_temp.global_release_live;
    RETURN true;
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
