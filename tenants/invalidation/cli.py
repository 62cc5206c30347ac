"""Operator commands: ``flask abuse clusters | invalidate | undo | history``."""

from __future__ import annotations

import getpass
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_context
from tenants.invalidation import services
from tenants.models import Tenant

abuse_cli = AppGroup("abuse", help="Find suspicious clusters of commitments; invalidate them, or undo that.")


def _tenants(slug: str | None) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.slug)
    tenants = db.session.scalars(query.where(Tenant.slug == slug) if slug else query).all()
    if slug and not tenants:
        raise click.ClickException(f"no tenant {slug!r}")
    return list(tenants)


@contextmanager
def _decision():
    """One operator decision: committed when it stands; when refused, nothing changes and the reason is shown."""
    try:
        yield
    except services.InvalidationRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()


def _moment(value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date and time such as 2026-12-04T09:30") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _window(since: str | None, until: str | None, hours: float) -> tuple[datetime, datetime]:
    end = _moment(until, datetime.now(timezone.utc))
    return _moment(since, end - timedelta(hours=hours)), end


_since = click.option("--since", help="Start of the window (ISO date and time, UTC unless given); "
                                      "default: --hours before --until.")
_until = click.option("--until", help="End of the window (ISO date and time); default: now.")
_hours = click.option("--hours", type=float, default=24.0, show_default=True, help="Length of the default window.")
_by = click.option("--by", "decided_by", default=getpass.getuser, show_default="your login",
                   help="Who decides (recorded).")


@abuse_cli.command("clusters")
@click.option("--tenant", "slug", help="Only this tenant (default: every tenant).")
@click.option("--min", "min_size", type=int, default=20, show_default=True,
              help="Smallest cluster listed (commitments in the window).")
@_since
@_until
@_hours
def list_clusters(slug, min_size, since, until, hours):
    """List networks and email domains with many counted commitments in a window, and how many were suspect."""
    start, end = _window(since, until, hours)
    click.echo(f"Clusters of {min_size} or more counted commitments, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    found = 0
    for tenant in _tenants(slug):
        with tenant_context(tenant):
            for cluster in services.clusters(start, end, min_size):
                found += 1
                click.echo(f"{tenant.slug}\t{cluster.kind}\t{cluster.value}\t{cluster.commitments} commitments\t"
                           f"{cluster.suspect} suspect\t{cluster.first_at:%Y-%m-%d %H:%M:%S} to "
                           f"{cluster.last_at:%H:%M:%S}")
    if not found:
        click.echo("None.")


@abuse_cli.command("invalidate")
@click.argument("slug")
@click.option("--network", help="Client network, as listed (e.g. 203.0.113.0/24).")
@click.option("--domain", help="Email domain, as listed.")
@click.option("--suspect-only", is_flag=True, help="Only the commitments flagged suspect.")
@click.option("--reason", required=True, help="Why (recorded, shown with the invalidation).")
@click.option("--dry-run", is_flag=True, help="Say how many would be invalidated; change nothing.")
@_since
@_until
@_hours
@_by
def invalidate(slug, network, domain, suspect_only, reason, dry_run, since, until, hours, decided_by):
    """Take one cluster of SLUG's commitments out of the counts (kept, marked; undo with `flask abuse undo`)."""
    start, end = _window(since, until, hours)
    criteria = services.Criteria(since=start, until=end, network=network, domain=domain, suspect_only=suspect_only)
    (tenant,) = _tenants(slug)
    with tenant_context(tenant):
        if dry_run:
            click.echo(f"Would invalidate {services.matching_count(criteria)} commitments of {slug}.")
            return
        with _decision():
            decision = services.invalidate(criteria, reason, decided_by)
        click.echo(f"Invalidated {decision.commitments} commitments of {slug} (invalidation {decision.id}). "
                   f"Undo: flask abuse undo {slug} {decision.id} --reason ...")


@abuse_cli.command("undo")
@click.argument("slug")
@click.argument("invalidation_id", type=click.UUID)
@click.option("--reason", required=True, help="Why (recorded).")
@_by
def undo(slug, invalidation_id: uuid.UUID, reason, decided_by):
    """Put an invalidation's commitments back in the counts."""
    (tenant,) = _tenants(slug)
    with tenant_context(tenant):
        with _decision():
            decision = services.undo(invalidation_id, reason, decided_by)
        click.echo(f"Undid invalidation {decision.id} of {slug}: its commitments count again "
                   "(unless withdrawn or awaiting confirmation).")


@abuse_cli.command("history")
@click.option("--tenant", "slug", help="Only this tenant (default: every tenant).")
def history(slug):
    """Invalidations, newest first: when, who, how many, why, and whether undone."""
    for tenant in _tenants(slug):
        with tenant_context(tenant):
            for decision in services.history():
                undone = (f"undone {decision.undone_at:%Y-%m-%d %H:%M} by {decision.undone_by}: {decision.undo_reason}"
                          if decision.undone_at else "in force")
                click.echo(f"{tenant.slug}\t{decision.id}\t{decision.created_at:%Y-%m-%d %H:%M}\t{decision.decided_by}\t"
                           f"{decision.commitments} commitments\t{decision.reason}\t{undone}\t{decision.criteria}")
