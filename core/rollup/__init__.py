"""The roll-up: counts kept in step with commitments, read instead of counting rows.

How counts roll up:

1. Every change to whether a commitment counts (made, confirmed, withdrawn, made again, invalidated, restored:
   ``tenants/services/signups.py`` decides) calls ``services.record`` with +1 or -1 (verified or not), or
   ``services.record_verified``, in the transaction that makes the change. It adds to a few tally rows
   (``models.py``): the tenant's own (commitments by country, unit, gender, day, place and source), the
   person's row in ``people`` (known by ``services.person_key``, a keyed hash of their address), and the global
   ones (people by country, gender and day, added when a person starts counting anywhere and removed when they
   stop; commitments by partner). Rows are sharded (``ROLLUP_SHARDS``) so that concurrent sign-ups rarely wait
   on the same row lock.
2. Once that transaction commits, open live pages of both sites hear of it (``core/live.py``).
3. Pages, ``stats.json``, maps, the portal and the snapshots read ``steps.tenant_counts`` /
   ``steps.global_counts``: each site's released copy, which moves in steps of k people, and its live total
   (``steps.py``). The live tallies (``services.tenant_counts`` / ``services.global_counts``, a sum over the
   shards of the keys asked for, never a count of commitment rows) are read by the copies, the recount, the
   snapshots' drift check and the operator's list only.
4. ``recount.py`` (``flask rollup recount [--repair]``, ``cli.py``) checks every tally and person against the
   counted commitments and rewrites the ones that drifted. The commitments belong to the tenants package, above
   core: it hands the roll-up where they are in its ``init_app`` (``recount.count_commitments_from``).

The roll-up imports nothing from the packages above core and nothing from the global site's pages.
"""


def init_app(app) -> None:
    """Register the ``flask rollup`` commands."""
    from core.rollup import cli

    cli.init_app(app)
