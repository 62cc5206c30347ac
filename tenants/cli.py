"""Operator commands: ``flask tenants create | add-hostname | configure | list | ensure-movement | load-demo |
fold-addresses``, ``flask attack-mode on | off | status`` and ``flask people rekey``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core import attack_mode
from core.database import lock_for_recount
from core.extensions import db
from core.models import AttackModeChange
from core.rollup import recount
from core.rollup.models import TenantTally
from core.tenancy import tenant_context
from tenants import demo
from tenants.models import Commitment, MapVisibility, Tenant, TenantKind
from tenants.services import hosts, members, movement, registry, signups
from tenants.sso import services as sso_services

tenants_cli = AppGroup("tenants", help="Provision and inspect tenants.")
people_cli = AppGroup("people", help="The keys that recognise one person across tenants.")


def _fail(error: Exception):
    db.session.rollback()
    raise click.ClickException(str(error))


@tenants_cli.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in TenantKind if k is not TenantKind.MOVEMENT]),
              default=TenantKind.CORPORATION.value, show_default=True)
@click.option("--admin-email", required=True, help="The first tenant admin's email address.")
@click.option("--language", "default_language", default="en", show_default=True, help="Default language.")
@click.option("--unlisted", is_flag=True, help="Do not list the tenant on the global page.")
def create(slug, name, kind, admin_email, default_language, unlisted):
    """Create a tenant reachable at SLUG.<BASE_DOMAIN>."""
    try:
        tenant = registry.create_tenant(slug, name, TenantKind(kind), admin_email=admin_email,
                                        default_language=default_language, listed=not unlisted)
    except registry.InvalidTenantSetting as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created {tenant.name}: http://{tenant.slug}.{current_app.config['BASE_DOMAIN']}/ "
               f"(admin: {admin_email}). Send them their way in: flask portal invite-admin {slug} {admin_email}")


@tenants_cli.command("add-hostname")
@click.argument("slug")
@click.argument("hostname")
@click.option("--unverified", is_flag=True, help="Record it without routing to it until verified.")
def add_hostname(slug, hostname, unverified):
    """Let a tenant be reached at its own HOSTNAME (a custom domain)."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        _fail(LookupError(f"no tenant {slug!r}"))
    try:
        entry = hosts.add_hostname(tenant, hostname, verified=not unverified)
    except registry.InvalidTenantSetting as error:
        _fail(error)
    db.session.commit()
    state = "verified" if entry.verified_at else "not yet verified"
    click.echo(f"{entry.hostname} -> {tenant.slug} ({state})")


@tenants_cli.command("configure")
@click.argument("slug")
@click.option("--map-visibility", type=click.Choice([v.value for v in MapVisibility]),
              help="Who may see the tenant's internal map.")
@click.option("--privacy-k", type=int, help="The smallest group any map or breakdown shows (5 or more).")
@click.option("--listed/--unlisted", default=None, help="Whether the global page lists the tenant.")
def configure(slug, map_visibility, privacy_k, listed):
    """Change a tenant's map visibility, privacy threshold or listing."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        _fail(LookupError(f"no tenant {slug!r}"))
    try:
        registry.configure(tenant, map_visibility=MapVisibility(map_visibility) if map_visibility else None,
                           privacy_k=privacy_k, listed=listed)
    except registry.InvalidTenantSetting as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{tenant.slug}: map {tenant.map_visibility.value}, k={tenant.privacy_k}, "
               f"{'listed' if tenant.listed else 'unlisted'}")


@tenants_cli.command("list")
def list_tenants():
    """Every tenant with its status and counts."""
    rows = registry.tenant_overview()
    if not rows:
        click.echo("No tenants yet. Create one with `flask tenants create` or load the demo.")
        return
    click.echo(f"{'slug':<20} {'kind':<12} {'status':<10} {'listed':<7} {'men':>8} {'total':>8}  hostnames")
    for row in rows:
        click.echo(f"{row.slug:<20} {row.kind:<12} {row.status:<10} {'yes' if row.listed else 'no':<7} "
                   f"{row.men:>8} {row.total:>8}  {', '.join(row.hostnames) or '-'}")


@tenants_cli.command("ensure-movement")
def ensure_movement():
    """Create the HeForShe movement, where people commit on their own on the global host, if it is missing;
    safe to run at every deploy."""
    tenant, created = movement.ensure()
    db.session.commit()
    reasons = movement.why_closed(tenant)
    state = f"closed: {'; '.join(reasons)}" if reasons else "open"
    click.echo(f"{'Created' if created else 'Found'} the HeForShe movement, {state}. "
               f"Its page: {hosts.site_address(tenant)}commit")


@tenants_cli.command("load-demo")
@click.option("--commitments", default=3000, show_default=True, help="How many commitments to generate.")
@click.option("--seed", default=2026, show_default=True)
def load_demo(commitments, seed):
    """Load the demo tenants (acme, northfield, ...) and generated commitments; safe to run twice."""
    created = demo.create_demo_tenants()
    if not created:
        click.echo("The demo tenants exist already; nothing to do.")
        return
    plan = demo.plan_commitments(created, commitments, seed)
    with click.progressbar(plan, label="Generating commitments", length=len(plan)) as bar:
        for step in bar:
            demo.apply(step)
    db.session.commit()
    click.echo(f"Loaded {len(created)} demo tenants and {len(plan)} commitments.")


@tenants_cli.command("fold-addresses")
def fold_addresses():
    """Recompute stored address keys and SSO domains in today's folded form (NFKC, IDNA); run once after
    upgrading, so that people stored before are still recognised. Safe to run again."""
    changed, problems = 0, []
    for tenant in db.session.scalars(select(Tenant).order_by(Tenant.slug)).all():
        with tenant_context(tenant):
            keys, clashes = members.refold_member_keys()
            changed += keys
            problems += [f"{tenant.slug}: {' and '.join(m.email for m in group)} are one address: keep one "
                         f"(remove the others in the portal's Members page), then run this again"
                         for group in clashes]
            try:
                changed += sso_services.refold_domains(tenant)
            except registry.InvalidTenantSetting as error:
                problems.append(f"{tenant.slug}: allowed domains left as they were: {error}")
    db.session.commit()
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"Folded {changed} address keys and domain lists; {len(problems)} left for you to resolve.")
    if problems:
        raise SystemExit(1)


attack_mode_cli = AppGroup("attack-mode", help="Ask for a proof of work on the public sign-up forms, during an "
                                                 "attack on one tenant or on all.")
_tenant_option = click.option("--tenant", "slug", help="Only this tenant's form (without it: every tenant's).")
_reason_option = click.option("--reason", required=True, help="Why: kept with the change and written to the log.")


@attack_mode_cli.command("on")
@_tenant_option
@_reason_option
def attack_mode_on(slug, reason):
    """Turn attack mode on: every worker asks for the proof of work within 2 seconds."""
    _switch_attack_mode(True, slug, reason)


@attack_mode_cli.command("off")
@_tenant_option
@_reason_option
def attack_mode_off(slug, reason):
    """Turn attack mode off (everywhere, or a tenant's own switch): the forms are as usual within 2 seconds."""
    _switch_attack_mode(False, slug, reason)


def _switch_attack_mode(enabled: bool, slug: str | None, reason: str) -> None:
    tenant = None
    if slug is not None:
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            _fail(LookupError(f"no tenant {slug!r}"))
    try:
        if tenant is None:
            attack_mode.record_change(enabled, reason)
        else:
            registry.set_attack_mode(tenant, enabled, reason)
    except ValueError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Attack mode {'on' if enabled else 'off'} for {tenant.slug if tenant else 'every tenant'}.")
    if not enabled and tenant is None:
        still = _tenants_in_attack_mode()
        if still:
            click.echo(f"Still on by their own switch: {', '.join(t.slug for t in still)}.")
    elif not enabled and attack_mode.everywhere():
        click.echo("It is still on everywhere: turn it off without --tenant to end that.")


@attack_mode_cli.command("status")
def attack_mode_status():
    """Where attack mode is on, since when and why."""
    changes = attack_mode.latest_changes()
    click.echo(f"Everywhere: {_describe(attack_mode.everywhere(), changes.get(None))}")
    tenants = _tenants_in_attack_mode()
    for tenant in tenants:
        click.echo(f"{tenant.slug}: {_describe(True, changes.get(tenant.id))}")
    if not tenants:
        click.echo("No tenant has its own switch on.")


def _tenants_in_attack_mode() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).where(Tenant.attack_mode).order_by(Tenant.slug)))


def _describe(enabled: bool, change: AttackModeChange | None) -> str:
    state = "on" if enabled else "off"
    if change is None or change.enabled != enabled:
        return state
    return f"{state} since {change.changed_at:%Y-%m-%d %H:%M} UTC ({change.reason})"



@people_cli.command("rekey")
def rekey():
    """Give every commitment the key of its member's address under the current PEOPLE_PEPPER, then rebuild the
    people and the global tallies from the commitments. Run after changing PEOPLE_PEPPER (sign-ups wait while it
    runs), after upgrading to keys, and after `flask tenants fold-addresses`. Safe to run again."""
    lock_for_recount(Commitment.__table__, TenantTally.__table__)
    changed = 0
    for tenant_id, _slug in recount.commitments().tenants():
        with tenant_context(tenant_id):
            changed += signups.rekey_people()
    recount.recount(repair=True)
    db.session.commit()
    click.echo(f"{changed} commitments given new keys; the people and the global tallies are rebuilt.")


def init_app(app) -> None:
    """Register the ``flask tenants``, ``flask attack-mode`` and ``flask people`` commands."""
    app.cli.add_command(tenants_cli)
    app.cli.add_command(attack_mode_cli)
    app.cli.add_command(people_cli)
