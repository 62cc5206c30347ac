"""The tenant guard: every tenant-owned query is filtered to the current tenant, and fails closed."""

import pytest
from sqlalchemy import delete, func, select, update

from core.tenancy import CrossTenantWrite, TenantNotSet, tenant_context
from tenants.models import Commitment, Member, Unit, UnitKind


def test_querying_a_tenant_table_without_a_tenant_raises(db, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme)
    with pytest.raises(TenantNotSet):
        db.session.scalars(select(Commitment)).all()
    with pytest.raises(TenantNotSet):
        db.session.scalar(select(func.count(Member.id)))


def test_each_tenant_sees_only_its_own_rows(db, make_tenant, make_commitment):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_commitment(acme, email="a@example.org")
    make_commitment(globex, email="b@example.org")
    make_commitment(globex, email="c@example.org")
    with tenant_context(acme):
        assert [m.email for m in db.session.scalars(select(Member))] == ["a@example.org"]
        assert db.session.scalar(select(func.count(Commitment.id))) == 1
    with tenant_context(globex):
        assert sorted(db.session.scalars(select(Member.email))) == ["b@example.org", "c@example.org"]


def test_bulk_update_and_delete_touch_only_the_current_tenant(db, make_tenant, make_commitment):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_commitment(acme, email="a@example.org")
    make_commitment(globex, email="b@example.org")
    with tenant_context(acme):
        db.session.execute(update(Member).values(display_name="changed"))
        db.session.execute(delete(Commitment))
        db.session.commit()
    with tenant_context(globex):
        assert db.session.scalar(select(Member.display_name)) is None
        assert db.session.scalar(select(func.count(Commitment.id))) == 1


def test_new_rows_take_the_current_tenant(db, make_tenant):
    acme = make_tenant("acme")
    with tenant_context(acme):
        unit = Unit(name="Paris", kind=UnitKind.OFFICE)
        db.session.add(unit)
        db.session.flush()
        assert unit.tenant_id == acme.id


def test_a_row_cannot_be_written_into_another_tenant(db, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with tenant_context(acme):
        db.session.add(Unit(name="Paris", kind=UnitKind.OFFICE, tenant_id=globex.id))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()


def test_a_row_cannot_move_to_another_tenant(db, make_tenant, make_unit):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_unit(acme)
    with tenant_context(acme):
        unit = db.session.scalars(select(Unit)).one()
        unit.tenant_id = globex.id
        with pytest.raises(CrossTenantWrite):
            db.session.flush()


def test_creating_a_row_without_a_tenant_raises(db, make_tenant):
    make_tenant("acme")
    db.session.add(Unit(name="Paris", kind=UnitKind.OFFICE))
    with pytest.raises(TenantNotSet):
        db.session.flush()
