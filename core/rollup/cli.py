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
    """Recount every tenant from its commitments and report any drift in the tallies."""
    tenant_count = len(recount.commitments().tenants())
    with click.progressbar(length=tenant_count, label="Recounting tenants") as bar:
        drifts = recount.recount(repair=repair, progress=lambda slug: bar.update(1))
    for drift in drifts:
        click.echo(f"{drift.scope} {drift.dimension}={drift.key}: stored total/men {drift.stored[0]}/{drift.stored[1]}, "
                   f"counted {drift.expected[0]}/{drift.expected[1]}")
    if not drifts:
        click.echo("No drift: every tally matches the commitments.")
    elif repair:
        db.session.commit()
        click.echo(f"Repaired {len(drifts)} tallies.")
    else:
        db.session.rollback()
        raise click.ClickException(f"{len(drifts)} tallies drifted; run again with --repair to fix them.")


def init_app(app) -> None:
    """Register the ``flask rollup`` commands."""
    app.cli.add_command(rollup_cli)
