"""Tenancy as a mechanism: the current tenant, the ORM guard, and the PostgreSQL session setting.

The current tenant lives in a ContextVar, set from the request's host (see ``core.hosts``) or by
``tenant_context`` in commands and tests. Every model that mixes in ``TenantScoped``:

- is filtered to the current tenant on every ORM SELECT, UPDATE and DELETE (``with_loader_criteria``);
- refuses to be queried at all when no tenant is set (fail closed: ``TenantNotSet``);
- takes its ``tenant_id`` from the context when created, and can never move to another tenant.

On PostgreSQL each transaction also carries ``app.tenant_id`` (``set_config(..., true)``), which
the row-level security policies check: a second wall that holds even for raw SQL.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from flask import has_app_context
from sqlalchemy import ForeignKey, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria

from core.extensions import db

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)


class TenantNotSet(RuntimeError):
    """A tenant-owned table was touched while no tenant was current."""


class CrossTenantWrite(RuntimeError):
    """A row was about to be written into, or moved to, a tenant other than the current one."""


class TenantScoped:
    """Mixin for tenant-owned models: ``tenant_id`` leads the composite primary key."""

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


def _set_database_tenant(session, connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant_id = _current_tenant_id.get()
    connection.execute(
        text("SELECT set_config('app.tenant_id', :tenant_id, true)"),
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
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if not any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        return
    tenant_id = current_tenant_id()
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


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
