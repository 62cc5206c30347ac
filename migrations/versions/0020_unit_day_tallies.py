"""Unit-by-day tallies (``unit_day``: ``<unit id>:<YYYY-MM-DD>``), so that a unit target's curve is read from the
tenant's released copy and moves only in its steps (core/rollup/steps.py), like every other breakdown.

The upgrade counts them from the counted commitments (as ``flask rollup recount`` would); the downgrade drops
them. On PostgreSQL the tallies are under row-level security, which holds the owner too: each tenant's rows
are written as that tenant.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_COUNTED = """
    SELECT c.tenant_id, 'unit_day', {key}, 0, count(*), count(*) FILTER (WHERE c.gender = 'man'),
           count(*) FILTER (WHERE c.verified), count(*) FILTER (WHERE c.verified AND c.gender = 'man'), {now}
    FROM commitments AS c WHERE c.counted AND c.unit_id IS NOT NULL {only} GROUP BY c.tenant_id, 3
"""
_INSERT = ("INSERT INTO tenant_tallies (tenant_id, dimension, key, shard, total, men, verified, verified_men, "
           "updated_at) ")



def _as_each_tenant(*statements: str) -> str:
    """PostgreSQL: ``statements`` run once as each tenant (row-level security holds the owner too); they may
    name the tenant's id as ``tenant.id``."""
    return ("DO $$\nDECLARE\n    tenant record;\nBEGIN\n    FOR tenant IN SELECT id FROM tenants ORDER BY id LOOP\n"
            "        PERFORM set_config('app.tenant_id', tenant.id::text, true);\n"
            + "".join(f"        {statement};\n" for statement in statements)
            + "    END LOOP;\n    PERFORM set_config('app.tenant_id', '', true);\nEND\n$$")


POSTGRESQL = _as_each_tenant(_INSERT + _COUNTED.format(
    key="c.unit_id::text || ':' || to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')", now="now()",
    only="AND c.tenant_id = tenant.id"))

# SQLite keeps a UUID as 32 hex digits; the tally key has the dashed form (``str(uuid)``).
_DASHED = ("lower(substr(c.unit_id, 1, 8) || '-' || substr(c.unit_id, 9, 4) || '-' || substr(c.unit_id, 13, 4) || '-' "
           "|| substr(c.unit_id, 17, 4) || '-' || substr(c.unit_id, 21))")
SQLITE = _INSERT + _COUNTED.format(
    key=_DASHED + " || ':' || strftime('%Y-%m-%d', c.created_at)", now="CURRENT_TIMESTAMP", only="")


def upgrade():
    op.execute(POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE)


def downgrade():
    statements = ["DELETE FROM tenant_tallies WHERE dimension = 'unit_day'",
                  "DELETE FROM tenant_released_tallies WHERE dimension = 'unit_day'"]
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_as_each_tenant(*statements))
    else:
        for statement in statements:
            op.execute(statement)
