"""Signed daily snapshots: the released global counts written down once a day, signed, and chained, so that anyone
can check that the published history of the count was never rewritten.

1. Each day (UTC) ``services.take`` reads the global tallies once and builds the day's body (``snapshot_body``): the
   totals, by country and by gender released under k (as ``stats.json``), each listed partner's count by slug and
   the unlisted ones summed, the day, the time taken, the schema version, the signing key's id, and the SHA-256 of
   the previous day's body (a hash chain; the first has null).
2. The body is stored as canonical JSON (``services.canonical``: keys sorted, no whitespace, UTF-8) with its SHA-256
   and an Ed25519 signature of those bytes (``keys.py``), in the ``snapshots`` table, one row per day. The app's
   database role may read and add rows, never change or remove them.
3. The global site publishes them (``views.py``, ``/snapshots/``); ``flask snapshots verify`` (``cli.py``) and the
   stand-alone ``scripts/verify_snapshots.py`` check every signature, hash and link of the chain, and the command
   also compares the live counts with the last snapshot (drift).
4. The embedded run takes the day's snapshot from a thread of the web process (``daily.py``); production runs
   ``flask snapshots take`` from a daily timer. Taking is idempotent per day.
"""


def init_app(app) -> None:
    """Serve the snapshots on the global site and register the ``flask snapshots`` commands."""
    from core.snapshots import cli, views

    app.register_blueprint(views.bp)
    cli.init_app(app)
