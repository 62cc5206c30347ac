"""The app role's writes outside row-level security: a tenant changes only its own row, and the global
tallies change only by a commitment's +1 or -1.

On PostgreSQL (SQLite has no roles: nothing to do there):

- ``tenants`` gets row-level security, enabled but not forced (its owner's migrations and the operators'
  SQL still see every row): anyone may read the tenants (the host lookup, the global page) and add one
  (``flask tenants create`` runs as the app role), but an UPDATE reaches only the row of the tenant in
  ``app.tenant_id``; which columns it may change is granted in ``migrations/env.py`` (not ``status``).
- ``global_tallies`` is written only through two functions that run as their owner: ``add_to_global_tallies``
  adds one commitment (+1 or -1, counted for the current tenant only), and ``rebuild_global_tallies``
  rebuilds every row from the tenants' own tallies (``flask rollup recount --repair``). The app role may
  read the table and call the functions, nothing else.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
from alembic import op

revision = '0008'
down_revision = "0007"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"

ADD_TO_GLOBAL_TALLIES = """
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

REBUILD_GLOBAL_TALLIES = """
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
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenants_read ON tenants FOR SELECT USING (true)")
    op.execute("CREATE POLICY tenants_add ON tenants FOR INSERT WITH CHECK (true)")
    op.execute(f"CREATE POLICY tenants_own_row ON tenants FOR UPDATE "
               f"USING (id = {CURRENT_TENANT}) WITH CHECK (id = {CURRENT_TENANT})")
    op.execute(ADD_TO_GLOBAL_TALLIES)
    op.execute(REBUILD_GLOBAL_TALLIES)
    for function in ("add_to_global_tallies(text[], text[], integer, integer, integer, timestamptz)",
                     "rebuild_global_tallies()"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION rebuild_global_tallies()")
    op.execute("DROP FUNCTION add_to_global_tallies(text[], text[], integer, integer, integer, timestamptz)")
    for policy in ("tenants_own_row", "tenants_add", "tenants_read"):
        op.execute(f"DROP POLICY {policy} ON tenants")
    op.execute("ALTER TABLE tenants DISABLE ROW LEVEL SECURITY")
