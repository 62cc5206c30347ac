"""Operator commands: ``flask sso oidc | saml | refresh | prove-domain | break-glass | rotate-keys``."""

from __future__ import annotations

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_context
from tenants.models import Tenant
from tenants.services.registry import InvalidTenantSetting
from tenants.sso import break_glass, saml, services
from tenants.sso.models import Protocol, SsoConnection

sso_cli = AppGroup("sso", help="Connect tenants to their identity providers; look after stored secrets.")


def _tenant(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {slug!r}")
    return tenant


def _mapping(options: dict) -> services.Mapping:
    return services.Mapping(
        email=options["claim_email"], name=options["claim_name"], unit=options["claim_unit"],
        groups=options["claim_groups"], admin_group=options["admin_group"],
        allowed_domains=[d for d in (options["domains"] or "").split(",") if d], default_unit_id=None)


def _mapping_options(email: str, name: str, groups: str):
    def decorate(command):
        for option in reversed([
            click.option("--domains", help="Allowed email domains, comma-separated (used for discovery once proven: "
                                           "see prove-domain)."),
            click.option("--claim-email", default=email, show_default=True),
            click.option("--claim-name", default=name, show_default=True),
            click.option("--claim-unit", help="Claim or attribute naming the person's unit."),
            click.option("--claim-groups", default=groups, show_default=True),
            click.option("--admin-group", help="Members of this group become the tenant's admins."),
        ]):
            command = option(command)
        return command
    return decorate


@sso_cli.command("oidc")
@click.argument("slug")
@click.option("--issuer", required=True, help="The OpenID provider's issuer URL (discovery is read from it).")
@click.option("--client-id", required=True)
@click.option("--client-secret", required=True, prompt=True, hide_input=True)
@click.option("--scopes", default="openid email profile", show_default=True)
@_mapping_options("email", "name", "groups")
def configure_oidc(slug, issuer, client_id, client_secret, scopes, **options):
    """Let SLUG's people sign in with an OpenID Connect provider."""
    tenant = _tenant(slug)
    with tenant_context(tenant):
        try:
            services.configure(tenant, Protocol.OIDC, _mapping(options),
                               oidc=services.OidcSettings(issuer, client_id, client_secret, scopes))
        except InvalidTenantSetting as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        db.session.commit()
    click.echo(f"{slug}: OpenID Connect via {issuer}. Redirect URI to register at the provider: "
               f"http://{slug}.{current_app.config['BASE_DOMAIN']}/sso/oidc/callback (https in production)")


@sso_cli.command("saml")
@click.argument("slug")
@click.option("--metadata-url", help="Where the identity provider publishes its SAML metadata.")
@click.option("--metadata-file", type=click.File(), help="The identity provider's SAML metadata, as a file.")
@_mapping_options("urn:oid:0.9.2342.19200300.100.1.3", "urn:oid:2.16.840.1.113730.3.1.241",
                  "urn:oid:1.3.6.1.4.1.5923.1.1.1.7")
def configure_saml(slug, metadata_url, metadata_file, **options):
    """Let SLUG's people sign in with a SAML identity provider (Shibboleth, Entra ID, Okta, ...)."""
    tenant = _tenant(slug)
    try:
        xml = metadata_file.read() if metadata_file else saml.fetch_metadata(metadata_url or "")
        saml.parse_metadata(xml)
        with tenant_context(tenant):
            services.configure(tenant, Protocol.SAML, _mapping(options),
                               saml=services.SamlSettings(xml, metadata_url))
            db.session.commit()
    except InvalidTenantSetting as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    base = f"http://{slug}.{current_app.config['BASE_DOMAIN']}"
    click.echo(f"{slug}: SAML. Our metadata for the identity provider: {base}/sso/saml/metadata")


@sso_cli.command("refresh")
def refresh():
    """Read every SAML identity provider's metadata again from its URL, so a new signing certificate is used
    before the old one is retired (run it daily, from cron or the worker). OpenID providers' keys are re-read
    by each worker once a day, and at once when a token names a key it does not know."""
    failures = 0
    for tenant in db.session.scalars(select(Tenant).order_by(Tenant.slug)).all():
        with tenant_context(tenant):
            conn = db.session.scalar(select(SsoConnection).where(SsoConnection.protocol == Protocol.SAML,
                                                                 SsoConnection.saml_idp_metadata_url.is_not(None)))
            if conn is None:
                continue
            try:
                changed = saml.refresh_metadata(conn)
            except InvalidTenantSetting as error:
                failures += 1
                with force_locale("en"):  # the details, like every sign-in failure's, are kept in English
                    detail = str(error)
                services.record_failure(conn, services.SsoError(detail, hint="metadata"))
                click.echo(f"{tenant.slug}: {detail}", err=True)
            else:
                click.echo(f"{tenant.slug}: {'changed' if changed else 'unchanged'}")
            db.session.commit()
    if failures:
        raise click.ClickException(f"{failures} identity provider(s) could not be read; their admins see why.")


@sso_cli.command("prove-domain")
@click.argument("slug")
@click.argument("domain")
@click.option("--revoke", is_flag=True, help="Withdraw the proof: the domain no longer sends people to SLUG.")
def prove_domain_command(slug, domain, revoke):
    """Take it as proven that DOMAIN, one of SLUG's allowed email domains, is SLUG's: addresses there are then
    sent to SLUG's sign-in from the global page (as when its TXT record is found)."""
    tenant = _tenant(slug)
    with tenant_context(tenant):
        try:
            claim = (services.revoke_domain if revoke else services.prove_domain)(tenant, domain)
        except InvalidTenantSetting as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        db.session.commit()
    if revoke:
        click.echo(f"{claim.domain}: no longer proven for {slug}.")
    else:
        click.echo(f"{claim.domain}: proven for {slug}; addresses there are sent to its sign-in.")


@sso_cli.command("break-glass")
@click.argument("slug")
@click.option("--email", required=True, help="The admin who may sign in without the identity provider.")
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--disable", is_flag=True, help="Turn the break-glass sign-in off again.")
def break_glass_command(slug, email, password, disable):
    """Turn on (or off) SLUG's admin sign-in by email, password and TOTP, for when the identity provider is down."""
    tenant = _tenant(slug)
    with tenant_context(tenant):
        if disable:
            break_glass.disable(tenant)
            db.session.commit()
            click.echo(f"{slug}: break-glass sign-in is off.")
            return
        try:
            secret = break_glass.enable(tenant, email, password)
        except InvalidTenantSetting as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        db.session.commit()
    click.echo(f"{slug}: break-glass sign-in is on for {email} at /portal/sign-in.")
    click.echo("Add this to an authenticator app (shown once):")
    click.echo(pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=f"HeForShe {tenant.name}"))


@sso_cli.command("rotate-keys")
def rotate_keys():
    """Re-encrypt every stored secret with the first key of ENCRYPTION_KEYS (after adding a new key)."""
    tenants = list(db.session.scalars(select(Tenant)))
    total = 0
    with click.progressbar(tenants, label="Re-encrypting") as bar:
        for tenant in bar:
            with tenant_context(tenant):
                total += services.reencrypt_secrets()
                db.session.commit()
    click.echo(f"Re-encrypted {total} secrets. The old key can now be removed from ENCRYPTION_KEYS.")


def init_app(app) -> None:
    """Register the ``flask sso`` commands."""
    app.cli.add_command(sso_cli)
