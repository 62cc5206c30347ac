"""Operator command: ``flask units import <tenant-slug> <file.csv> [--dry-run]``, for files of any size."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_context
from tenant_portal.units import services
from tenants.models import Tenant


@click.command("import")
@click.argument("slug")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and list every problem, writing nothing.")
@with_appcontext
def import_command(slug: str, path: Path, dry_run: bool):
    """Import a tenant's units from a CSV file (key,name,kind,parent_key,country,city,eligible_men,
    eligible_total): each unit is inserted or updated by its key, all or nothing."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {slug!r}")
    with tenant_context(tenant):
        plan = services.check_import(path.read_bytes())
        if plan.problems:
            for problem in plan.problems:
                click.echo(f"line {problem.line}: {problem.message}" if problem.line else problem.message, err=True)
            db.session.rollback()
            raise click.ClickException(f"{len(plan.problems)} problem(s) in {path.name}: nothing was imported.")
        summary = f"{plan.new} unit(s) to add, {plan.updated} to update"
        if dry_run:
            db.session.rollback()
            click.echo(f"{path.name} is fine: {summary}. Nothing was written (--dry-run).")
            return
        with click.progressbar(length=len(plan.rows), label="Importing units") as bar:
            services.apply_import(plan, f"{path.name} (flask units import)", progress=bar.update)
        db.session.commit()
    click.echo(f"Imported {path.name} into {tenant.slug}: {summary}.")
