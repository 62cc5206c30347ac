"""Counting rules: verified counts beside every tally, one person counted once across tenants, commitments that
count only once confirmed or no longer count once invalidated, and each tenant's email confirmation setting.

- Both tally tables get ``verified`` and ``verified_men``.
- ``people`` (global, no tenant): each person by ``HMAC-SHA256(pepper, canonical address)``, how many of their
  commitments count now, how many of those are verified, and the facts the global tallies counted them under.
- ``commitments`` get ``confirmed_at``, ``awaiting_confirmation``, ``invalidated_at``, ``person_key`` and
  ``counted``, computed by the database from the counted rule.
- ``tenants`` get ``email_confirmation`` (off, optional, required; optional by default).
- PostgreSQL: ``add_to_global_tallies`` now takes a person and the verified change, keeps ``people`` and adds to
  the people tallies only when a person starts or stops counting (or becomes verified); ``rebuild_global_tallies``
  rebuilds ``people`` and the global tallies from the counted commitments. The app role only reads ``people``.

Commitments made before have no person key (each counts as a person of its own, as before) and their verified
counts start at zero: ``flask people rekey`` gives them their keys, then ``flask rollup recount --repair`` fills
in the rest. After a downgrade, ``flask rollup recount --repair`` counts commitments again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = "0016"
branch_labels = None
depends_on = None

COUNTED_RULE = "withdrawn_at IS NULL AND invalidated_at IS NULL AND NOT awaiting_confirmation"

OLD_ADD = "add_to_global_tallies(text[], text[], integer, integer, integer, timestamptz)"
NEW_ADD = "add_to_global_tallies(bytea, text, text, text, integer, integer, integer, timestamptz)"

ADD_TO_GLOBAL_TALLIES = """
CREATE FUNCTION add_to_global_tallies(person bytea, person_gender text, person_country text, person_day text,
                                      added_shard integer, delta integer, delta_verified integer,
                                      changed_at timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    tenant_key text := NULLIF(current_setting('app.tenant_id', true), '');
    standing integer;
    verified_standing integer;
    people_delta integer := delta;
    people_verified integer := delta_verified;
BEGIN
    -- One commitment starts counting (verified or not), stops counting, or becomes verified.
    IF (delta, delta_verified) NOT IN ((1, 0), (1, 1), (-1, 0), (-1, -1), (0, 1)) OR added_shard < 0 THEN
        RAISE EXCEPTION 'a commitment counts one person: delta % verified %', delta, delta_verified;
    END IF;
    IF tenant_key IS NULL THEN
        RAISE EXCEPTION 'a commitment counts for the current tenant only';
    END IF;
    -- Each partner's own figure counts its commitments.
    INSERT INTO global_tallies AS g (dimension, key, shard, total, men, verified, verified_men, updated_at)
    VALUES ('tenant', tenant_key, added_shard, delta, CASE WHEN person_gender = 'man' THEN delta ELSE 0 END,
            delta_verified, CASE WHEN person_gender = 'man' THEN delta_verified ELSE 0 END, changed_at)
    ON CONFLICT (dimension, key, shard) DO UPDATE
    SET total = g.total + excluded.total, men = g.men + excluded.men, verified = g.verified + excluded.verified,
        verified_men = g.verified_men + excluded.verified_men, updated_at = excluded.updated_at;
    IF person IS NOT NULL THEN
        -- One statement: a second commitment of the same person (at another partner, at the same moment) waits
        -- here for the first, then sees its count. Who starts counting is counted under this commitment's facts;
        -- who counted already keeps the facts they were counted under.
        INSERT INTO people AS p (person_key, commitments, verified_commitments, gender, country_code, day,
                                 updated_at)
        VALUES (person, delta, delta_verified, person_gender, person_country, person_day, changed_at)
        ON CONFLICT (person_key) DO UPDATE
        SET commitments = p.commitments + excluded.commitments,
            verified_commitments = p.verified_commitments + excluded.verified_commitments,
            gender = CASE WHEN p.commitments > 0 THEN p.gender ELSE excluded.gender END,
            country_code = CASE WHEN p.commitments > 0 THEN p.country_code ELSE excluded.country_code END,
            day = CASE WHEN p.commitments > 0 THEN p.day ELSE excluded.day END,
            updated_at = excluded.updated_at
        RETURNING p.commitments, p.verified_commitments, p.gender, p.country_code, p.day
        INTO standing, verified_standing, person_gender, person_country, person_day;
        people_delta := (standing > 0)::integer - (standing - delta > 0)::integer;
        people_verified := (standing > 0 AND verified_standing > 0)::integer
                           - (standing - delta > 0 AND verified_standing - delta_verified > 0)::integer;
    END IF;
    IF people_delta <> 0 OR people_verified <> 0 THEN
        -- Rows in a fixed order, so two sign-ups lock the rows they share in the same order and cannot deadlock.
        INSERT INTO global_tallies AS g (dimension, key, shard, total, men, verified, verified_men, updated_at)
        SELECT added.dimension, added.key, added_shard, people_delta,
               CASE WHEN person_gender = 'man' THEN people_delta ELSE 0 END, people_verified,
               CASE WHEN person_gender = 'man' THEN people_verified ELSE 0 END, changed_at
        FROM unnest(ARRAY['country', 'day', 'gender'], ARRAY[person_country, person_day, person_gender])
             AS added(dimension, key)
        ORDER BY added.dimension
        ON CONFLICT (dimension, key, shard) DO UPDATE
        SET total = g.total + excluded.total, men = g.men + excluded.men, verified = g.verified + excluded.verified,
            verified_men = g.verified_men + excluded.verified_men, updated_at = excluded.updated_at;
    END IF;
END
$$
"""

REBUILD_GLOBAL_TALLIES = """
CREATE FUNCTION rebuild_global_tallies() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    tenant record;
    current_tenant text := current_setting('app.tenant_id', true);
BEGIN
    -- Writers wait while the rows are rebuilt, so no sign-up is counted twice or lost (as the recount does).
    LOCK TABLE tenant_tallies, people IN SHARE ROW EXCLUSIVE MODE;
    CREATE TEMPORARY TABLE IF NOT EXISTS counted_now (
        tenant_id integer, person_key bytea, verified boolean, gender text, country_code text, day text,
        created_at timestamptz, id uuid) ON COMMIT DROP;
    TRUNCATE pg_temp.counted_now;
    FOR tenant IN SELECT id FROM tenants ORDER BY id LOOP
        -- Each tenant's commitments are visible only as that tenant (row-level security holds the owner too).
        PERFORM set_config('app.tenant_id', tenant.id::text, true);
        INSERT INTO pg_temp.counted_now
        SELECT c.tenant_id, c.person_key, c.verified, c.gender, c.country_code,
               to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), c.created_at, c.id
        FROM commitments AS c WHERE c.tenant_id = tenant.id AND c.counted;
    END LOOP;
    PERFORM set_config('app.tenant_id', coalesce(current_tenant, ''), true);
    -- People: how many of their commitments count now (who has none is forgotten). Who counted already keeps the
    -- facts they were counted under; who did not is counted under their earliest counted commitment's.
    DELETE FROM people
    WHERE person_key NOT IN (SELECT n.person_key FROM pg_temp.counted_now AS n WHERE n.person_key IS NOT NULL);
    INSERT INTO people AS p (person_key, commitments, verified_commitments, gender, country_code, day, updated_at)
    SELECT DISTINCT ON (n.person_key) n.person_key, count(*) OVER mine, count(*) FILTER (WHERE n.verified) OVER mine,
           n.gender, n.country_code, n.day, now()
    FROM pg_temp.counted_now AS n WHERE n.person_key IS NOT NULL
    WINDOW mine AS (PARTITION BY n.person_key)
    ORDER BY n.person_key, n.created_at, n.id
    ON CONFLICT (person_key) DO UPDATE
    SET commitments = excluded.commitments, verified_commitments = excluded.verified_commitments,
        gender = CASE WHEN p.commitments > 0 THEN p.gender ELSE excluded.gender END,
        country_code = CASE WHEN p.commitments > 0 THEN p.country_code ELSE excluded.country_code END,
        day = CASE WHEN p.commitments > 0 THEN p.day ELSE excluded.day END,
        updated_at = excluded.updated_at;
    -- The global tallies: people by country, day and gender (a commitment without an address is a person of its
    -- own), and each partner's commitments.
    DELETE FROM global_tallies;
    INSERT INTO global_tallies (dimension, key, shard, total, men, verified, verified_men, updated_at)
    SELECT k.dimension, k.key, 0, count(*), count(*) FILTER (WHERE person.gender = 'man'),
           count(*) FILTER (WHERE person.verified),
           count(*) FILTER (WHERE person.gender = 'man' AND person.verified), now()
    FROM (SELECT verified_commitments > 0 AS verified, gender, country_code, day FROM people WHERE commitments > 0
          UNION ALL
          SELECT n.verified, n.gender, n.country_code, n.day FROM pg_temp.counted_now AS n WHERE n.person_key IS NULL
         ) AS person
    CROSS JOIN LATERAL (VALUES ('country', person.country_code), ('day', person.day), ('gender', person.gender))
         AS k(dimension, key)
    GROUP BY k.dimension, k.key
    UNION ALL
    SELECT 'tenant', n.tenant_id::text, 0, count(*), count(*) FILTER (WHERE n.gender = 'man'),
           count(*) FILTER (WHERE n.verified), count(*) FILTER (WHERE n.gender = 'man' AND n.verified), now()
    FROM pg_temp.counted_now AS n GROUP BY n.tenant_id;
END
$$
"""

# As migration 0008 made them, for the downgrade.
OLD_ADD_TO_GLOBAL_TALLIES = """
CREATE FUNCTION add_to_global_tallies(added_dimensions text[], added_keys text[], added_shard integer,
                                      delta integer, delta_men integer, changed_at timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF delta NOT IN (-1, 1) OR delta_men NOT IN (0, delta) OR added_shard < 0 THEN
        RAISE EXCEPTION 'a commitment counts one person: delta % men %', delta, delta_men;
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(added_dimensions, added_keys) AS added(dimension, key)
               WHERE dimension = 'tenant' AND key IS DISTINCT FROM current_setting('app.tenant_id', true)) THEN
        RAISE EXCEPTION 'a commitment counts for the current tenant only';
    END IF;
    -- Rows in a fixed order, so two sign-ups lock the rows they share in the same order and cannot deadlock.
    INSERT INTO global_tallies AS g (dimension, key, shard, total, men, updated_at)
    SELECT added.dimension, added.key, added_shard, delta, delta_men, changed_at
    FROM unnest(added_dimensions, added_keys) AS added(dimension, key)
    ORDER BY added.dimension, added.key
    ON CONFLICT (dimension, key, shard) DO UPDATE
    SET total = g.total + excluded.total, men = g.men + excluded.men, updated_at = excluded.updated_at;
END
$$
"""

OLD_REBUILD_GLOBAL_TALLIES = """
CREATE FUNCTION rebuild_global_tallies() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    tenant record;
    current_tenant text := current_setting('app.tenant_id', true);
BEGIN
    -- Writers wait while the rows are rebuilt, so no sign-up is counted twice or lost (as the recount does).
    LOCK TABLE tenant_tallies IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM global_tallies;
    FOR tenant IN SELECT id FROM tenants ORDER BY id LOOP
        -- Each tenant's tallies are visible only as that tenant (row-level security holds the owner too).
        PERFORM set_config('app.tenant_id', tenant.id::text, true);
        INSERT INTO global_tallies AS g (dimension, key, shard, total, men, updated_at)
        SELECT t.dimension, t.key, 0, sum(t.total), sum(t.men), now() FROM tenant_tallies AS t
        WHERE t.tenant_id = tenant.id AND t.dimension IN ('country', 'day', 'gender')
        GROUP BY t.dimension, t.key
        UNION ALL
        SELECT 'tenant', tenant.id::text, 0, sum(t.total), sum(t.men), now() FROM tenant_tallies AS t
        WHERE t.tenant_id = tenant.id AND t.dimension = 'gender' HAVING count(*) > 0
        ON CONFLICT (dimension, key, shard) DO UPDATE
        SET total = g.total + excluded.total, men = g.men + excluded.men;
    END LOOP;
    DELETE FROM global_tallies WHERE total = 0;
    PERFORM set_config('app.tenant_id', coalesce(current_tenant, ''), true);
END
$$
"""


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in ('tenant_tallies', 'global_tallies'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('verified', sa.Integer(), server_default='0', nullable=False))
            batch_op.add_column(sa.Column('verified_men', sa.Integer(), server_default='0', nullable=False))

    op.create_table('people',
    sa.Column('person_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('commitments', sa.Integer(), nullable=False),
    sa.Column('verified_commitments', sa.Integer(), nullable=False),
    sa.Column('gender', sa.String(length=24), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('person_key', name=op.f('pk_people'))
    )

    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('awaiting_confirmation', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('invalidated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('person_key', sa.LargeBinary(length=32), nullable=True))
        # SQLite can add only a virtual computed column to a table; PostgreSQL (before 18) only a stored one.
        batch_op.add_column(sa.Column('counted', sa.Boolean(), sa.Computed(COUNTED_RULE, persisted=postgresql or None),
                                      nullable=True))

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmation', sa.Enum('off', 'optional', 'required',
                                                                    name='emailconfirmation', native_enum=False,
                                                                    create_constraint=False, length=8),
                                      server_default='optional', nullable=False))

    if postgresql:
        op.execute(f"DROP FUNCTION {OLD_ADD}")
        op.execute("DROP FUNCTION rebuild_global_tallies()")
        op.execute(ADD_TO_GLOBAL_TALLIES)
        op.execute(REBUILD_GLOBAL_TALLIES)
        for function in (NEW_ADD, "rebuild_global_tallies()"):
            op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {NEW_ADD}")
        op.execute("DROP FUNCTION rebuild_global_tallies()")
        op.execute(OLD_ADD_TO_GLOBAL_TALLIES)
        op.execute(OLD_REBUILD_GLOBAL_TALLIES)
        for function in (OLD_ADD, "rebuild_global_tallies()"):
            op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('email_confirmation')

    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_column('counted')
        batch_op.drop_column('person_key')
        batch_op.drop_column('invalidated_at')
        batch_op.drop_column('awaiting_confirmation')
        batch_op.drop_column('confirmed_at')

    op.drop_table('people')
    for table in ('global_tallies', 'tenant_tallies'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('verified_men')
            batch_op.drop_column('verified')
