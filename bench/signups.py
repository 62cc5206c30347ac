"""Sign-up load benchmark, side by side with this machine's limits: closed loops, then open-loop rate steps.

    .venv/bin/python -m bench.signups                # both (about 15 minutes)
    .venv/bin/python -m bench.signups --loop closed  # 32 and 256 clients, spread and on one tenant
    .venv/bin/python -m bench.signups --loop open    # people arriving at stepped rates (bench/open_loop.py)
    .venv/bin/python -m bench.signups --smoke        # tiny: checks that the benchmark works

As in production: gunicorn with gevent workers, PostgreSQL as the app role under row-level security,
Redis, 100 tenants.

Closed loop: each client fills in the real sign-up form of its tenant (GET for the CSRF token and session,
then a POST per new person on a connection of its own, sending the cookie the server last set), for
a fixed time. Two baselines run in the same session: pgbench inserting the same row shape with the same
unique key, and a bare Flask endpoint that inserts one such row under the same gunicorn settings
(``bench/bare_app.py``), run before and after the sign-ups: the faster run counts, so that a slow moment of
the machine cannot flatter the ratio. The product serves ``MAX_SERVING`` requests at once per worker, the
others in arrival order, and sheds past ``MAX_IN_FLIGHT`` (``core/load_shedding.py``; settings in
``bench/common.py``): a person answered 503 waits the ``Retry-After`` and tries again, and their wait counts from
their first try.

What the rate limits cost: the spread case in six rounds on each of the server and a second one with the limits
off, both warm, alternating on, off, off, on...; ``rate_limits_cost`` is one minus the rate with them on over the
rate with them off.

Open loop (``bench/open_loop.py``): people arrive at a fixed rate (Poisson) whatever the server does, each on a
new connection, and each visit's latency runs from its scheduled time, so a slow answer cannot hide the
visits queued behind it. The rate goes up until p99 passes 100 ms, for a person's visit (GET the page, then
POST the form) spread over the tenants and on one tenant, for the POST alone, and for the bare endpoint (after
its closed-loop cases). A step in which the client itself started visits late (p99 lag over 10 ms) is
invalid: the client and the server share this machine, so the client runs its steps in the real-time
scheduling class where the system allows it, and its lag and CPU share are reported for each step.

The API's write path in the same run and on the same server, after the form's closed-loop cases: each client is
a partner's system with its tenant's key, posting one new commitment after another to ``/api/v1/commitments``
(JSON, a new ``Idempotency-Key`` each) on a connection it keeps (``api_commitments_per_second``).

Afterwards every sign-up that was answered with success must be stored exactly once (an open-loop visit
left unanswered may be stored, once), and the tallies must equal a recount.

Results: ``bench/results/signups-<date>T<time>.json`` (``signup_vs_bare_ratio``, ``person_max_rate_p99_100ms``,
``post_max_rate_p99_100ms``, ``bare_max_rate_p99_100ms``) and ``.md``, the tables also on stdout.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone

import sqlalchemy as sa

from bench import open_loop
from tenant_portal.api.services import new_token
from bench.common import (BASE_DOMAIN, MAX_IN_FLIGHT, MAX_SERVING, ROOT, SCRATCH, connect_with_form, environment,
                          free_port, goal, gunicorn_command, log, machine, markdown_goals, markdown_header,
                          parse_arguments, percentile_ms, populate, prepare_database, read_response, start_server,
                          write_results)

WORKERS = 2


def _answered(record: dict, started: float, first_try: float, stored: tuple | None) -> None:
    """An answer that was not shed: how long it took, how long its person had waited since their first try, and
    who it stored (None: an error)."""
    answered = time.perf_counter()
    record["served"].append(answered - started)
    record["waits"].append(answered - first_try)
    if stored is not None:
        record["accepted"].append(stored)
    else:
        record["errors"] += 1


async def _post_until(connection: tuple, until: float, path: str, record: dict) -> None:
    """Sign up one new person after another until ``until``, each on a new connection, as each person's own
    browser opens one (the form's session cookie and CSRF token carry over). A person who is shed tries again
    after the ``Retry-After``, and their wait runs from their first try, connecting included, to the answer
    that stored them."""
    reader, writer, port, host, cookie, token = connection
    email, first_try = None, 0.0
    while time.perf_counter() < until:
        if email is None:
            email, first_try = f"{uuid.uuid4().hex[:16]}@example.org", time.perf_counter()
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        form = (b"csrf_token=" + token + f"&email={email}&gender=man&country=FR&consent=y&tenant=1".encode())
        request = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
                   f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n")
        started = time.perf_counter()
        try:
            writer.write(request.encode() + form)
            status, headers, _ = await read_response(reader)
        except ConnectionError:  # the server closed it (a worker restarting): the person tries again
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        if "set-cookie" in headers:  # the next sign-up from this client sends the new one
            cookie = headers["set-cookie"].split(";")[0]
        if status == 503:
            record["shed"] += 1
            await asyncio.sleep(float(headers.get("retry-after", 1)))
            continue
        _answered(record, started, first_try, (host, email) if status in (303, 204) else None)
        email = None
    if email is not None:  # shed, and not served before the end: waited at least this long
        record["unserved"] += 1
        record["waits"].append(until - first_try)
    writer.close()


async def _load(port: int, hosts: list[str], clients: int, seconds: float, path: str, form_page: bool) -> dict:
    """``clients`` clients (all ready first) posting for ``seconds``. ``per_second`` counts
    successes over the time it really took; ``p50_ms`` and ``p99_ms`` are the people's waits (first try to
    stored, shed tries and their ``Retry-After`` included, and those still waiting at the end counted with
    their wait so far); ``served_*`` are the times of the requests served."""
    record = {"served": [], "waits": [], "accepted": [], "errors": 0, "shed": 0, "unserved": 0}
    connections = await asyncio.gather(*(connect_with_form(port, hosts[n % len(hosts)], form_page)
                                         for n in range(clients)))
    started = time.perf_counter()
    await asyncio.gather(*(_post_until(connection, started + seconds, path, record) for connection in connections))
    elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": len(record["served"]), "errors": record["errors"],
            "shed": record["shed"], "still_waiting_at_end": record["unserved"], "seconds": round(elapsed, 1),
            "per_second": round(len(record["accepted"]) / elapsed, 1),
            "p50_ms": percentile_ms(record["waits"], 0.5), "p99_ms": percentile_ms(record["waits"], 0.99),
            "served_p50_ms": percentile_ms(record["served"], 0.5),
            "served_p99_ms": percentile_ms(record["served"], 0.99), "accepted": record["accepted"]}


async def _get_until(port: int, hosts: list[str], path: str, until: float, first: int, record: dict) -> None:
    """New visitors (a new connection each, no cookie) reading ``path`` one after another until ``until``, each
    on the next host."""
    n = first
    while time.perf_counter() < until:
        host, n = hosts[n % len(hosts)], n + 1
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.perf_counter()
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status, headers, _ = await read_response(reader)
        writer.close()
        if status == 503:
            record["shed"] += 1
            await asyncio.sleep(float(headers.get("retry-after", 1)))
            continue
        record["served"].append(time.perf_counter() - started)
        record["errors"] += status != 200


async def _reads(port: int, hosts: list[str], clients: int, seconds: float, path: str) -> dict:
    """``clients`` readers of ``path`` for ``seconds``: pages (or answers) a second and their times."""
    record = {"served": [], "errors": 0, "shed": 0}
    started = time.perf_counter()
    await asyncio.gather(*(_get_until(port, hosts, path, started + seconds, n * 7, record) for n in range(clients)))
    elapsed = time.perf_counter() - started
    return {"clients": clients, "per_second": round(len(record["served"]) / elapsed, 1), "errors": record["errors"],
            "shed": record["shed"], "p50_ms": percentile_ms(record["served"], 0.5),
            "p99_ms": percentile_ms(record["served"], 0.99)}


def api_tokens(urls: dict, hosts: list[str]) -> dict[str, str]:
    """A key of each tenant that may write commitments, made as the portal makes them; its token by host."""
    tokens, engine = {}, sa.create_engine(urls["admin"])  # the database's superuser: not held by row security
    with engine.begin() as connection:
        for host in hosts:
            prefix, token, secret_hash = new_token()
            connection.execute(sa.text(
                "INSERT INTO api_keys (tenant_id, id, prefix, secret_hash, name, scopes, created_at) "
                "SELECT id, :id, :prefix, :hash, 'benchmark', '[\"commitments:write\"]', now() FROM tenants "
                "WHERE slug = :slug"), {"id": uuid.uuid4(), "prefix": prefix, "hash": secret_hash,
                                        "slug": host.split(".")[0]})
            tokens[host] = token
    engine.dispose()
    return tokens


async def _api_post_until(port: int, host: str, token: str, until: float, record: dict) -> None:
    """One partner's system recording one new commitment after another through the API until ``until``, on a
    connection it keeps; shed requests are sent again after the ``Retry-After``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    email, first_try = None, 0.0
    while time.perf_counter() < until:
        if email is None:
            email, first_try = f"api{uuid.uuid4().hex[:16]}@example.org", time.perf_counter()
        body = json.dumps({"email": email, "gender": "man", "country": "FR", "language": "en",
                           "consent_version": "2026-11", "consented_at": "2026-12-01T10:00:00Z"}).encode()
        request = (f"POST /api/v1/commitments HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                   f"Idempotency-Key: {email}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n")
        started = time.perf_counter()
        try:
            writer.write(request.encode() + body)
            status, headers, _ = await read_response(reader)
        except ConnectionError:  # the server closed it (a worker restarting): send it again, same key
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        if status == 503:
            record["shed"] += 1
            await asyncio.sleep(float(headers.get("retry-after", 1)))
            continue
        _answered(record, started, first_try, (host, email) if status == 201 else None)
        email = None
    if email is not None:
        record["unserved"] += 1
        record["waits"].append(until - first_try)
    writer.close()


async def _api_load(port: int, tokens: dict[str, str], clients: int, seconds: float) -> dict:
    """``clients`` partners' systems, spread over the tenants, writing through the API for ``seconds``; the same
    figures as ``_load``."""
    record = {"served": [], "waits": [], "accepted": [], "errors": 0, "shed": 0, "unserved": 0}
    hosts = list(tokens)
    started = time.perf_counter()
    await asyncio.gather(*(_api_post_until(port, hosts[n % len(hosts)], tokens[hosts[n % len(hosts)]],
                                           started + seconds, record) for n in range(clients)))
    elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": len(record["served"]), "errors": record["errors"],
            "shed": record["shed"], "still_waiting_at_end": record["unserved"], "seconds": round(elapsed, 1),
            "per_second": round(len(record["accepted"]) / elapsed, 1),
            "p50_ms": percentile_ms(record["waits"], 0.5), "p99_ms": percentile_ms(record["waits"], 0.99),
            "served_p50_ms": percentile_ms(record["served"], 0.5),
            "served_p99_ms": percentile_ms(record["served"], 0.99), "accepted": record["accepted"]}


def limits_on_and_off(port: int, hosts: list[str], clients: int, seconds: float, env: dict) -> tuple[dict, list]:
    """What the rate limits cost: the spread case in rounds of half ``seconds`` against this server and one with
    the limits off (``RATELIMIT_ENABLED=false``), both warm, in the order on, off, off, on, on, off..., so that
    both sides see the same tables and, on average, the same moments of the machine (rounds differ by 10% or
    more on this machine). ``per_second`` of each side counts its rounds together."""
    off_port = free_port()
    off_server = start_server({**env, "RATELIMIT_ENABLED": "false"}, off_port, workers=WORKERS)
    time.sleep(3)
    rounds, accepted = 6, []
    sides = [("limits on", port), ("limits off", off_port)]
    totals = {side: {"accepted": 0, "seconds": 0.0, "errors": 0} for side, _ in sides}
    try:
        accepted += asyncio.run(_load(off_port, hosts, clients, min(seconds, 5), "/", form_page=True))["accepted"]
        for n in range(rounds):
            for side, side_port in sides if n % 2 == 0 else sides[::-1]:
                outcome = asyncio.run(_load(side_port, hosts, clients, seconds / 2, "/", form_page=True))
                accepted += outcome["accepted"]
                totals[side]["accepted"] += len(outcome["accepted"])
                totals[side]["seconds"] += outcome["seconds"]
                totals[side]["errors"] += outcome["errors"] + outcome["still_waiting_at_end"]
    finally:
        off_server.terminate()
        off_server.wait(timeout=30)
    return {side: {"clients": clients, "rounds": rounds, "seconds": round(total["seconds"], 1),
                   "errors": total["errors"], "per_second": round(total["accepted"] / total["seconds"], 1)}
            for side, total in totals.items()}, accepted


def pgbench(urls: dict, clients: int, seconds: int) -> float:
    """PostgreSQL's own rate for the same insert (same row shape, same unique key), in rows a second.
    Clients are capped at 90: the server's max_connections (100 by default) must leave room."""
    clients = min(clients, 90)
    SCRATCH.mkdir(exist_ok=True)
    script = SCRATCH / "pgbench-insert.sql"
    script.write_text(
        "\\set t random(1, 100)\n"
        "INSERT INTO bare_rows (tenant_id, id, email_canonical, gender, country_code, created_at) "
        "VALUES (:t, gen_random_uuid(), md5(random()::text) || '@example.org', 'man', 'FR', now()) "
        "ON CONFLICT (tenant_id, email_canonical) DO NOTHING;\n")
    url = sa.engine.make_url(urls["admin"])
    completed = subprocess.run(
        ["pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script),
         "-h", url.host, "-p", str(url.port or 5432), "-U", url.username, url.database],
        capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"pgbench failed: {completed.stderr}")
    return float(re.search(r"tps = ([\d.]+)", completed.stdout).group(1))


def create_bare_table(urls: dict) -> None:
    engine = sa.create_engine(urls["admin"])
    with engine.begin() as connection:
        connection.execute(sa.text("""
            CREATE TABLE bare_rows (tenant_id integer, id uuid, email_canonical varchar(320), gender varchar(24),
                                    country_code varchar(2), created_at timestamptz,
                                    PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, email_canonical))"""))
    engine.dispose()


def bare_endpoint(env: dict, urls: dict, client_counts: list[int], seconds: float,
                  open_search: dict | None = None) -> tuple[dict, dict | None]:
    """The bare insert endpoint under the same gunicorn settings, at each number of clients; then, given
    ``open_search`` (settings of ``open_loop.search``), its open-loop search."""
    bare_env = {**env, "BARE_DATABASE_URL": urls["admin"]}
    bare_port = free_port()
    bare = subprocess.Popen(gunicorn_command(bare_port, WORKERS, "bench.bare_app:app"), cwd=ROOT, env=bare_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    outcomes, searched = {}, None
    try:
        time.sleep(2)
        asyncio.run(_load(bare_port, ["bare"], (client_counts or [8])[0], min(seconds, 5), "/",
                          form_page=False))  # warm-up
        for clients in client_counts:
            outcome = asyncio.run(_load(bare_port, ["bare"], clients, seconds, "/", form_page=False))
            outcome.pop("accepted")
            outcomes[str(clients)] = outcome
            log(f"  bare insert endpoint, {clients} clients: {outcome}")
        if open_search is not None:
            searched = open_loop.search("bare", bare_port, ["bare"], "bare", **open_search)
    finally:
        bare.terminate()
        bare.wait(timeout=30)
    return outcomes, searched


def stored_exactly_once(urls: dict, accepted: list[tuple[str, str]], uncertain: list[tuple[str, str]] = ()) -> bool:
    """Every accepted sign-up is in the database once, under its own tenant, and nothing else is but, at
    most once each, the ``uncertain`` ones (sent, never answered: the server may have stored them)."""
    engine = sa.create_engine(urls["admin"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT t.slug, m.email_canonical FROM commitments c JOIN members m ON m.tenant_id = c.tenant_id "
            "AND m.id = c.member_id JOIN tenants t ON t.id = c.tenant_id WHERE m.email_canonical LIKE '%@example.org' "
            "AND m.email_canonical NOT LIKE 'p%'")).all()
    engine.dispose()
    stored = Counter((slug, email) for slug, email in rows)
    wanted = Counter((host.split(".")[0], email) for host, email in accepted)
    maybe = Counter((host.split(".")[0], email) for host, email in uncertain)
    extra = stored - wanted
    return all(stored[key] == 1 for key in wanted) and max(stored.values(), default=1) == 1 and not (extra - maybe)


# The open-loop cases: (name, visit, one tenant or all, first rate a second). The first rates sit well below
# where each case saturated on a quiet machine like this one (a person ~60/s, the POST ~250/s, the bare
# endpoint ~1,300/s); on a busier one the search steps down from them.
OPEN_CASES = [("person, spread", "person", "spread", 10), ("person, one tenant", "person", "one tenant", 10),
              ("POST alone, spread", "post", "spread", 25)]
SMOKE_OPEN_CASES = [("person, spread", "person", "spread", 5), ("POST alone, spread", "post", "spread", 10)]


def main() -> None:
    args = parse_arguments(__doc__)
    seconds = args.seconds or (2 if args.smoke else 15)
    tenants = args.tenants or (5 if args.smoke else 100)
    population = (args.commitments or [500 if args.smoke else 10_000])[0]
    closed, opened = args.loop in ("closed", "both"), args.loop in ("open", "both")
    client_counts = ([8] if args.smoke else [32, 256]) if closed else []
    # A smoke run takes one short step of each open-loop case, to show that it works.
    open_settings = ({"seconds": args.seconds or 1, "max_steps": 1, "pause": 0.5} if args.smoke
                     else {"seconds": args.seconds or 10})

    urls = prepare_database(args.database)
    env = environment(urls, args.redis)
    log(f"populating {population:,} commitments over {tenants} tenants ...")
    populate(urls, env, tenants, population)
    create_bare_table(urls)
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "smoke": args.smoke,
              "machine": machine(urls["admin"], args.redis),
              "settings": {"server": f"gunicorn, gevent worker class, {WORKERS} workers, 20,000 worker connections",
                           "admission": f"MAX_SERVING={MAX_SERVING} per worker, the others in arrival order; "
                                        f"MAX_IN_FLIGHT={MAX_IN_FLIGHT} (shed clients wait Retry-After)",
                           "population": f"{population:,} commitments, {tenants} tenants",
                           "database": "PostgreSQL, app role under row-level security", "live": "Redis pub/sub"},
              "pgbench_rows_per_second": {}, "bare": {}, "signups": {}, "api": {}, "reads": {}}
    if closed:
        result["settings"].update({
            "seconds per case": seconds,
            "clients": "asyncio in the benchmark's process, same machine; a new connection per person, kept for "
                       "their shed retries",
            "bare endpoint": "bench/bare_app.py, same gunicorn settings, no load shedding; run before and after "
                             "the sign-ups, the faster run counted"})
    if opened:
        result["settings"]["open loop"] = (
            f"Poisson arrivals, {open_settings['seconds']} s a step, a new connection per visit; latency from each "
            f"visit's scheduled time to its last answer; rates x{open_loop.FACTOR} until p99 > "
            f"{open_loop.P99_BOUND_MS:g} ms or an error (down by as much while the first rates fail), then "
            f"{open_loop.REFINEMENTS} geometric midpoints; a step whose client started visits more than {open_loop.LAG_P99_BOUND_MS:g} ms late "
            "at p99 is invalid (run once more, then it ends the search); the bare endpoint after its closed-loop "
            "cases")

    bare_runs = [bare_endpoint(env, urls, client_counts, seconds)[0]] if closed else []
    all_hosts = [f"org{n}.{BASE_DOMAIN}" for n in range(tenants)]
    accepted, uncertain = [], []
    port = free_port()
    server = start_server(env, port, workers=WORKERS)
    time.sleep(3)  # each worker builds its place table at start
    try:
        # Warm-up (compiled statements, prepared statements, pools); not measured, but checked below.
        warm_up = asyncio.run(_load(port, all_hosts, (client_counts or [8])[0], min(seconds, 5), "/",
                                    form_page=True))
        accepted += warm_up["accepted"]
        for clients in client_counts:
            for case, hosts in (("spread", all_hosts), ("one tenant", all_hosts[1:2])):
                outcome = asyncio.run(_load(port, hosts, clients, seconds, "/", form_page=True))
                accepted += outcome.pop("accepted")
                result["signups"][f"{clients} {case}"] = outcome
                log(f"  sign-ups, {clients} clients, {case}: {outcome}")
        for clients in client_counts[:1]:  # what a new visitor's sign-up page costs beside count.json
            for path in ("/", "/count.json"):
                result["reads"][path] = asyncio.run(_reads(port, all_hosts, clients, seconds, path))
                log(f"  GET {path}, {clients} clients, spread: {result['reads'][path]}")
        tokens = api_tokens(urls, all_hosts) if client_counts else {}
        for clients in client_counts:
            outcome = asyncio.run(_api_load(port, tokens, clients, seconds))
            accepted += outcome.pop("accepted")
            result["api"][f"{clients} spread"] = outcome
            log(f"  API commitments, {clients} clients, spread: {outcome}")
        if closed:
            result["rate_limits"], limited = limits_on_and_off(port, all_hosts, client_counts[0], seconds, env)
            accepted += limited
            log(f"  sign-ups, {client_counts[0]} clients, spread, limits on and off: {result['rate_limits']}")
        if opened:
            result["open_loop"] = {}
            for name, kind, spread, start in SMOKE_OPEN_CASES if args.smoke else OPEN_CASES:
                result["open_loop"][name] = open_loop.search(
                    name, port, all_hosts if spread == "spread" else all_hosts[1:2], kind, start, **open_settings)
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare_closed, bare_open = bare_endpoint(env, urls, client_counts, seconds,
                                           {"start": 20 if args.smoke else 100, **open_settings} if opened else None)
    if closed:
        bare_runs.append(bare_closed)
        result["bare_runs"] = bare_runs
        result["bare"] = {clients: max((run[clients] for run in bare_runs), key=lambda outcome: outcome["per_second"])
                          for clients in bare_runs[0]}
        for clients in client_counts:
            result["pgbench_rows_per_second"][str(clients)] = round(pgbench(urls, clients, seconds), 1)
            log(f"  pgbench, {clients} clients: {result['pgbench_rows_per_second'][str(clients)]} rows/s")
    result["goals"] = []
    if closed:
        closed_loop_ratios(result, str(client_counts[0]))
    if opened:
        for case in result["open_loop"].values():
            accepted += case.pop("accepted")
            uncertain += case.pop("abandoned")
        bare_open.pop("accepted"), bare_open.pop("abandoned")  # rows of the bare table, not sign-ups
        result["open_loop"]["bare endpoint"] = bare_open
        open_loop_figures(result)
    result["stored_exactly_once"] = stored_exactly_once(urls, accepted, uncertain)
    recount = subprocess.run([sys.executable, "-m", "flask", "rollup", "recount"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    result["counts_equal_recount"] = recount.returncode == 0
    result["goals"] += [
        goal("every accepted sign-up stored exactly once", result["stored_exactly_once"],
             result["stored_exactly_once"]),
        goal("counts equal a recount", result["counts_equal_recount"], result["counts_equal_recount"]),
    ]
    write_results("signups", result, markdown)
    if not (result["stored_exactly_once"] and result["counts_equal_recount"]):
        raise SystemExit("correctness check failed: see the JSON result")


def closed_loop_ratios(result: dict, first: str) -> None:
    spread = result["signups"][f"{first} spread"]
    if not (spread["per_second"] and result["bare"][first]["per_second"]):
        raise SystemExit(f"no sign-up or bare insert succeeded: {result}")
    result["signup_vs_bare_ratio"] = round(spread["per_second"] / result["bare"][first]["per_second"], 3)
    result["signup_vs_pgbench_ratio"] = round(spread["per_second"] / result["pgbench_rows_per_second"][first], 3)
    result["one_tenant_vs_spread_ratio"] = round(
        result["signups"][f"{first} one tenant"]["per_second"] / spread["per_second"], 3)
    # The API's write path beside the form's, same server, same clients, spread.
    result["api_commitments_per_second"] = result["api"][f"{first} spread"]["per_second"]
    result["api_vs_form_ratio"] = round(result["api_commitments_per_second"] / spread["per_second"], 3)
    # The share of sign-up throughput the rate limits take, from the rounds with them on and off.
    result["rate_limits_cost"] = round(
        1 - result["rate_limits"]["limits on"]["per_second"] / result["rate_limits"]["limits off"]["per_second"], 3)
    # A new visitor's sign-up page (session, token, counts) beside the headline counts alone, both spread.
    result["page_vs_count_json_ratio"] = round(
        result["reads"]["/"]["per_second"] / result["reads"]["/count.json"]["per_second"], 3)
    result["goals"] += [
        goal(f"sign-ups / bare endpoint at {first} clients >= 0.8", result["signup_vs_bare_ratio"],
             result["signup_vs_bare_ratio"] >= 0.8),
        goal(f"sign-up p99 at {first} clients <= 100 ms (a person's wait, shed tries included)", spread["p99_ms"],
             spread["p99_ms"] <= 100),
        goal(f"launch day (one tenant) / spread at {first} clients >= 0.7", result["one_tenant_vs_spread_ratio"],
             result["one_tenant_vs_spread_ratio"] >= 0.7),
        goal(f"rate limits cost <= 15% of sign-ups at {first} clients, spread", result["rate_limits_cost"],
             result["rate_limits_cost"] <= 0.15),
    ]


def open_loop_figures(result: dict) -> None:
    """The open-loop maxima (rates a second at which p99 stays within 100 ms), their ratios and goals."""
    cases = result["open_loop"]
    person, post, bare = (cases[name]["max_rate_p99_100ms"]
                          for name in ("person, spread", "POST alone, spread", "bare endpoint"))
    result["person_max_rate_p99_100ms"] = person
    result["post_max_rate_p99_100ms"] = post
    result["bare_max_rate_p99_100ms"] = bare
    result["post_vs_bare_rate_ratio"] = round(post / bare, 3) if bare else None
    if "person, one tenant" in cases:
        one = cases["person, one tenant"]["max_rate_p99_100ms"]
        result["person_one_tenant_max_rate_p99_100ms"] = one
        result["person_one_tenant_vs_spread_ratio"] = round(one / person, 3) if person else None
    limited = [name for name, case in cases.items() if case["client_limited"]]
    result["goals"] += [
        goal("a person's visit (page, then POST): p99 <= 100 ms at >= 200 people/s, open loop", person,
             person >= 200),
        goal("the POST alone: rate at p99 <= 100 ms >= 0.5 x the bare endpoint's, open loop",
             result["post_vs_bare_rate_ratio"], (result["post_vs_bare_rate_ratio"] or 0) >= 0.5),
        goal(f"the open-loop client kept to its schedule (p99 lag <= {open_loop.LAG_P99_BOUND_MS:g} ms) "
             "up to each case's failure", ", ".join(limited) or "every case", not limited),
    ]


def markdown(result: dict) -> str:
    lines = markdown_header("Sign-ups under load", result)
    if result["signups"]:
        lines += [
            "## Closed loop", "",
            "A person's wait runs from their first try to the answer that stored them: shed tries and their "
            "`Retry-After` included, and anyone still waiting when the case ended counted with their wait so far. "
            "Served: the time of each request the server answered (not shed).", "",
            "| case | sign-ups/s | wait p50 ms | wait p99 ms | served p50 ms | served p99 ms | errors "
            "| shed (503) | still waiting at the end |", "|---|---|---|---|---|---|---|---|---|"]
        cases = [(f"sign-ups, {case}", value) for case, value in result["signups"].items()]
        cases += [(f"API commitments, {case}", value) for case, value in result.get("api", {}).items()]
        cases += [(f"bare insert endpoint, {clients} clients, {when}", value)
                  for when, run in zip(("before", "after"), result["bare_runs"]) for clients, value in run.items()]
        for case, value in cases:
            lines.append(f"| {case} | {value['per_second']} | {value['p50_ms']} | {value['p99_ms']} | "
                         f"{value['served_p50_ms']} | {value['served_p99_ms']} | {value['errors']} | {value['shed']} | "
                         f"{value['still_waiting_at_end']} |")
        for side, value in result["rate_limits"].items():
            lines.append(f"| sign-ups, {value['clients']} spread, {side} ({value['rounds']} rounds) | "
                         f"{value['per_second']} | | | | | {value['errors']} | | |")
        for clients, value in result["pgbench_rows_per_second"].items():
            lines.append(f"| pgbench, {clients} clients (at most 90) | {value} | | | | | | | |")
        for path, value in result.get("reads", {}).items():
            lines.append(f"| GET {path}, {value['clients']} new visitors at a time, spread (answers/s) | "
                         f"{value['per_second']} | | | {value['p50_ms']} | {value['p99_ms']} | {value['errors']} | "
                         f"{value['shed']} | |")
        lines += ["", "| ratio | value |", "|---|---|",
                  f"| `signup_vs_bare_ratio` | {result['signup_vs_bare_ratio']} |",
                  f"| `signup_vs_pgbench_ratio` | {result['signup_vs_pgbench_ratio']} |",
                  f"| `one_tenant_vs_spread_ratio` | {result['one_tenant_vs_spread_ratio']} |",
                  f"| `rate_limits_cost` | {result['rate_limits_cost']} |",
                  f"| `api_commitments_per_second` | {result['api_commitments_per_second']} |",
                  f"| `api_vs_form_ratio` | {result['api_vs_form_ratio']} |",
                  f"| `page_vs_count_json_ratio` | {result.get('page_vs_count_json_ratio')} |", ""]
    if "open_loop" in result:
        lines += [
            "## Open loop", "",
            "Visits arrive at the rate (Poisson), each on a new connection; latency runs from each visit's scheduled "
            "time to its last answer (a person's: the POST's; page: to the page's answer). Lag: how late the "
            "client started visits against their schedule; client CPU: the client's share of one core. Unanswered: "
            f"no answer {open_loop.DRAIN_SECONDS} s after the last arrival. `-`: the percentile fell on a "
            "visit not served.", "",
            "| case | rate/s | visits | served/s | p50 ms | p90 ms | p99 ms | max ms | page p99 ms | errors | shed "
            "| unanswered | lag p99 ms | client CPU | verdict |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        def show(value) -> str:
            return "-" if value is None else str(value)

        for name, case in result["open_loop"].items():
            for s in case["steps"]:
                lines.append(f"| {name} | {s['rate']} | {s['arrivals']} | {s['served_per_second']} | "
                             f"{show(s['p50_ms'])} | {show(s['p90_ms'])} | {show(s['p99_ms'])} | {show(s['max_ms'])} | "
                             f"{show(s.get('page_p99_ms', ''))} | {s['errors']} | {s['shed']} | {s['unanswered']} | "
                             f"{s['lag_p99_ms']} | {s['client_cpu_share']} | {s['verdict']} |")
        lines += ["", "| highest rate a second with p99 <= 100 ms | value |", "|---|---|"]
        lines += [f"| `{key}` | {result[key]} |" for key in (
            "person_max_rate_p99_100ms", "person_one_tenant_max_rate_p99_100ms", "post_max_rate_p99_100ms",
            "bare_max_rate_p99_100ms", "person_one_tenant_vs_spread_ratio", "post_vs_bare_rate_ratio")
            if key in result]
        lines.append("")
    return "\n".join(lines + markdown_goals(result["goals"]))


if __name__ == "__main__":
    main()
