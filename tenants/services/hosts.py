"""Hosts: a tenant's custom domains, which site a Host header names (and this process's memory of that answer),
and a tenant's address for work done outside a request."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from flask import Flask, current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached

from core import signals
from core.extensions import db
from core.tenancy import current_tenant_id, tenant_context
from tenants.models import Tenant, TenantHostname, TenantStatus, utcnow
from tenants.services import movement
from tenants.services.registry import RESERVED_SLUGS, SLUG_PATTERN, InvalidTenantSetting

HOSTNAME_PATTERN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HOST_CACHE_SECONDS = 2.0


def add_hostname(tenant: Tenant, hostname: str, verified: bool = True) -> TenantHostname:
    """Attach a custom domain to a tenant; only a verified one routes to it."""
    hostname = hostname.strip().lower().rstrip(".")
    if tenant.is_movement:
        raise InvalidTenantSetting("the HeForShe movement is served on the global host only")
    if not HOSTNAME_PATTERN.match(hostname):
        raise InvalidTenantSetting(f"{hostname!r} is not a valid hostname")
    if not hostname_available(hostname, tenant.id):
        raise InvalidTenantSetting(f"{hostname!r} is already in use")
    with tenant_context(tenant):
        entry = TenantHostname(tenant_id=tenant.id, hostname=hostname, verified_at=utcnow() if verified else None)
        db.session.add(entry)
        db.session.flush()
    return entry


def hostname_owner(hostname: str) -> int | None:
    """The tenant whose verified custom domain this is. Unverified claims own nothing: several tenants may claim a
    hostname, and the first to verify it gets it."""
    return db.session.scalar(select(TenantHostname.tenant_id).where(TenantHostname.hostname == hostname,
                                                                    TenantHostname.verified_at.is_not(None)))


def hostname_available(hostname: str, tenant_id: int) -> bool:
    """Whether a tenant may claim a hostname: nobody verified it, and this tenant has not claimed it already.
    (Another tenant's unverified claim never blocks the domain's real owner.)"""
    return hostname_owner(hostname) is None and db.session.scalar(select(TenantHostname.id).where(
        TenantHostname.hostname == hostname, TenantHostname.tenant_id == tenant_id)) is None


def site_address(tenant: Tenant) -> str:
    """The tenant's address under ``BASE_DOMAIN`` (the movement's: the global host), for links made outside a
    request: https where the session cookie is secure (in production), http otherwise."""
    scheme = "https" if current_app.config["SESSION_COOKIE_SECURE"] else "http"
    subdomain = "" if tenant.is_movement else f"{tenant.slug}."
    return f"{scheme}://{subdomain}{current_app.config['BASE_DOMAIN']}/"


@contextmanager
def on_site(tenant: Tenant, base_url: str | None = None) -> Iterator[None]:
    """Work for a tenant outside a request (a command, the mail worker): inside the tenant's context and a
    request context on its address (``base_url``, by default ``site_address``), so that external
    ``url_for`` links and ``force_locale`` work as in one of its pages."""
    with current_app.test_request_context(base_url=base_url or site_address(tenant)), tenant_context(tenant):
        yield


@dataclass(frozen=True)
class HostMatch:
    """What a request names: the global site's own pages (``tenant`` None) or one tenant's, and the tenant whose
    sessions the host's cookie may carry (on the global host: the movement's, whichever page is asked for)."""

    tenant: Tenant | None
    session_tenant_id: int | None
    # A suspended tenant's host: nothing of it is served, only a neutral page (the caller's); nothing is deleted.
    suspended: bool = False


def match_host(host: str, base_domain: str, path: str = "/") -> HostMatch | None:
    """Find the site a host (and, on the global host, a path) names; None when it names nothing we serve (the
    caller answers 404); for a suspended tenant's host, a match without a tenant, marked ``suspended``.

    On the global host, the movement's paths (``movement.PATHS``) are the movement's pages while it is open
    (``movement.is_open``); the rest, and all of them while it is closed, are the global site's. The movement is
    never the site of a host of its own.

    A host's tenant (its row, less the images) is remembered in this process for ``HOST_CACHE_SECONDS``, so
    that most requests read no tenant row at all (the global host remembers the movement's). A change to a
    tenant committed through this process forgets it at once (``forget_committed_tenants``), as does a removed
    custom domain (``forget_host``); other workers see a change, a suspension or a removed custom domain within
    those seconds.
    """
    host = _bare(host)
    if host == base_domain:
        values = _movement_values(host)
        if values is None:
            return HostMatch(tenant=None, session_tenant_id=None)
        found = _detached_tenant(values) if movement.serves(path) else None  # the global pages need only its id
        return HostMatch(tenant=found if movement.is_open(found) else None, session_tenant_id=values["id"])
    remembered = _remembered()
    values, until = remembered.get(host, (None, 0.0))
    if time.monotonic() < until:
        return _match(_detached_tenant(values))
    if host.endswith("." + base_domain):
        slug = host[: -len(base_domain) - 1]
        if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
            return None
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    else:
        tenant = db.session.scalar(
            select(Tenant).join(TenantHostname, TenantHostname.tenant_id == Tenant.id)
            .where(TenantHostname.hostname == host, TenantHostname.verified_at.is_not(None)))
    if tenant is None or tenant.is_movement:
        return None
    if tenant.status is not TenantStatus.ACTIVE:
        return HostMatch(tenant=None, session_tenant_id=None, suspended=True)
    remembered[host] = (_values(tenant), time.monotonic() + HOST_CACHE_SECONDS)
    return _match(tenant)


def _match(tenant: Tenant) -> HostMatch:
    return HostMatch(tenant=tenant, session_tenant_id=tenant.id)


def _movement_values(global_host: str) -> dict | None:
    """The movement's row, as remembered under the global host (None before it is created)."""
    remembered = _remembered()
    values, until = remembered.get(global_host, (None, 0.0))
    if time.monotonic() >= until:
        found = movement.find()
        values = _values(found) if found is not None else None
        remembered[global_host] = (values, time.monotonic() + HOST_CACHE_SECONDS)
    return values


def open_movement() -> Tenant | None:
    """The movement, while people may commit on the global host; else None."""
    values = _movement_values(_bare(current_app.config["BASE_DOMAIN"]))
    found = _detached_tenant(values) if values is not None else None
    return found if movement.is_open(found) else None


# host -> (the tenant row's values, remembered until), per app (tests build many), each let go with its app. The
# global host remembers the movement's row, or None before there is one.
_remembered_hosts: WeakKeyDictionary[Flask, dict[str, tuple[dict | None, float]]] = WeakKeyDictionary()
_REMEMBERED_COLUMNS = tuple(column.key for column in Tenant.__mapper__.column_attrs if not column.deferred)


def _values(tenant: Tenant) -> dict:
    return {key: getattr(tenant, key) for key in _REMEMBERED_COLUMNS}


def settings_fingerprint(tenant: Tenant) -> str:
    """What the tenant's row says now, as text: it changes with any setting kept on the row (branding,
    languages, attack mode...) and with ``pages_version`` (what ``pages_changed`` notes), so a page kept under it
    is never shown after such a change."""
    return repr([getattr(tenant, key) for key in _REMEMBERED_COLUMNS])


def pages_changed() -> None:
    """What the current tenant's public pages show has changed beyond its row (its texts, units, targets, sign-in):
    its ``pages_version`` moves, in the change's own transaction. Once committed, this process forgets the
    tenant's hosts (as for any change to the row) and its pages kept rendered are left at once; other workers see
    the new row, and leave them, within ``HOST_CACHE_SECONDS``. The services that make such changes call it."""
    tenant = db.session.get(Tenant, current_tenant_id())
    tenant.pages_version = Tenant.pages_version + 1  # in the database: two changes at once move it twice


def _bare(host: str) -> str:
    """A Host header as the name it is remembered by: no port, lower case, no final dot."""
    return host.split(":", 1)[0].strip().lower().rstrip(".")


def _remembered() -> dict[str, tuple[dict | None, float]]:
    app = current_app._get_current_object()
    remembered = _remembered_hosts.get(app)
    if remembered is None:
        remembered = _remembered_hosts[app] = {}
    return remembered


def _detached_tenant(values: dict) -> Tenant:
    """The remembered row as this session's ``Tenant``, without a query; its images load when used."""
    tenant = Tenant(**{key: copy.copy(value) for key, value in values.items()})
    make_transient_to_detached(tenant)
    return db.session.merge(tenant, load=False)


def forget_host(hostname: str) -> None:
    """Forget what this process remembers about a host (the current app's), so its next request looks it up."""
    if has_app_context():
        _remembered().pop(_bare(hostname), None)


def forget_tenants(tenant_ids: Iterable[int]) -> None:
    """Forget every host this process remembers (for the current app) as naming one of these tenants."""
    tenant_ids = set(tenant_ids)
    if not tenant_ids or not has_app_context():
        return
    remembered = _remembered()
    for host, (values, _) in list(remembered.items()):
        if values is not None and values["id"] in tenant_ids:
            remembered.pop(host, None)  # another thread may have forgotten it just now


# Both registered by ``tenants.init_app``: a change to a tenant is noted at each flush, and the cache forgets
# the tenant once the change is committed (a rollback drops the note: nothing changed).
CHANGED_TENANTS = "changed tenants"  # this module's topic of ``signals.committed``: tenant ids


def note_changed_tenants(session: Session, flush_context) -> None:
    """After a flush (a listener on the Session class): note the tenants it changed or deleted."""
    changed = {obj.id for obj in (*session.dirty, *session.deleted) if isinstance(obj, Tenant)}
    if changed:
        signals.after_commit(session, CHANGED_TENANTS, *changed)


def forget_committed_tenants(topic: str, items: set[int]) -> None:
    """After a commit (a receiver of ``signals.committed``): forget the hosts of the tenants it changed."""
    forget_tenants(items)
