"""Benchmark of the live-map reads and streams, as in production: gunicorn with gevent workers,
PostgreSQL as the app role under row-level security, Redis for live updates.

    .venv/bin/python -m bench.live_maps                 # 10 thousand and 1 million commitments (minutes)
    .venv/bin/python -m bench.live_maps --smoke         # tiny sizes: checks that the benchmark works

It measures, for each population size, the latency (p50, p99) and throughput of ``count.json``,
``map.json`` and ``stats.json`` on the global site and on one tenant; then how many open event streams
one worker holds while ordinary requests still answer in under 50 ms, and how long a sign-up takes to
reach every open stream. Results: a JSON file under ``bench/results/`` and a Markdown table on stdout.

The load comes from this process over loopback (threads with keep-alive connections for requests, asyncio
for streams), so client and server share the machine's cores: figures are upper bounds on latency.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BASE_DOMAIN = "bench.test"
OWNER, APP = "hfs_owner", "hfs_app"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_database(admin_url: str) -> dict:
    """A fresh database with the production split of roles; returns the URLs."""
    admin = make_url(admin_url)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for role in (OWNER, APP):
            if not connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
                connection.execute(sa.text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
        connection.execute(sa.text("DROP DATABASE IF EXISTS hfs_bench WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE hfs_bench OWNER {OWNER}"))
    engine.dispose()
    url = lambda role: admin.set(username=role, password=None, database="hfs_bench").render_as_string(False)
    return {"app": url(APP), "owner": url(OWNER), "admin": admin.set(database="hfs_bench").render_as_string(False)}


def environment(urls: dict, redis_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": urls["app"], "MIGRATION_DATABASE_URL": urls["owner"],
            "DATABASE_APP_ROLE": APP, "BASE_DOMAIN": BASE_DOMAIN, "REDIS_URL": redis_url,
            "SECRET_KEY": "bench-" + "x" * 40, "APP_ENV": "production", "SESSION_COOKIE_SECURE": "0",
            "FLASK_APP": "wsgi"}


def populate(urls: dict, env: dict, tenants: int, commitments: int) -> float:
    """Tenants with units through the app's own services, then commitments in bulk (as a superuser, in
    SQL), then the tallies rebuilt by the app's recount. Returns the seconds it took."""
    started = time.monotonic()
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    script = (
        "from core.app import create_app; from core.extensions import db; from core.tenancy import tenant_context\n"
        "from tenants import services; from tenants.models import TenantKind, Unit, UnitKind\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        f"    for n in range({tenants}):\n"
        "        t = services.create_tenant(f'org{n}', f'Organisation {n}', TenantKind.CORPORATION)\n"
        "        with tenant_context(t):\n"
        "            for u in range(5):\n"
        "                db.session.add(Unit(name=f'Office {u}', kind=UnitKind.OFFICE, country_code='FR',\n"
        "                                    latitude=48.0 + u, longitude=2.0 + u))\n"
        "            db.session.flush()\n"
        "    db.session.commit()\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    engine = sa.create_engine(urls["admin"])
    countries = ["FR", "KE", "BR", "IN", "US", "JP", "EG", "MX", "NG", "CN", "GB", "DE", "RU", "SA", "ZA", "AR"]
    genders = ["man", "man", "man", "woman", "woman", "non_binary", "undisclosed"]
    with engine.begin() as connection:
        connection.execute(sa.text("""
            INSERT INTO members (tenant_id, id, email, email_canonical, role, created_at)
            SELECT 1 + (n % :tenants), gen_random_uuid(), 'p' || n || '@example.org', 'p' || n || '@example.org',
                   'member', now() - (n % 365) * interval '1 day'
            FROM generate_series(1, :n) AS n"""), {"tenants": tenants, "n": commitments})
        connection.execute(sa.text("""
            INSERT INTO commitments (tenant_id, id, member_id, gender, country_code, unit_id, source, language,
                                     consent_version, name_public, verified, created_at)
            SELECT m.tenant_id, gen_random_uuid(), m.id, (CAST(:genders AS text[]))[1 + abs(hashtext(m.email)) % :g],
                   (CAST(:countries AS text[]))[1 + abs(hashtext(m.email || 'c')) % :c],
                   (SELECT u.id FROM units u WHERE u.tenant_id = m.tenant_id
                    ORDER BY u.id OFFSET abs(hashtext(m.email || 'u')) % 5 LIMIT 1),
                   'web', 'en', '2026-11', false, false, m.created_at
            FROM members m"""), {"genders": genders, "g": len(genders), "countries": countries,
                                 "c": len(countries)})
    engine.dispose()
    subprocess.run([*flask, "rollup", "recount", "--repair"], cwd=ROOT, env=env, capture_output=True)
    check = subprocess.run([*flask, "rollup", "recount"], cwd=ROOT, env=env, capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"the tallies do not match a recount after loading:\n{check.stdout}{check.stderr}")
    return time.monotonic() - started


def raise_open_file_limit() -> None:
    """Thousands of streams need thousands of sockets, on both ends (inherited by the server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def start_server(env: dict, port: int, workers: int) -> subprocess.Popen:
    log_file = open(RESULTS / f"gunicorn-{port}.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", str(workers),
         "--worker-connections", "20000", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start: see bench/results/gunicorn-*.log")


def measure(port: int, host: str, path: str, requests: int, clients: int) -> dict:
    """Latency and throughput of GET ``path`` with ``clients`` keep-alive connections."""
    per_client = max(1, requests // clients)

    def run(_):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        timings = []
        for _ in range(per_client):
            started = time.perf_counter()
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} on {host}: HTTP {response.status}")
            timings.append(time.perf_counter() - started)
        connection.close()
        return timings

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        timings = sorted(t for batch in pool.map(run, range(clients)) for t in batch)
    elapsed = time.perf_counter() - started
    return {"requests": len(timings), "clients": clients, "per_second": round(len(timings) / elapsed, 1),
            "p50_ms": round(timings[len(timings) // 2] * 1000, 2),
            "p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 2)}


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


async def streams_step(port: int, host: str, count: int, streams: list) -> dict:
    """Grow to ``count`` open streams; measure other requests meanwhile, and a sign-up's arrival."""
    while len(streams) < count:
        batch = min(200, count - len(streams))
        streams += await asyncio.gather(*(open_stream(port, host) for _ in range(batch)))
    loop = asyncio.get_running_loop()
    others = await loop.run_in_executor(None, measure, port, host, "/count.json", 200, 4)
    waits = [asyncio.create_task(next_event(reader)) for reader, _ in streams]
    started = time.perf_counter()
    await loop.run_in_executor(None, sign_up, port, host, f"live{count}@example.org")
    arrivals = await asyncio.wait_for(asyncio.gather(*waits), timeout=30)
    return {"streams": count, "count_json_p50_ms": others["p50_ms"], "count_json_p99_ms": others["p99_ms"],
            "sign_up_to_all_streams_ms": round((max(arrivals) - started) * 1000, 1)}


def sign_up(port: int, host: str, email: str) -> None:
    """One commitment through the real form, CSRF token and all."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/", headers={"Host": host})
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    body = f"csrf_token={token}&email={email}&gender=man&country=FR&consent=y"
    connection.request("POST", "/", body=body, headers={
        "Host": host, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    if response.status != 303:
        raise RuntimeError(f"sign-up answered HTTP {response.status}")
    connection.close()


async def stream_capacity(port: int, host: str, steps: list[int]) -> list[dict]:
    streams: list = []
    results = []
    try:
        for count in steps:
            try:
                result = await streams_step(port, host, count, streams)
            except (OSError, RuntimeError, asyncio.TimeoutError) as error:
                results.append({"streams": count, "error": str(error)})
                break
            log(f"  {count} streams: count.json p99 {result['count_json_p99_ms']} ms, "
                f"sign-up on every stream after {result['sign_up_to_all_streams_ms']} ms")
            results.append(result)
            if result["count_json_p99_ms"] > 50:
                break
    finally:
        for _, writer in streams:
            writer.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    raise_open_file_limit()
    sizes = [300, 1_000] if args.smoke else [10_000, 1_000_000]
    tenants = 5 if args.smoke else 100
    steps = [20, 50] if args.smoke else [500, 1_000, 2_000, 4_000, 6_000, 8_000]
    requests = 100 if args.smoke else 2_000
    RESULTS.mkdir(parents=True, exist_ok=True)

    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "smoke": args.smoke,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "system": platform.platform()},
              "server": "gunicorn, gevent worker class, 1 worker; PostgreSQL as the app role with row-level security;"
                        " Redis pub/sub", "reads": {}, "streams": []}
    for size in sizes:
        log(f"populating {size:,} commitments over {tenants} tenants ...")
        urls = prepare_database(args.database)
        env = environment(urls, args.redis)
        load_seconds = populate(urls, env, tenants, size)
        port = free_port()
        server = start_server(env, port, workers=1)
        try:
            reads = {"load_seconds": round(load_seconds, 1)}
            for site in ("global", "tenant"):
                host = BASE_DOMAIN if site == "global" else f"org1.{BASE_DOMAIN}"
                for path in ("/count.json", "/map.json", "/stats.json"):
                    measure(port, host, path, 50, 2)  # warm up
                    reads[f"{site} {path}"] = measure(port, host, path, requests, 8)
                    log(f"  {size:,} {site} {path}: {reads[f'{site} {path}']}")
            result["reads"][str(size)] = reads
            if size == sizes[-1]:
                log("open streams on one worker ...")
                result["streams"] = asyncio.run(stream_capacity(port, f"org1.{BASE_DOMAIN}", steps))
        finally:
            server.send_signal(signal.SIGQUIT)  # quick shutdown: open streams need not drain
            server.wait(timeout=30)

    name = f"live-maps-{'smoke-' if args.smoke else ''}{datetime.now(timezone.utc):%Y-%m-%d}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    log(f"written: bench/results/{name}")


def markdown(result: dict) -> str:
    lines = ["| commitments | site | endpoint | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for size, reads in result["reads"].items():
        for key, value in reads.items():
            if key != "load_seconds":
                site, path = key.split(" ")
                lines.append(f"| {int(size):,} | {site} | {path} | {value['per_second']} | {value['p50_ms']} "
                             f"| {value['p99_ms']} |")
    lines += ["", "| open streams (one worker) | count.json p50 ms | p99 ms | sign-up reaches all streams ms |",
              "|---|---|---|---|"]
    for step in result["streams"]:
        if "error" in step:
            lines.append(f"| {step['streams']} | failed: {step['error']} | | |")
        else:
            lines.append(f"| {step['streams']} | {step['count_json_p50_ms']} | {step['count_json_p99_ms']} | "
                         f"{step['sign_up_to_all_streams_ms']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
