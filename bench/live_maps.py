"""Benchmark of the live-map reads and streams, as in production: gunicorn with gevent workers,
PostgreSQL as the app role under row-level security, Redis for live updates.

    .venv/bin/python -m bench.live_maps                 # 10 thousand and 1 million commitments (minutes)
    .venv/bin/python -m bench.live_maps --smoke         # tiny sizes: checks that the benchmark works

Reads: for each population size, the latency (p50, p99) and throughput of ``count.json``, ``map.json`` and
``stats.json`` on the global site and on one tenant, and of that tenant's portal dashboard (``/portal/dashboard``,
the whole page, for an admin signed in through the break-glass sign-in). Each size has its own database and
its own server (one worker), all up at once, and the sizes take turns in rounds, so that the ratio of a large
size to a small one compares like with like on a machine whose speed varies from minute to minute.

Streams: 1,000, 5,000 and 10,000 open event streams on one tenant, served by two workers (the announcement
goes through Redis to both). At each step one sign-up is made and timed until every stream has shown it,
while other requests (``count.json``, from a separate process) are timed for the whole step, against 50 ms.

Results: ``bench/results/live-maps-<date>T<time>.json`` and ``.md``, the table also on stdout. The load comes from
this machine over loopback, so client and server share its cores: figures are upper bounds on latency.
"""

from __future__ import annotations

import asyncio
import http.client
import multiprocessing
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timezone
from urllib.parse import urlencode

import pyotp

from bench.common import (BASE_DOMAIN, MAX_IN_FLIGHT, MAX_SERVING, ROOT, environment, free_port, goal, log, machine,
                          markdown_goals, markdown_header, parse_arguments, percentile_ms, populate, prepare_database,
                          start_server, write_results)

READ_WORKERS, STREAM_WORKERS = 1, 2
READ_CLIENTS, READ_ROUNDS = 8, 5
WARM_UP_REQUESTS = 10
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.org", "bench-admin-password"
READ_PATHS = ("/count.json", "/map.json", "/stats.json")
DASHBOARD = "/portal/dashboard"


def timed_gets(port: int, host: str, path: str, clients: int, requests: int = 0, seconds: float = 0,
               cookie: str = "") -> tuple[list[float], float]:
    """GET ``path`` over ``clients`` keep-alive connections: ``requests`` in all, or as many as fit in
    ``seconds``; ``cookie`` is sent when given (a signed-in session). Returns each request's time and the
    time the timed requests took. Each connection's first ``WARM_UP_REQUESTS`` are not timed: they pay for the
    client's threads and connections starting together, which a page's reader never waits for."""
    headers = {"Host": host, **({"Cookie": cookie} if cookie else {})}
    per_client = max(1, requests // clients)

    def run(_):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def get() -> None:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} on {host}: HTTP {response.status}")

        for _ in range(WARM_UP_REQUESTS):
            get()
        timings = []
        began = time.perf_counter()
        until = began + seconds
        while (time.perf_counter() < until) if seconds else (len(timings) < per_client):
            started = time.perf_counter()
            get()
            timings.append(time.perf_counter() - started)
        ended = time.perf_counter()
        connection.close()
        return timings, began, ended

    with ThreadPoolExecutor(clients) as pool:
        runs = list(pool.map(run, range(clients)))
    timings = [t for batch, _, _ in runs for t in batch]
    return timings, max(ended for _, _, ended in runs) - min(began for _, began, _ in runs)


def summary(timings: list[float], elapsed: float, clients: int) -> dict:
    return {"requests": len(timings), "clients": clients, "per_second": round(len(timings) / elapsed, 1),
            "p50_ms": percentile_ms(timings, 0.5), "p99_ms": percentile_ms(timings, 0.99),
            "max_ms": round(max(timings) * 1000, 2)}


def measure(port: int, host: str, path: str, clients: int, requests: int = 0, seconds: float = 0,
            cookie: str = "") -> dict:
    """Latency and throughput of GET ``path`` (see ``timed_gets``)."""
    return summary(*timed_gets(port, host, path, clients, requests, seconds, cookie), clients)


def submit_form(port: int, host: str, path: str, fields: dict) -> http.client.HTTPResponse:
    """Fill in a real form: GET ``path`` for its session cookie and CSRF token, then POST ``fields`` with
    them. Returns the answer to the POST (read)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    connection.request("POST", path, body=urlencode({"csrf_token": token, **fields}), headers={
        "Host": host, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def sign_in_admin(env: dict, port: int, host: str) -> str:
    """Make an admin of ``host``'s tenant and sign in as the portal does when the identity provider is down
    (password and TOTP code); returns the session cookie."""
    slug = host.split(".")[0]
    made = subprocess.run([sys.executable, "-m", "flask", "sso", "break-glass", slug, "--email", ADMIN_EMAIL,
                           "--password", ADMIN_PASSWORD], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    secret = re.search(r"secret=([A-Z2-7]+)", made.stdout).group(1)
    response = submit_form(port, host, "/portal/sign-in", {
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "code": pyotp.TOTP(secret).now()})
    if response.status != 303:
        raise RuntimeError(f"break-glass sign-in answered HTTP {response.status}")
    return response.getheader("Set-Cookie").split(";")[0]


async def open_stream(port: int, host: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /live HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    while b"event: totals" not in await reader.readline():
        pass
    await reader.readline()  # the data line
    return reader, writer


async def next_event(reader) -> float:
    while True:
        line = await reader.readline()
        if line.startswith(b"data: "):
            return time.perf_counter()
        if not line:
            raise RuntimeError("stream closed")


def sign_up(port: int, host: str, email: str) -> None:
    """One commitment through the real form, CSRF token and all."""
    response = submit_form(port, host, "/", {"email": email, "gender": "man", "country": "FR", "consent": "y"})
    if response.status != 303:
        raise RuntimeError(f"sign-up answered HTTP {response.status}")


async def streams_step(port: int, host: str, count: int, streams: list, others_pool, others_seconds: float) -> dict:
    """Grow to ``count`` open streams; time one sign-up until all of them show it, and other requests for
    ``others_seconds`` around it."""
    opening = time.perf_counter()
    while len(streams) < count:
        streams += await asyncio.gather(*(open_stream(port, host) for _ in range(min(200, count - len(streams)))))
    opened = time.perf_counter() - opening
    loop = asyncio.get_running_loop()
    # In another process, so that reading thousands of streams here does not hold up its clients.
    others = loop.run_in_executor(others_pool, measure, port, host, "/count.json", 4, 0, others_seconds)
    await asyncio.sleep(others_seconds / 3)
    waits = [asyncio.create_task(next_event(reader)) for reader, _ in streams]
    started = time.perf_counter()
    await loop.run_in_executor(None, sign_up, port, host, f"live{count}@example.org")
    arrivals = await asyncio.wait_for(asyncio.gather(*waits), timeout=30)
    others = await others
    return {"streams": count, "seconds_to_open": round(opened, 1),
            "sign_up_to_all_streams_ms": round((max(arrivals) - started) * 1000, 1),
            "count_json_requests": others["requests"], "count_json_p50_ms": others["p50_ms"],
            "count_json_p99_ms": others["p99_ms"], "count_json_max_ms": others["max_ms"]}


async def stream_capacity(port: int, host: str, steps: list[int], others_seconds: float) -> list[dict]:
    streams: list = []
    results = []
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as others_pool:
        try:
            for count in steps:
                try:
                    result = await streams_step(port, host, count, streams, others_pool, others_seconds)
                except (OSError, RuntimeError, asyncio.TimeoutError) as error:
                    results.append({"streams": count, "error": f"{type(error).__name__}: {error}"})
                    break
                log(f"  {count} streams: {result}")
                results.append(result)
        finally:
            for _, writer in streams:
                writer.close()
    return results


def read_side_by_side(servers: dict, envs: dict, requests: int) -> dict:
    """Every read case against every size's server, the sizes taking turns round by round, so that a slow
    moment of this machine falls on all of them alike. Returns the figures by size."""
    tenant_host = f"org1.{BASE_DOMAIN}"
    admins = {size: sign_in_admin(envs[size], port, tenant_host) for size, (port, _) in servers.items()}
    cases = [("global", BASE_DOMAIN, path) for path in READ_PATHS]
    cases += [("tenant", tenant_host, path) for path in (*READ_PATHS, DASHBOARD)]
    reads: dict = {size: {} for size in servers}
    for site, host, path in cases:
        cookies = {size: admins[size] if path == DASHBOARD else "" for size in servers}
        timings: dict = {size: [] for size in servers}
        elapsed = dict.fromkeys(servers, 0.0)
        for _ in range(READ_ROUNDS):
            for size, (port, _) in servers.items():
                batch, seconds = timed_gets(port, host, path, READ_CLIENTS, requests // READ_ROUNDS,
                                            cookie=cookies[size])
                timings[size] += batch
                elapsed[size] += seconds
        for size in servers:
            reads[size][f"{site} {path}"] = summary(timings[size], elapsed[size], READ_CLIENTS)
            log(f"  {size:,} {site} {path}: {reads[size][f'{site} {path}']}")
    return reads


def main() -> None:
    args = parse_arguments(__doc__)
    sizes = args.commitments or ([300, 1_000] if args.smoke else [10_000, 1_000_000])
    tenants = args.tenants or (5 if args.smoke else 100)
    steps = args.streams or ([20, 50] if args.smoke else [1_000, 5_000, 10_000])
    requests = 100 if args.smoke else 5_000
    others_seconds = 1.5 if args.smoke else 5
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "smoke": args.smoke,
              "settings": {"reads": f"each size in its own database, served by its own gunicorn (gevent worker "
                                    f"class, {READ_WORKERS} worker) at the same time; {requests:,} requests per "
                                    f"endpoint and size over {READ_CLIENTS} keep-alive clients (threads), in "
                                    f"{READ_ROUNDS} rounds in which the sizes take turns; each connection's first "
                                    f"{WARM_UP_REQUESTS} requests not timed",
                           "streams": f"gunicorn, gevent worker class, {STREAM_WORKERS} workers, 20,000 worker "
                                      "connections; streams opened 200 at a time (asyncio); other requests: "
                                      f"count.json over 4 clients from another process for {others_seconds} s "
                                      "around the sign-up",
                           "admission": f"MAX_SERVING={MAX_SERVING} per worker, the others in arrival order; "
                                        f"MAX_IN_FLIGHT={MAX_IN_FLIGHT} (streams neither counted nor queued)",
                           "population": f"{tenants} tenants; commitments as in the tables",
                           "database": "PostgreSQL, app role under row-level security", "live": "Redis pub/sub",
                           "tenant dashboard": f"{DASHBOARD} (the whole HTML page) for an admin of the tenant, "
                                               "signed in by the break-glass sign-in"},
              "reads": {}, "streams": []}
    envs, load_seconds, servers = {}, {}, {}
    for number, size in enumerate(sizes):
        log(f"populating {size:,} commitments over {tenants} tenants ...")
        urls = prepare_database(args.database, f"hfs_bench_reads_{number}")
        envs[size] = environment(urls, args.redis)
        if "machine" not in result:
            result["machine"] = machine(urls["admin"], args.redis)
        load_seconds[size] = populate(urls, envs[size], tenants, size)
    try:
        for size in sizes:
            port = free_port()
            servers[size] = (port, start_server(envs[size], port, workers=READ_WORKERS))
        reads = read_side_by_side(servers, envs, requests)
    finally:
        for _, server in servers.values():
            server.send_signal(signal.SIGQUIT)
            server.wait(timeout=30)
    result["reads"] = {str(size): {"load_seconds": round(load_seconds[size], 1), **reads[size]} for size in sizes}
    log(f"open streams on {STREAM_WORKERS} workers ...")
    port = free_port()
    server = start_server(envs[sizes[-1]], port, workers=STREAM_WORKERS)
    try:
        time.sleep(3)  # each worker builds its place table at start
        result["streams"] = asyncio.run(stream_capacity(port, f"org1.{BASE_DOMAIN}", steps, others_seconds))
    finally:
        server.send_signal(signal.SIGQUIT)  # quick shutdown: open streams need not drain
        server.wait(timeout=30)
    result["goals"] = goals(result, sizes, steps)
    write_results("live-maps", result, markdown)


def goals(result: dict, sizes: list[int], steps: list[int]) -> list[dict]:
    small, large = (result["reads"][str(size)] for size in (sizes[0], sizes[-1]))
    found = []
    # The read goals are the count and map reads'; the dashboard page is measured and reported beside them.
    for key in (key for key in small if key not in ("load_seconds", f"tenant {DASHBOARD}")):
        worst = max(small[key]["p99_ms"], large[key]["p99_ms"])
        found.append(goal(f"{key} p99 <= 20 ms at both sizes", worst, worst <= 20))
        ratio = round(large[key]["p99_ms"] / small[key]["p99_ms"], 2)
        found.append(goal(f"{key} p99 at {sizes[-1]:,} / at {sizes[0]:,} <= 1.2", ratio, ratio <= 1.2))
    middle = steps[len(steps) // 2]
    for step in result["streams"]:
        if "error" in step:
            found.append(goal(f"{step['streams']:,} streams held", step["error"], False))
            continue
        if step["streams"] == middle:
            found.append(goal(f"a sign-up shown on all {middle:,} streams within 2 s",
                              f"{step['sign_up_to_all_streams_ms']} ms", step["sign_up_to_all_streams_ms"] <= 2000))
        found.append(goal(f"other requests (count.json) p99 < 50 ms with {step['streams']:,} streams open",
                          f"{step['count_json_p99_ms']} ms", step["count_json_p99_ms"] < 50))
    return found


def markdown(result: dict) -> str:
    lines = markdown_header("Live maps: reads and streams", result)
    lines += ["| commitments | site | endpoint | req/s | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|---|---|"]
    for size, reads in result["reads"].items():
        for key, value in reads.items():
            if key != "load_seconds":
                site, path = key.split(" ")
                lines.append(f"| {int(size):,} | {site} | {path} | {value['per_second']} | {value['p50_ms']} "
                             f"| {value['p99_ms']} | {value['max_ms']} |")
    lines += ["", "| open streams | seconds to open | sign-up shown on all streams, ms "
              "| count.json meanwhile: requests | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|---|---|"]
    for step in result["streams"]:
        if "error" in step:
            lines.append(f"| {step['streams']:,} | failed: {step['error']} | | | | | |")
        else:
            lines.append(f"| {step['streams']:,} | {step['seconds_to_open']} | {step['sign_up_to_all_streams_ms']} | "
                         f"{step['count_json_requests']} | {step['count_json_p50_ms']} | {step['count_json_p99_ms']} | "
                         f"{step['count_json_max_ms']} |")
    return "\n".join(lines + [""] + markdown_goals(result["goals"]))


if __name__ == "__main__":
    main()
