"""Tenancy as a mechanism: the current tenant, the ORM guard, and the PostgreSQL session setting.

The current tenant lives in a ContextVar, set from the request's host (see ``core.hosts``) or by
``tenant_context`` in commands and tests. Every model that mixes in ``TenantScoped``:

- is filtered to the current tenant wherever a statement run through the session reads, updates or
  deletes its table: the statement itself, its joins, subqueries, CTEs, ``exists``, unions and
  aggregates, whether built from ORM classes or Core tables (``_tenant_guard``);
- refuses to be queried at all when no tenant is set (fail closed: ``TenantNotSet``);
- takes its ``tenant_id`` from the context when created, and can never move to another tenant.

Raw SQL (``text()``) cannot be checked, so the guard refuses it (``StatementRefused``) unless it was
written with ``reviewed_sql``. Everything goes through the session: no code runs statements on an
engine or a connection of its own, which the guard would not see.

On PostgreSQL each transaction also carries ``app.tenant_id`` (``set_config(..., true)``), which
the row-level security policies check: a second wall that holds even for raw SQL.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from flask import has_app_context
from sqlalchemy import Alias, Delete, ForeignKey, Join, Select, TableClause, TextClause, Update, event, or_, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors
from sqlalchemy.sql.base import ExecutableOption

from core.extensions import db

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)


class TenantNotSet(RuntimeError):
    """A tenant-owned table was touched while no tenant was current."""


class CrossTenantWrite(RuntimeError):
    """A row was about to be written into, or moved to, a tenant other than the current one."""


class StatementRefused(RuntimeError):
    """A statement the guard cannot limit to the tenant: raw SQL not written with ``reviewed_sql``, or
    a tenant table named without its ``tenant_id`` column."""


# The tables of every TenantScoped model, by name: a Core ``table("members")`` is one of them too.
_TENANT_TABLES: set[str] = set()
# Execution option carried by statements written with ``reviewed_sql``.
_REVIEWED_SQL = "tenancy_reviewed_sql"


class TenantScoped:
    """Mixin for tenant-owned models: ``tenant_id`` leads the composite primary key."""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        _TENANT_TABLES.add(cls.__tablename__)

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, sort_order=-10)


def current_tenant_id() -> int:
    """The id of the current tenant; raises ``TenantNotSet`` when there is none."""
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        raise TenantNotSet("no tenant is set for this request or command")
    return tenant_id


def get_current_tenant_id() -> int | None:
    """The id of the current tenant, or None on the global site."""
    return _current_tenant_id.get()


def activate(tenant_id: int | None):
    """Make ``tenant_id`` current; returns a token for ``deactivate``."""
    token = _current_tenant_id.set(tenant_id)
    _sync_open_transaction()
    return token


def deactivate(token) -> None:
    """Restore the tenant that was current before ``activate``."""
    _current_tenant_id.reset(token)
    _sync_open_transaction()


@contextmanager
def tenant_context(tenant_or_id) -> Iterator[None]:
    """Run a block as the given tenant (a ``Tenant`` or its id); for commands, jobs and tests."""
    tenant_id = tenant_or_id if isinstance(tenant_or_id, int) or tenant_or_id is None else tenant_or_id.id
    token = activate(tenant_id)
    try:
        yield
    finally:
        deactivate(token)


# session.info key: the tenant id the open transaction's connection carries in ``app.tenant_id``.
_DATABASE_TENANT = "database_tenant"


def _sync_open_transaction() -> None:
    """A transaction that holds a connection already must learn the new tenant too (PostgreSQL only); one
    that has none yet learns it in ``after_begin`` when it connects."""
    if not has_app_context():
        return
    session = db.session()
    if _DATABASE_TENANT in session.info and session.info[_DATABASE_TENANT] != _current_tenant_id.get():
        _set_database_tenant(session, session.connection())


def reviewed_sql(sql: str) -> TextClause:
    """``text(sql)`` that the guard lets through unchecked. Only for SQL read line by line: it must touch
    no tenant table, or bind the current tenant itself (PostgreSQL's row-level security still applies)."""
    return text(sql).execution_options(**{_REVIEWED_SQL: True})


_SET_DATABASE_TENANT = reviewed_sql("SELECT set_config('app.tenant_id', :tenant_id, true)")


def _set_database_tenant(session, connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant_id = _current_tenant_id.get()
    connection.execute(
        _SET_DATABASE_TENANT,
        {"tenant_id": "" if tenant_id is None else str(tenant_id)},
    )
    session.info[_DATABASE_TENANT] = tenant_id


@event.listens_for(Session, "after_begin")
def _on_begin(session, transaction, connection) -> None:
    _set_database_tenant(session, connection)


@event.listens_for(Session, "after_transaction_end")
def _on_end(session, transaction) -> None:
    if transaction.parent is None:  # the setting was local to the outermost transaction
        session.info.pop(_DATABASE_TENANT, None)


@event.listens_for(Session, "do_orm_execute")
def _tenant_guard(state: ORMExecuteState) -> None:
    """Every statement run through the session: limit each place it reads a tenant table to the current
    tenant's rows, or refuse it (no tenant set, raw SQL not reviewed)."""
    if state.is_relationship_load:
        # Built by the ORM from the parent's composite foreign key, which starts with its tenant_id;
        # the loader criteria below filter it too.
        _add_loader_criteria(state)
        return
    if state.execution_options.get(_REVIEWED_SQL):
        return
    tenant_tables, raw_sql = _what_it_touches(state.statement)
    if raw_sql:
        raise StatementRefused("raw SQL cannot be checked for its tenant: build the statement, or use reviewed_sql()")
    if not tenant_tables:
        return
    tenant_id = current_tenant_id()
    state.statement = _limited_to_tenant(state.statement, tenant_id)
    _add_loader_criteria(state)


def _add_loader_criteria(state: ORMExecuteState) -> None:
    """ORM entities, also where the ORM adds them while compiling (eager loads, joins by relationship),
    get the criterion in their ON clause."""
    if any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        tenant_id = current_tenant_id()
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True))


def _what_it_touches(statement) -> tuple[bool, bool]:
    """Whether a statement names a tenant table anywhere, and whether it holds raw SQL."""
    tenant_tables = raw_sql = False
    for element in visitors.iterate(statement):
        if isinstance(element, TableClause) and element.name in _TENANT_TABLES:
            tenant_tables = True
        elif isinstance(element, TextClause):
            raw_sql = True
    return tenant_tables, raw_sql


def _limited_to_tenant(statement, tenant_id: int):
    """A copy of ``statement`` in which every SELECT (nested ones too: subqueries, CTEs, ``exists``,
    unions), UPDATE and DELETE keeps only the tenant's rows of each tenant table in its FROM."""

    def nested(element):
        if isinstance(element, ExecutableOption):
            return element  # options (the loader criteria among them) stay as they are
        if element is not statement and isinstance(element, (Select, Update, Delete)):
            return _limited_to_tenant(element, tenant_id)
        return None

    copy = visitors.replacement_traverse(statement, {}, nested)
    if isinstance(copy, Select):
        criteria = [c for from_ in copy.get_final_froms() for c in _criteria(from_, tenant_id, nullable=False)]
        return copy.where(*criteria) if criteria else copy
    if isinstance(copy, (Update, Delete)):
        return copy.where(*_criteria(copy.table, tenant_id, nullable=False))
    return copy


def _criteria(from_, tenant_id: int, nullable: bool) -> list:
    """The criteria that keep one FROM element to the tenant's rows. A table on the empty side of an
    outer join may also be NULL there: it then stands for no row at all, never another tenant's."""
    if isinstance(from_, Join):
        return (_criteria(from_.left, tenant_id, nullable or from_.full)
                + _criteria(from_.right, tenant_id, nullable or from_.isouter or from_.full))
    table = from_.element if isinstance(from_, Alias) else from_
    if not (isinstance(table, TableClause) and table.name in _TENANT_TABLES):
        return []  # a subquery or CTE is limited inside; other tables belong to no tenant
    if "tenant_id" not in from_.c:
        raise StatementRefused(f"{table.name} is named without its tenant_id column: use the model or its table")
    column = from_.c.tenant_id
    return [or_(column == tenant_id, column.is_(None)) if nullable else column == tenant_id]


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session, flush_context, instances) -> None:
    for obj in session.new:
        if isinstance(obj, TenantScoped):
            tenant_id = current_tenant_id()
            if obj.tenant_id is None:
                obj.tenant_id = tenant_id
            elif obj.tenant_id != tenant_id:
                raise CrossTenantWrite(f"{type(obj).__name__} belongs to tenant {obj.tenant_id}, not {tenant_id}")
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and db.inspect(obj).attrs.tenant_id.history.has_changes():
            raise CrossTenantWrite(f"{type(obj).__name__}.tenant_id cannot change")
