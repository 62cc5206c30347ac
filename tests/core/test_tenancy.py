"""The tenant guard: every tenant-owned query is filtered to the current tenant, and fails closed."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import column, delete, exists, func, literal_column, select, table, text, union_all, update
from sqlalchemy.orm import aliased

from core.app import create_app
from core.extensions import db as db_module
from core.tenancy import CrossTenantWrite, StatementRefused, TenantNotSet, reviewed_sql, tenant_context
from tenants.models import Commitment, Member, Unit, UnitKind
from tenants.services import members


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


def test_core_statements_on_a_tenant_table_need_a_tenant(db, make_tenant, make_commitment):
    make_commitment(make_tenant("acme"))
    with pytest.raises(TenantNotSet):
        db.session.scalar(select(func.count()).select_from(Member.__table__))


def test_a_table_named_in_other_letter_case_is_the_same_tenant_table(db, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme)
    make_commitment(make_tenant("globex"))
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's names ignore letter case; PostgreSQL's quoted ones do not")
    shouted = table("MEMBERS", column("id"), column("tenant_id"))
    with tenant_context(acme):
        assert db.session.scalar(select(func.count()).select_from(shouted)) == 1


def test_raw_sql_is_refused_unless_it_was_reviewed(db, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme)
    make_commitment(make_tenant("globex"))
    with tenant_context(acme):
        with pytest.raises(StatementRefused):
            db.session.scalar(text("SELECT count(*) FROM members"))
        with pytest.raises(StatementRefused):
            db.session.scalar(select(func.count(Member.id)).where(text("1 = 1")))
        with pytest.raises(StatementRefused):
            db.session.scalar(select(literal_column("(SELECT count(*) FROM members)")))
        with pytest.raises(StatementRefused):  # a lightweight table without its tenant_id column
            db.session.scalar(select(func.count()).select_from(table("members", column("id"))))
        assert db.session.scalar(reviewed_sql("SELECT 40 + 2")) == 42


def test_an_outer_join_keeps_the_rows_it_matches_nothing_for(db, make_tenant, make_unit, make_commitment):
    acme = make_tenant("acme")
    paris = make_unit(acme)
    make_commitment(acme, unit=paris)
    make_commitment(acme)
    make_commitment(make_tenant("globex"))
    joined = select(Commitment.id).outerjoin(Unit, Unit.id == Commitment.unit_id)
    with tenant_context(acme):
        assert len(db.session.execute(joined).all()) == 2
        assert db.session.scalar(select(func.count()).select_from(joined.subquery())) == 2
        assert db.session.scalar(select(func.count(Unit.id))
                                 .select_from(Commitment.__table__.outerjoin(
                                     Unit.__table__, Unit.__table__.c.id == Commitment.__table__.c.unit_id))) == 1


# Query shapes for the property below. Each source is a SELECT of (tenant_id, id) over tenant tables, with
# the number of rows it holds per tenant: "members", "commitments" or "units" (a function of those counts).
MEMBERS, COMMITMENTS, UNITS = Member.__table__, Commitment.__table__, Unit.__table__
SOURCES = {
    "orm": (lambda: select(Member.tenant_id, Member.id), "members"),
    "orm alias": (lambda: (lambda m: select(m.tenant_id, m.id))(aliased(Member)), "members"),
    "core table": (lambda: select(MEMBERS.c.tenant_id, MEMBERS.c.id), "members"),
    "core alias": (lambda: (lambda m: select(m.c.tenant_id, m.c.id))(MEMBERS.alias()), "members"),
    "lightweight table": (lambda: (lambda m: select(m.c.tenant_id, m.c.id))(
        table("members", column("tenant_id"), column("id"))), "members"),
    "orm join on the id only": (lambda: select(Commitment.tenant_id, Member.id)
                                .join(Member, Member.id == Commitment.member_id), "commitments"),
    "core join on the id only": (lambda: select(COMMITMENTS.c.tenant_id, MEMBERS.c.id).select_from(
        COMMITMENTS.join(MEMBERS, MEMBERS.c.id == COMMITMENTS.c.member_id)), "commitments"),
    "orm outer join": (lambda: select(Commitment.tenant_id, Commitment.id)
                       .outerjoin(Unit, Unit.id == Commitment.unit_id), "commitments"),
    "core outer join": (lambda: select(UNITS.c.tenant_id, UNITS.c.id).select_from(
        UNITS.outerjoin(COMMITMENTS, COMMITMENTS.c.unit_id == UNITS.c.id)), "units"),
    "correlated exists": (lambda: select(Member.tenant_id, Member.id).where(
        select(Commitment.id).where(Commitment.member_id == Member.id).exists()), "commitments"),
    "in a subquery": (lambda: select(Commitment.tenant_id, Commitment.id).where(
        Commitment.member_id.in_(select(MEMBERS.c.id))), "commitments"),
}


def _wrap(inner, how: str):
    """``inner`` (a SELECT of tenant_id, id) wrapped once more; the number of rows it holds, times a factor."""
    if how == "subquery":
        sub = inner.subquery()
        return select(sub.c.tenant_id, sub.c.id), 1
    if how == "cte":
        cte = inner.cte()
        return select(cte.c.tenant_id, cte.c.id), 1
    if how == "union all":
        sub = union_all(inner, select(MEMBERS.c.tenant_id, MEMBERS.c.id).where(MEMBERS.c.id.is_(None))).subquery()
        return select(sub.c.tenant_id, sub.c.id), 1
    if how == "twice":
        sub = union_all(inner, inner).subquery()
        return select(sub.c.tenant_id, sub.c.id), 2
    raise AssertionError(how)


@st.composite
def query_shapes(draw):
    name = draw(st.sampled_from(sorted(SOURCES)))
    build, counted = SOURCES[name]
    statement, factor = build(), 1
    for how in draw(st.lists(st.sampled_from(["subquery", "cte", "union all", "twice"]), max_size=3)):
        statement, times = _wrap(statement, how)
        factor *= times
    finish = draw(st.sampled_from(["rows", "count", "sum", "exists", "scalar subquery", "group by"]))
    return name, statement, counted, factor, finish


def _run(db, statement, finish: str, other_tenant_id: int):
    """What the shape shows: its rows' tenants, a count of them, or whether another tenant's row exists."""
    sub = statement.subquery()
    if finish == "rows":
        rows = db.session.execute(statement).all()
        return sorted({tenant for tenant, _ in rows}), len(rows)
    if finish == "count":
        return db.session.scalar(select(func.count()).select_from(sub))
    if finish == "sum":
        return db.session.scalar(select(func.coalesce(func.sum(sub.c.tenant_id), 0)))
    if finish == "exists":
        return db.session.scalar(select(exists(select(sub.c.id).where(sub.c.tenant_id == other_tenant_id))))
    if finish == "scalar subquery":
        return db.session.scalar(select(select(func.count(sub.c.id)).scalar_subquery()))
    if finish == "group by":
        return db.session.execute(select(sub.c.tenant_id, func.count()).group_by(sub.c.tenant_id)).all()
    raise AssertionError(finish)


def _expected(finish: str, tenant_id: int, rows: int):
    return {"rows": ([tenant_id] if rows else [], rows), "count": rows, "sum": tenant_id * rows, "exists": False,
            "scalar subquery": rows, "group by": [(tenant_id, rows)] if rows else []}[finish]


@pytest.fixture
def guard_only_db(app_config, database):
    """The session as a role that row-level security does not stop (on PostgreSQL, the superuser that made
    the database), so only the guard stands between the tenants."""
    if database["backend"] == "sqlite":
        yield db_module
        return
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": database["admin"].render_as_string(False)})
    with app.app_context():
        yield db_module
        db_module.session.rollback()
        db_module.engine.dispose()


def test_every_query_shape_shows_only_the_current_tenant(db, make_tenant, make_unit, make_commitment,
                                                         guard_only_db):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    counts = {}
    for tenant, people, with_unit in ((acme, 2, 1), (globex, 5, 3)):
        unit = make_unit(tenant)
        make_unit(tenant, "Lyon office")
        for n in range(people):
            make_commitment(tenant, unit=unit if n < with_unit else None)
        with tenant_context(tenant):
            members.find_or_create_member(f"no-commitment@{tenant.slug}.example")
            db.session.commit()
        # members: everyone; commitments: the committed; units: each unit once per commitment, or once alone
        counts[tenant.id] = {"members": people + 1, "commitments": people, "units": with_unit + 1}
    ids = {acme.id: globex.id, globex.id: acme.id}

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(shape=query_shapes(), tenant_id=st.sampled_from(sorted(ids)))
    def check(shape, tenant_id):
        name, statement, counted, factor, finish = shape
        with tenant_context(tenant_id):
            shown = _run(guard_only_db, statement, finish, ids[tenant_id])
            guard_only_db.session.rollback()
        assert shown == _expected(finish, tenant_id, counts[tenant_id][counted] * factor), name

    check()
