"""What the benchmarks share: a fresh database with the production roles, a generated population, and
the product served by gunicorn as in production."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.snapshots.keys import load_signing_key

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCRATCH = Path(tempfile.gettempdir()) / "hfs-bench"  # server logs, pgbench script, profiles: never committed
BASE_DOMAIN = "bench.test"
OWNER, APP = "hfs_owner", "hfs_app"
# The product's admission settings (core/load_shedding.py), per worker, as docs/operations.md recommends. A sign-up costs
# a worker about 2.5 ms of CPU here: serving 2 at once keeps it busy while the database answers the other, and
# the rest wait in arrival order. At 32 kept-alive clients (8 s runs), serving 2 gave 441-449 sign-ups/s with
# p99 147-162 ms; 4 gave 417/287 and 8 gave 433/314 with p99 up to 180 ms; all at once (no limit) 395-400 with
# p99 211-247 ms. Shedding sits far above every case here: a browser that holds a place comes back at once on
# its open connection, so one shed and retrying after Retry-After can find the worker full again (at 6 in flight,
# 20 of 32 kept-alive clients were never served).
MAX_SERVING, MAX_IN_FLIGHT = 2, 500


def percentile_ms(seconds: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0.5 for the median, 0.99 for p99) of times in seconds, in ms."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    return round(ordered[max(0, math.ceil(len(ordered) * share) - 1)] * 1000, 2)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


async def read_response(reader) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 answer: status, headers (lower-case names) and body."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the server closed the connection")
    status = int(status_line.split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return status, headers, body


async def connect_with_form(port: int, host: str, form_page: bool = True) -> tuple:
    """A connection, with the form's session cookie and CSRF token when ``form_page``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cookie, token = "", b""
    while form_page and not token:
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status, headers, body = await read_response(reader)
        if status == 503:
            await asyncio.sleep(float(headers.get("retry-after", 1)))
            continue
        cookie = headers["set-cookie"].split(";")[0]
        token = TOKEN.search(body).group(1)
    return reader, writer, port, host, cookie, token


def prepare_database(admin_url: str, name: str = "hfs_bench") -> dict:
    """A fresh database ``name`` with the production split of roles; returns the URLs."""
    admin = make_url(admin_url)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for role in (OWNER, APP):
            if not connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
                connection.execute(sa.text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name} OWNER {OWNER}"))
    engine.dispose()
    url = lambda role: admin.set(username=role, password=None, database=name).render_as_string(False)
    return {"app": url(APP), "owner": url(OWNER), "admin": admin.set(database=name).render_as_string(False)}


def _snapshot_signing_key() -> Path:
    """The key the benchmark's servers sign snapshots with (production mode refuses to start without one)."""
    path = SCRATCH / "snapshot-signing-key.pem"
    load_signing_key(str(path), create=True)
    return path


def environment(urls: dict, redis_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": urls["app"], "MIGRATION_DATABASE_URL": urls["owner"],
            "DATABASE_APP_ROLE": APP, "BASE_DOMAIN": BASE_DOMAIN, "REDIS_URL": redis_url,
            "SECRET_KEY": "bench-" + "x" * 40, "APP_ENV": "production", "SESSION_COOKIE_SECURE": "0",
            "ENCRYPTION_KEYS": base64.urlsafe_b64encode(b"bench-only-key".ljust(32, b"-")).decode(),
            "PEOPLE_PEPPER": "bench-pepper-" + "p" * 40,
            # The sign-up limits are counted in Redis as in production, but set far above what the benchmark's
            # clients (all on one loopback network, one domain) send, so that they cost what they cost and refuse
            # nothing.
            "SIGNUP_RATE_LIMIT_NETWORK": "10000000 per minute", "SIGNUP_RATE_LIMIT_TENANT": "10000000 per minute",
            "SIGNUP_RATE_LIMIT_DOMAIN": "10000000 per minute",
            "API_RATE_LIMIT": "10000000 per minute",
            "MAX_SERVING": str(MAX_SERVING), "MAX_IN_FLIGHT": str(MAX_IN_FLIGHT), "FLASK_APP": "wsgi",
            "SNAPSHOT_SIGNING_KEY": str(_snapshot_signing_key())}


COMMITMENT_BATCH = 100_000
COUNTRIES = ["FR", "KE", "BR", "IN", "US", "JP", "EG", "MX", "NG", "CN", "GB", "DE", "RU", "SA", "ZA", "AR"]
GENDERS = ["man", "man", "man", "woman", "woman", "non_binary", "undisclosed"]
# People numbered first..last, each a member with one commitment, spread over the tenants, their units, a
# year of days, countries and genders (tenant ids are 1..tenants in a fresh database).
_ADD_PEOPLE = sa.text("""
    WITH added AS (
        INSERT INTO members (tenant_id, id, email, email_canonical, role, created_at)
        SELECT 1 + (n % :tenants), gen_random_uuid(), 'p' || n || '@example.org', 'p' || n || '@example.org',
               'member', now() - (n % 365) * interval '1 day'
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n
        RETURNING tenant_id, id, email, created_at)
    INSERT INTO commitments (tenant_id, id, member_id, gender, country_code, unit_id, source, language,
                             consent_version, name_public, verified, created_at)
    SELECT m.tenant_id, gen_random_uuid(), m.id, (CAST(:genders AS text[]))[1 + abs(hashtext(m.email)) % :g],
           (CAST(:countries AS text[]))[1 + abs(hashtext(m.email || 'c')) % :c],
           (SELECT u.id FROM units u WHERE u.tenant_id = m.tenant_id
            ORDER BY u.id OFFSET abs(hashtext(m.email || 'u')) % 5 LIMIT 1),
           'web', 'en', '2026-11', false, false, m.created_at
    FROM added m""")


def populate(urls: dict, env: dict, tenants: int, commitments: int) -> float:
    """Tenants with units through the app's own services, then commitments in bulk (as a superuser, in
    SQL), then the tallies rebuilt by the app's recount, then a vacuum. Returns the seconds it took."""
    started = time.monotonic()
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    log(f"  {tenants:,} tenants with 5 units each ...")
    script = (
        "import sys\n"
        "from core.app import create_app; from core.extensions import db; from core.tenancy import tenant_context\n"
        "from tenants.models import TenantKind, Unit, UnitKind; from tenants.services import registry\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        f"    for n in range({tenants}):\n"
        "        t = registry.create_tenant(f'org{n}', f'Organisation {n}', TenantKind.CORPORATION)\n"
        "        with tenant_context(t):\n"
        "            for u in range(5):\n"
        "                db.session.add(Unit(name=f'Office {u}', kind=UnitKind.OFFICE, country_code='FR',\n"
        "                                    latitude=48.0 + u, longitude=2.0 + u))\n"
        "            db.session.flush()\n"
        f"        if (n + 1) % {max(1, tenants // 10)} == 0:\n"
        f"            print(f'    {{n + 1:,}} / {tenants:,}', file=sys.stderr, flush=True)\n"
        "    db.session.commit()\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    engine = sa.create_engine(urls["admin"])
    log(f"  {commitments:,} commitments ...")
    for first in range(1, commitments + 1, COMMITMENT_BATCH):
        last = min(first + COMMITMENT_BATCH - 1, commitments)
        with engine.begin() as connection:
            connection.execute(_ADD_PEOPLE, {"tenants": tenants, "first": first, "last": last,
                                             "genders": GENDERS, "g": len(GENDERS),
                                             "countries": COUNTRIES, "c": len(COUNTRIES)})
        log(f"    {last:,} / {commitments:,} ({time.monotonic() - started:.0f} s)")
    engine.dispose()
    if not commitments:  # no commitments, no tallies: nothing to rebuild
        return time.monotonic() - started
    log("  tallies rebuilt by `flask rollup recount --repair`, then checked ...")
    subprocess.run([*flask, "rollup", "recount", "--repair"], cwd=ROOT, env=env, capture_output=True)
    check = subprocess.run([*flask, "rollup", "recount"], cwd=ROOT, env=env, capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"the tallies do not match a recount after loading:\n{check.stdout}{check.stderr}")
    log("  VACUUM (ANALYZE) ...")
    # Now rather than by autovacuum over the fresh rows in the middle of a measurement.
    engine = sa.create_engine(urls["admin"], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("VACUUM (ANALYZE)"))
    engine.dispose()
    return time.monotonic() - started


def raise_open_file_limit() -> None:
    """Thousands of streams need thousands of sockets, on both ends (inherited by the server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def gunicorn_command(port: int, workers: int, app: str = "wsgi:app") -> list[str]:
    """The production command line (docs/operations.md), on loopback; without gunicorn's control socket, whose one shared
    path every other instance on the machine would overwrite."""
    return [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", str(workers),
            "--worker-connections", "20000", "--bind", f"127.0.0.1:{port}", "--no-control-socket", app]


def start_server(env: dict, port: int, workers: int) -> subprocess.Popen:
    SCRATCH.mkdir(exist_ok=True)
    log_file = open(SCRATCH / f"gunicorn-{port}.log", "w")
    process = subprocess.Popen(gunicorn_command(port, workers), cwd=ROOT, env=env, stdout=log_file,
                               stderr=log_file)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start: see {log_file.name}")


def _counts(text: str) -> list[int]:
    counts = [int(part.replace("_", "")) for part in text.split(",")]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give whole numbers above 0, separated by commas")
    return counts


def _tenants(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError("at least 2 tenants: one of them is the launch-day tenant")
    return int(text)


def parse_arguments(doc: str) -> argparse.Namespace:
    """The options every benchmark takes; raises the open file limit. Sizes left unset take each benchmark's
    defaults (smaller with ``--smoke``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--tenants", type=_tenants, help="tenants generated (default 100)")
    parser.add_argument("--commitments", type=_counts, metavar="N[,N...]",
                        help="commitments generated: the reads are measured at each size (default 10000,1000000); "
                             "the sign-ups load the first (default 10000)")
    parser.add_argument("--streams", type=_counts, metavar="N[,N...]",
                        help="open streams at each step (default 1000,5000,10000)")
    parser.add_argument("--seconds", type=int,
                        help="seconds per sign-up case (default 15) and per open-loop step (default 10)")
    parser.add_argument("--loop", choices=("closed", "open", "both"), default="both",
                        help="the sign-up cases to run: closed loops, open-loop rate steps, or both (default)")
    args = parser.parse_args()
    raise_open_file_limit()
    return args


def machine(admin_url: str, redis_url: str) -> dict:
    """What the figures were measured on: processor, memory, versions, and how busy the machine was."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    meminfo = Path("/proc/meminfo").read_text()
    engine = sa.create_engine(admin_url)
    with engine.connect() as connection:
        postgresql = connection.scalar(sa.text("SHOW server_version"))
    engine.dispose()
    return {
        "cpu": next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                    platform.processor()),
        "cores": os.cpu_count(),
        "memory_gb": round(int(meminfo.split("MemTotal:")[1].split()[0]) / 2**20, 1),
        "system": platform.platform(),
        "versions": {"python": platform.python_version(), "postgresql": postgresql,
                     "redis": redis.Redis.from_url(redis_url).info("server")["redis_version"],
                     **{name: metadata.version(name)
                        for name in ("gunicorn", "gevent", "flask", "sqlalchemy", "psycopg")}},
        "load_average_at_start": [round(n, 2) for n in os.getloadavg()],
    }


def markdown_header(title: str, result: dict) -> list[str]:
    """The Markdown lines every result starts with: machine, versions, settings."""
    m = result["machine"]
    lines = [f"# {title}", "", f"Run at {result['date']}" + (" (smoke run: tiny sizes, not a measurement)"
                                                            if result["smoke"] else "") + ".", "",
             "| machine | |", "|---|---|", f"| CPU | {m['cpu']} |", f"| cores | {m['cores']} |",
             f"| memory | {m['memory_gb']} GB |", f"| system | {m['system']} |",
             f"| versions | {', '.join(f'{k} {v}' for k, v in m['versions'].items())} |",
             f"| load average (1, 5, 15 min) at start / end | {m['load_average_at_start']} / "
             f"{m['load_average_at_end']} |", "", "| setting | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in result["settings"].items()]
    return lines + [""]


def goal(description: str, value, met: bool) -> dict:
    return {"goal": description, "value": value, "met": met}


def markdown_goals(goals: list[dict]) -> list[str]:
    return ["| goal | measured | met |", "|---|---|---|"] + [
        f"| {g['goal']} | {g['value']} | {'yes' if g['met'] else '**no**'} |" for g in goals] + [""]


def write_results(name: str, result: dict, render) -> None:
    """A full run goes to ``bench/results/<name>-<date>T<hour><minute>.json`` and ``.md`` (``render(result)``), so
    that runs of one day stand side by side; a smoke run to ``<name>-smoke.*`` (ignored by git), so it never
    passes for a measurement."""
    result["machine"]["load_average_at_end"] = [round(n, 2) for n in os.getloadavg()]
    markdown = render(result)
    stem = f"{name}-smoke" if result["smoke"] else f"{name}-{datetime.now(timezone.utc):%Y-%m-%dT%H%M}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown + "\n")
    print(markdown)
    log(f"written: bench/results/{stem}.json and {stem}.md")
