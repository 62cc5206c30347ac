"""A commitment names where its person works or studies and their department or faculty as two units
(``commitments.department_id`` beside ``unit_id``). Commitments made before, whose one unit is a department or a
faculty, move it to ``department_id``; the tallies stay as they are (a commitment counts in each of its units).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

DEPARTMENT_KINDS = "('department', 'faculty')"
MOVE_DEPARTMENTS = f"""
    UPDATE commitments SET department_id = unit_id, unit_id = NULL
    WHERE unit_id IN (SELECT id FROM units WHERE units.tenant_id = commitments.tenant_id
                      AND units.kind IN {DEPARTMENT_KINDS})
"""
COUNTED_RULE = "withdrawn_at IS NULL AND invalidated_at IS NULL AND NOT awaiting_confirmation"
MOVE_BACK = "UPDATE commitments SET unit_id = department_id WHERE unit_id IS NULL"
WITH_BOTH = "SELECT count(*) FROM commitments WHERE unit_id IS NOT NULL AND department_id IS NOT NULL"


def _in_each_tenant(statement: str) -> int:
    """Run ``statement`` over every tenant's commitments; the sum of what it counts, for a SELECT. On PostgreSQL,
    row-level security holds the owner too: each tenant's rows are seen inside that tenant."""
    connection = op.get_bind()
    postgresql = connection.dialect.name == "postgresql"
    found = 0
    for tenant_id in connection.scalars(sa.text("SELECT id FROM tenants")).all() if postgresql else [None]:
        if postgresql:
            connection.execute(sa.text("SELECT set_config('app.tenant_id', :id, true)"), {"id": str(tenant_id)})
        result = connection.execute(sa.text(statement))
        found += result.scalar() if result.returns_rows else 0
    if postgresql:
        connection.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))
    return found


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.add_column('commitments', sa.Column('department_id', sa.Uuid(), nullable=True))
        op.create_foreign_key(op.f('fk_commitments_tenant_id_department_id_units'), 'commitments', 'units',
                              ['tenant_id', 'department_id'], ['tenant_id', 'id'])
    else:
        _rebuild_on_sqlite(lambda batch_op: (
            batch_op.add_column(sa.Column('department_id', sa.Uuid(), nullable=True)),
            batch_op.create_foreign_key(batch_op.f('fk_commitments_tenant_id_department_id_units'), 'units',
                                        ['tenant_id', 'department_id'], ['tenant_id', 'id'])))
    _in_each_tenant(MOVE_DEPARTMENTS)


def downgrade():
    # Before this revision a commitment had one unit: one that names two cannot be kept as it counts (in both),
    # and dropping either would silently lower a unit's count. The downgrade stops instead.
    found = _in_each_tenant(WITH_BOTH)
    if found:
        raise RuntimeError(f"commitments name both an office and a department ({found}): the schema before "
                           "revision 0038 holds one unit each, so it is not restored")
    _in_each_tenant(MOVE_BACK)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f('fk_commitments_tenant_id_department_id_units'), 'commitments', type_='foreignkey')
        op.drop_column('commitments', 'department_id')
    else:
        _rebuild_on_sqlite(lambda batch_op: (
            batch_op.drop_constraint(batch_op.f('fk_commitments_tenant_id_department_id_units'), type_='foreignkey'),
            batch_op.drop_column('department_id')))


def _rebuild_on_sqlite(change) -> None:
    """Batch mode rebuilds the table by copying its rows, which SQLite refuses for a computed column: the computed
    ``counted`` is dropped first and added back (virtual, as SQLite adds it) once the table is rebuilt."""
    op.execute("ALTER TABLE commitments DROP COLUMN counted")
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        change(batch_op)
    op.add_column('commitments', sa.Column('counted', sa.Boolean(), sa.Computed(COUNTED_RULE), nullable=True))
