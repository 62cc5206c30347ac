"""Faults under a sign-up load, as in production (gunicorn with gevent workers, PostgreSQL as the app role
under row-level security, Redis), at small scale: a worker killed, PostgreSQL restarted, Redis restarted
(``bench/faults.py``, on a PostgreSQL cluster and a Redis server of its own, so nothing shared is touched).

Each part serves again within seconds of coming back, with nobody stepping in; sign-ups go on while Redis
is down and the open live stream still shows them; every sign-up answered with success is stored exactly
once, none twice; the counts equal a recount."""

import shutil

import pytest

from tests.conftest import cannot_run


@pytest.mark.long
def test_the_site_recovers_from_a_killed_worker_and_restarted_databases(postgres):
    from bench import faults

    try:
        faults.postgres_bin()
    except FileNotFoundError as error:
        cannot_run("postgres", f"needs PostgreSQL's server programs (apt-get install postgresql): {error}")
    if shutil.which("redis-server") is None:
        cannot_run("redis", "needs redis-server (apt-get install redis-server)")
    result = faults.drill(clients=4, down_seconds=2)
    goals = faults.goals(result)
    print("\n" + "\n".join(faults.table(result) + faults.markdown_goals(goals)))  # shown with -s or -rA
    assert [g for g in goals if not g["met"]] == []
