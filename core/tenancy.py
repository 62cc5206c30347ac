"""Tenancy as a mechanism: the current tenant, the ORM guard, and the PostgreSQL session setting.

The current tenant lives in a ContextVar, set from the request's host (the app factory's ``_resolve_tenant``) or by
``tenant_context`` in commands and tests. Every model that mixes in ``TenantScoped``:

- is filtered to the current tenant wherever a statement run through the session reads, updates or
  deletes its table: the statement itself, its joins, subqueries, CTEs, ``exists``, unions and
  aggregates, whether built from ORM classes or Core tables (``_tenant_guard``);
- refuses to be queried at all when no tenant is set (fail closed: ``TenantNotSet``);
- takes its ``tenant_id`` from the context when created, and can never move to another tenant.

Raw SQL (``text()``) cannot be checked, so the guard refuses it (``StatementRefused``) unless it was
written with ``reviewed_sql``. The app runs every statement through the session, never on an engine or
a connection of its own, so the guard sits there rather than on the engine: there it would meet the
flush's own statements and the migrations too, already turned into SQL strings. On PostgreSQL the
policies below hold on any connection.

On PostgreSQL each transaction also carries ``app.tenant_id`` (``set_config(..., true)``), which
the row-level security policies check: a second wall that holds even for raw SQL.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

import psycopg
from flask import has_app_context
from psycopg.pq import TransactionStatus
from sqlalchemy import (Alias, ColumnClause, CompoundSelect, Delete, ForeignKey, Join, Select, TableClause,
                        TextClause, Update, event, or_, text)
from sqlalchemy.exc import DBAPIError
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
        _TENANT_TABLES.add(cls.__tablename__.lower())

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
_SET_DATABASE_TENANT_PSYCOPG = "SELECT set_config('app.tenant_id', %s, true)"


def _set_database_tenant(session, connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant_id = _current_tenant_id.get()
    value = "" if tenant_id is None else str(tenant_id)
    driver = connection.connection.driver_connection
    if isinstance(driver, psycopg.Connection) and driver.info.transaction_status == TransactionStatus.IDLE:
        _begin_with_setting(connection, driver, value)
    else:
        connection.execute(_SET_DATABASE_TENANT, {"tenant_id": value})
    session.info[_DATABASE_TENANT] = tenant_id


def _begin_with_setting(connection, driver: psycopg.Connection, value: str) -> None:
    """A transaction's BEGIN and its setting sent together (psycopg's pipeline mode), one round trip where they
    took two: every request that reads or writes starts with them. On the session's own connection, with an
    error as SQLAlchemy gives it (a connection lost is dropped from the pool: the app answers 503)."""
    try:
        with driver.pipeline():
            driver.execute(_SET_DATABASE_TENANT_PSYCOPG, (value,))
    except psycopg.Error as error:
        if driver.broken or driver.closed:
            connection.invalidate(error)
        raise DBAPIError.instance(_SET_DATABASE_TENANT_PSYCOPG, (value,), error, psycopg.Error) from error


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
    elements = list(_walk(state.statement, into_nested=True))
    if any(_is_raw_sql(element) for element in elements):
        raise StatementRefused("raw SQL cannot be checked for its tenant: build it, or use reviewed_sql()")
    if (any(_tenant_table_key(element) is not None for element in elements)
            and any(isinstance(element, _READS) for element in elements)):  # not a plain INSERT (see before_flush)
        state.statement = _limited_to_tenant(state.statement, current_tenant_id(), elements)
        _add_loader_criteria(state)


def _add_loader_criteria(state: ORMExecuteState) -> None:
    """ORM entities, also where the ORM adds them while compiling (eager loads, joins by relationship),
    get the criterion in their ON clause."""
    if any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        tenant_id = current_tenant_id()
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True))


_READS = (Select, Update, Delete)
_STATEMENTS = (Select, CompoundSelect, Update, Delete)


def _walk(statement, into_nested: bool):
    """The statement and the elements in it, down to the tables (not their columns); nested statements
    are given but not entered unless ``into_nested``."""
    pending = [statement]
    while pending:
        element = pending.pop()
        yield element
        if isinstance(element, (TableClause, ExecutableOption)) or _tenant_table_key(element) is not None:
            continue
        if element is not statement and not into_nested and isinstance(element, _STATEMENTS):
            continue
        pending.extend(element.get_children())


def _limited_to_tenant(statement, tenant_id: int, elements: list):
    """``statement`` with every SELECT in it (nested ones too: subqueries, CTEs, ``exists``, unions), and
    an UPDATE or DELETE, keeping only the tenant's rows of each tenant table it names. ``elements``: what
    ``_walk`` finds in it, nested statements included."""
    own = elements
    if any(element is not statement and isinstance(element, _STATEMENTS) for element in elements):
        statement = visitors.replacement_traverse(statement, {}, lambda element: (
            element if isinstance(element, ExecutableOption)  # the options (loader criteria) stay as they are
            else _limited_to_tenant(element, tenant_id, list(_walk(element, into_nested=True)))
            if element is not statement and isinstance(element, _READS) else None))
        own = list(_walk(statement, into_nested=False))  # the copy's own aliases, not the original's
    if not isinstance(statement, _READS):
        return statement  # a UNION, an INSERT ... SELECT: the statements inside are limited
    tables, outer = {}, set()
    for element in own:
        if (key := _tenant_table_key(element)) is not None:
            tables.setdefault(key, element)
        elif isinstance(element, Join) and (element.isouter or element.full):
            outer |= _tenant_table_keys(element.right) | (_tenant_table_keys(element.left) if element.full else set())
    # Joins added with Select.join() / outerjoin() keep their kind beside the target, not in a Join.
    for target, _onclause, _left, flags in getattr(statement, "_setup_joins", ()):
        if flags["isouter"] or flags["full"]:
            outer |= _tenant_table_keys(target)
    criteria = []
    for key, from_ in tables.items():
        if "tenant_id" not in from_.c:
            raise StatementRefused(f"{from_.name} is named without its tenant_id column: use the model or its table")
        column = from_.c.tenant_id
        # On the empty side of an outer join a NULL stands for no row at all, never another tenant's.
        criteria.append(or_(column == tenant_id, column.is_(None)) if key in outer else column == tenant_id)
    return statement.where(*criteria)


def _is_raw_sql(element) -> bool:
    """``text()``, or a ``literal_column()`` other than the ``*`` of ``count(*)`` and ``exists()``."""
    return isinstance(element, TextClause) or (
        isinstance(element, ColumnClause) and element.is_literal and element.name != "*")


def _tenant_table_key(element):
    """A tenant table's name, or an alias of one (its annotated copies alike); None for anything else."""
    if isinstance(element, TableClause):
        return element.name if element.name.lower() in _TENANT_TABLES else None
    if isinstance(element, Alias) and isinstance(element.element, TableClause):
        return hash(element) if element.element.name.lower() in _TENANT_TABLES else None
    return None


def _tenant_table_keys(element) -> set:
    return {key for part in _walk(element, into_nested=False) if (key := _tenant_table_key(part)) is not None}


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
