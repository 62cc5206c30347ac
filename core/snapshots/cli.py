"""The snapshots' operator commands: ``flask snapshots take``, ``verify`` and ``export``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from core.extensions import db
from core.snapshots import services

snapshots_cli = AppGroup("snapshots", help="Take, check and export the signed daily snapshots of the counts.")


def _figures(figures: dict[str, int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in figures.items())


@snapshots_cli.command("take")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day (UTC) to file the snapshot under: today by default.")
def take(day):
    """Take the day's snapshot of the released counts, unless it was taken already (then nothing changes)."""
    try:
        snapshot, new = services.take(day.date() if day else None)
    except services.SnapshotRefused as refused:
        raise click.ClickException(f"No snapshot taken: {refused}.") from None
    db.session.commit()
    if new:
        click.echo(f"Took the snapshot of {snapshot.day.isoformat()}: SHA-256 {snapshot.sha256}.")
    else:
        click.echo(f"The snapshot of {snapshot.day.isoformat()} was taken already (SHA-256 {snapshot.sha256}); "
                   "nothing changed.")


@snapshots_cli.command("verify")
@click.pass_context
def verify(ctx):
    """Check every snapshot's SHA-256, signature and link to the day before, then compare the live counts with the
    last snapshot. Exits 1 if a snapshot breaks, 2 if the counts drifted."""
    checked, broken = services.verify()
    if broken is not None:
        raise click.ClickException(
            f"The snapshot of {broken.day.isoformat()} breaks: {broken.reason}. "
            f"The {checked} snapshots before it hold.")
    if not checked:
        click.echo("No snapshots yet.")
        return
    click.echo(f"All {checked} snapshots hold: every SHA-256, signature and link of the chain.")
    found = services.drift()
    day, cut = found.day.isoformat(), found.cut.isoformat()
    if not found.drifted:
        click.echo(f"No drift: the live counts are the snapshot of {day}'s, plus what was made since "
                   f"({_figures(found.since)}).")
        return
    click.echo(
        f"Drift since the snapshot of {day}: commitments made before {cut} counted {_figures(found.before_day)} "
        f"then, {_figures(found.before_day_now)} now. Withdrawals and returns of commitments made before {cut}, "
        "commitments imported with an earlier date, and `flask rollup recount --repair` show here too; anything "
        "else changed the counts outside the sign-ups.", err=True)
    ctx.exit(2)


@snapshots_cli.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export(folder):
    """Write the published files into FOLDER: index.json, keys.json and one <day>.json per snapshot, byte for byte
    as the site serves them (for an archive kept elsewhere, or scripts/verify_snapshots.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.json").write_bytes(services.published_index())
    (folder / "keys.json").write_bytes(services.published_keys())
    count = 0
    for snapshot in services.every_snapshot():
        (folder / f"{snapshot.day.isoformat()}.json").write_bytes(services.published_snapshot(snapshot))
        count += 1
    click.echo(f"Wrote {count} snapshots, index.json and keys.json to {folder}.")


def init_app(app) -> None:
    """Register the ``flask snapshots`` commands."""
    app.cli.add_command(snapshots_cli)
