"""The kits area's changes, each noted in the audit log: the choice of the operator's kits, and the organisation's
own kits. Plain functions that flush, never commit (the kits themselves: ``tenants.kits.services``)."""

from __future__ import annotations

from tenant_portal.services import record
from tenants.kits import services as kits
from tenants.kits.models import TenantKit
from tenants.models import Tenant


def choose(tenant: Tenant, shown: set[int]) -> bool:
    """Show exactly these of the operator's kits; whether the list changed."""
    added, removed = kits.set_choices(tenant, shown)
    if added or removed:
        record("kits.choice", None, shown=added, hidden=removed)
    return bool(added or removed)


def add(fields: kits.OwnKit) -> TenantKit:
    kit = kits.add_own(fields)
    record("kits.own_create", kit.title, slug=kit.slug, published=kit.published)
    return kit


def update(kit: TenantKit, fields: kits.OwnKit) -> bool:
    changed = kits.update_own(kit, fields)
    if changed:
        record("kits.own_update", kit.title, slug=kit.slug, published=kit.published)
    return changed


def delete(kit: TenantKit) -> None:
    record("kits.own_delete", kit.title, slug=kit.slug)
    kits.delete_own(kit)
