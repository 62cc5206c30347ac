"""The roll-up's operator command: ``flask rollup recount [--repair]``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.extensions import db
from core.rollup import recount

rollup_cli = AppGroup("rollup", help="Check and repair the counts.")


@rollup_cli.command("recount")
@click.option("--repair", is_flag=True, help="Rewrite the tallies that disagree with the commitments.")
def recount_command(repair):
    """Recount every tenant, the people and the movement from the commitments, and report any drift."""
    tenant_count = len(recount.commitments().tenants())
    with click.progressbar(length=tenant_count, label="Recounting tenants") as bar:
        drifts = recount.recount(repair=repair, progress=lambda slug: bar.update(1))
    for drift in drifts:
        names = "/".join(drift.stored._fields)
        click.echo(f"{drift.scope} {drift.dimension}={drift.key}: stored {names} {_figures(drift.stored)}, "
                   f"counted {_figures(drift.expected)}")
    if not drifts:
        click.echo("No drift: every tally matches the commitments.")
    elif repair:
        db.session.commit()
        click.echo(f"Repaired {len(drifts)} tallies.")
    else:
        db.session.rollback()
        raise click.ClickException(f"{len(drifts)} tallies drifted; run again with --repair to fix them.")


def _figures(figures: tuple) -> str:
    return "/".join(str(n) for n in figures)


def init_app(app) -> None:
    """Register the ``flask rollup`` commands."""
    app.cli.add_command(rollup_cli)
