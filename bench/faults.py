"""Fault drill: under a sign-up load, kill a worker, restart PostgreSQL, restart Redis; measure the recovery.

    .venv/bin/python -m bench.faults            # 5 s of downtime per part, 4 clients
    .venv/bin/python -m bench.faults --smoke    # 2 s of downtime (what the test suite runs)

As in production (``bench/common.py``): gunicorn with two gevent workers, PostgreSQL as the app role under
row-level security, Redis; but a PostgreSQL cluster and a Redis server of the drill's own, in a temporary
folder on free loopback ports, so that stopping them disturbs nothing else on the machine. A few clients fill
in the real sign-up form of two tenants, one person after another; a person answered with an error or whose
connection broke tries again with the same address, as anyone would. A third tenant's page holds a live stream
open, as ``core/static/live.js`` does in a browser (reconnect after the ``retry:`` the server sent; on a refused
stream, poll ``count.json`` every 5 s and try the stream again after 30 s). Then, one after the other:

1. ``kill -9`` of the worker that holds the live stream (gunicorn starts another);
2. PostgreSQL stopped (``pg_ctl stop -m immediate``: a crash, then recovery), started again after a pause;
3. Redis stopped, started again after a pause.

For each part: the time from its being back (for the worker: from the kill) to the first successful sign-up,
and to the live stream showing a new sign-up (one made on the watched tenant once the part was back); what
the clients were answered meanwhile. During the Redis outage sign-ups must go on and the open stream must
still show a new sign-up (the hub polls for it). Afterwards every sign-up answered with success must be
stored exactly once, none twice, and the tallies must equal a recount.

Results: ``bench/results/faults-<date>T<time>.json`` and ``.md``.
"""

from __future__ import annotations

import asyncio
import glob
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.common import (BASE_DOMAIN, ROOT, connect_with_form, environment, free_port, goal, log, machine,
                          markdown_goals, markdown_header, parse_arguments, populate, prepare_database,
                          read_response, start_server, write_results)

WORKERS = 2
WATCHED, SIGNING = "org0", ("org1", "org2")
REQUEST_TIMEOUT = 15  # seconds a client waits for an answer before it gives up and tries again
RECOVERY_LIMIT = 15  # seconds within which each part must be serving again
STARTING_LIMIT = 120  # seconds the server may take to answer at first (not measured)
STREAM_RETRY, POLL_SECONDS, STREAM_RETRY_AFTER_POLLING = 3, 5, 30  # as in core/live.py and core/static/live.js


def _run_as() -> dict:
    """PostgreSQL refuses to run as root: where the drill runs as root, the server runs as ``postgres``."""
    return {"user": "postgres"} if os.geteuid() == 0 else {}


def postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs: Debian's newest version, else whatever ``initdb`` is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    return Path(initdb).parent


class PrivatePostgres:
    """A PostgreSQL cluster of its own in ``folder``, on a free loopback port: safe to stop and start."""

    def __init__(self, folder: Path) -> None:
        self.bin = postgres_bin()
        self.data, self.port = folder / "data", free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.log = folder / "postgresql.log"
        subprocess.run([self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync",
                        "-E", "UTF8", "--locale", "C"], check=True, capture_output=True, **_run_as())

    def start(self) -> None:
        subprocess.run([self.bin / "pg_ctl", "start", "-w", "-t", "60", "-D", self.data, "-l", self.log, "-o",
                        f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"],
                       check=True, capture_output=True, **_run_as())

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([self.bin / "pg_ctl", "stop", "-w", "-m", mode, "-D", self.data], check=True,
                       capture_output=True, **_run_as())


class PrivateRedis:
    """A Redis server of its own, nothing saved to disk, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout == b"PONG\n":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@dataclass
class Attempt:
    host: str
    email: str
    started: float
    answered: float
    status: int | None  # None: the connection broke or no answer came in time


async def _sign_up(port: int, host: str, cookie: str, token: bytes, email: str) -> tuple[int, dict]:
    """One POST of the sign-up form on a new connection, as a person's own browser would open one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        form = b"csrf_token=" + token + f"&email={email}&gender=man&country=FR&consent=y".encode()
        writer.write(f"POST / HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n"
                     .encode() + form)
        status, headers, _ = await read_response(reader)
        return status, headers
    finally:
        writer.close()


async def _person_after_person(port: int, host: str, stop: threading.Event, attempts: list[Attempt]) -> None:
    """Sign up one new person after another until ``stop``; a person who failed tries again (same address)."""
    reader, writer, *_, cookie, token = await connect_with_form(port, host)
    writer.close()
    email = None
    while not stop.is_set():
        email = email or f"{uuid.uuid4().hex[:16]}@example.org"
        started, headers = time.monotonic(), {}
        try:
            status, headers = await asyncio.wait_for(_sign_up(port, host, cookie, token, email), REQUEST_TIMEOUT)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            status = None
        attempts.append(Attempt(host, email, started, time.monotonic(), status))
        if "set-cookie" in headers:
            cookie = headers["set-cookie"].split(";")[0]
        if status == 303:
            email = None
        else:
            await asyncio.sleep(float(headers.get("retry-after", 0.5)))


def _load(port: int, clients: int, stop: threading.Event, attempts: list[Attempt]) -> threading.Thread:
    async def run():
        await asyncio.gather(*(_person_after_person(port, f"{SIGNING[n % len(SIGNING)]}.{BASE_DOMAIN}", stop,
                                                    attempts) for n in range(clients)))

    thread = threading.Thread(target=asyncio.run, args=(run(),), name="sign-ups", daemon=True)
    thread.start()
    return thread


class Watcher:
    """The watched tenant's page, as ``core/static/live.js`` keeps it current: its stream, or polling."""

    def __init__(self, port: int) -> None:
        self.port, self.host = port, f"{WATCHED}.{BASE_DOMAIN}"
        self.seen: list[tuple[float, int, str]] = []  # (when, total, "stream" or "poll")
        self.local_port: int | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="watcher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            if self._stream():
                time.sleep(STREAM_RETRY)  # the browser reconnects after the stream's ``retry:``
            else:
                self._poll_until(time.monotonic() + STREAM_RETRY_AFTER_POLLING)

    def _stream(self) -> bool:
        """Follows one stream to its end; False if the stream was refused (the page then polls)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", "/live", headers={"Host": self.host, "Accept": "text/event-stream"})
            self.local_port = connection.sock.getsockname()[1]
            response = connection.getresponse()
            if response.status != 200:
                return False
            while not self.stop.is_set():
                line = response.fp.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    self.seen.append((time.monotonic(), json.loads(line[6:])["total"], "stream"))
        except (OSError, http.client.HTTPException):
            pass
        finally:
            self.local_port = None
            connection.close()
        return True

    def _poll_until(self, until: float) -> None:
        while not self.stop.is_set() and time.monotonic() < until:
            time.sleep(POLL_SECONDS)
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", "/count.json", headers={"Host": self.host})
                response = connection.getresponse()
                if response.status == 200:
                    self.seen.append((time.monotonic(), json.loads(response.read())["total"], "poll"))
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()

    def shown(self, total: int, since: float, via: str = "stream", wait: float = RECOVERY_LIMIT) -> float | None:
        """When the page first showed ``total`` or more (after ``since``, through ``via``), waiting up to ``wait``."""
        deadline = time.monotonic() + wait
        while True:
            hit = next((when for when, seen, how in list(self.seen) if when >= since and seen >= total and
                        how == via), None)
            if hit is not None or time.monotonic() > deadline:
                return hit
            time.sleep(0.05)


def _probe(port: int, limit: float = 2 * RECOVERY_LIMIT) -> tuple[str, float | None]:
    """One new person signs up on the watched tenant, trying again until it succeeds; returns the address and
    when it succeeded (None if it never did within ``limit``)."""
    host, email = f"{WATCHED}.{BASE_DOMAIN}", f"probe-{uuid.uuid4().hex[:12]}@example.org"

    async def attempt():
        _, writer, *_, cookie, token = await connect_with_form(port, host)
        writer.close()
        return await _sign_up(port, host, cookie, token, email)

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            status, _ = _in_own_thread(asyncio.wait_for(attempt(), REQUEST_TIMEOUT))
            if status == 303:
                return email, time.monotonic()
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, KeyError, AttributeError, ValueError):
            pass
        time.sleep(0.2)
    return email, None


def _in_own_thread(coroutine):
    """``asyncio.run(coroutine)`` in a thread of its own: the caller's thread may be running an event loop
    already (playwright's, in the test suite)."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _worker_holding(master: int, local_port: int) -> int:
    """The gunicorn worker whose socket is connected to our ``local_port`` (from /proc)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[2].endswith(f":{local_port:04X}") and fields[1].startswith("0100007F"):
            inode = fields[9]
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in children:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return int(pid)
            except OSError:
                continue
    raise RuntimeError("no worker holds the live stream")


def _first_success_after(attempts: list[Attempt], moment: float, wait: float = RECOVERY_LIMIT) -> float | None:
    deadline = time.monotonic() + wait
    while True:
        hit = min((a.answered for a in list(attempts) if a.status == 303 and a.started >= moment), default=None)
        if hit is not None or time.monotonic() > deadline:
            return hit
        time.sleep(0.05)


def _answers(attempts: list[Attempt], start: float, end: float) -> dict:
    """What the clients were answered for the attempts under way at some moment in [start, end]: status (or
    "broken") -> count."""
    counted = Counter(str(a.status or "broken") for a in list(attempts) if a.started <= end and a.answered >= start)
    return dict(sorted(counted.items()))


def _answers_after(attempts: list[Attempt], moment: float) -> dict:
    counted = Counter(str(a.status or "broken") for a in list(attempts) if a.started > moment)
    return dict(sorted(counted.items()))


def _seconds(value: float | None, since: float) -> float | None:
    return None if value is None else round(value - since, 2)


def stored_once(admin_url: str, accepted: set[tuple[str, str]], tried: set[tuple[str, str]]) -> dict:
    """Each accepted person stored exactly once; nobody stored twice; nobody stored who never tried."""
    engine = sa.create_engine(admin_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT t.slug, m.email_canonical FROM commitments c JOIN members m ON m.tenant_id = c.tenant_id "
            "AND m.id = c.member_id JOIN tenants t ON t.id = c.tenant_id "
            "WHERE m.email_canonical !~ '^p[0-9]+@'")).all()  # not the generated population
    engine.dispose()
    stored = Counter((slug, email) for slug, email in rows)
    return {"accepted": len(accepted), "accepted_missing": len(accepted - set(stored)),
            "stored_twice": sum(1 for n in stored.values() if n > 1),
            "stored_without_trying": len(set(stored) - tried),
            "errored_but_stored": len((set(stored) & tried) - accepted)}


def drill(clients: int = 4, down_seconds: float = 2.0) -> dict:
    """Runs the three faults under load; returns what was measured (see the module's docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="hfs-faults-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    postgres = redis_server = server = None
    try:
        postgres, redis_server = PrivatePostgres(folder), PrivateRedis(folder)
        postgres.start()
        redis_server.start()
        urls = prepare_database(postgres.url)
        env = environment(urls, redis_server.url)
        populate(urls, env, tenants=3, commitments=0)
        measured_on = machine(postgres.url, redis_server.url)
        port = free_port()
        server = start_server(env, port, workers=WORKERS)
        return {"machine": measured_on,
                **_under_load(port, server.pid, clients, down_seconds, postgres, redis_server, urls, env)}
    finally:
        if server is not None:
            server.send_signal(signal.SIGQUIT)  # quick shutdown: the open stream need not finish
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if redis_server is not None and redis_server.process is not None:
            redis_server.process.kill()
            redis_server.process.wait()
        if postgres is not None:
            subprocess.run([postgres.bin / "pg_ctl", "stop", "-m", "immediate", "-D", postgres.data],
                           capture_output=True, **_run_as())
        shutil.rmtree(folder, ignore_errors=True)


def _under_load(port, master, clients, down_seconds, postgres, redis_server, urls, env) -> dict:
    accepted_probes: list[tuple[str, str]] = []

    def probe() -> float | None:
        email, when = _probe(port)
        if when is not None:
            accepted_probes.append((WATCHED, email))
        return when

    def watched_total() -> int:
        return baseline + len(accepted_probes)

    email, when = _probe(port, limit=STARTING_LIMIT)  # the workers load the app first (slow on a busy machine)
    if when is None:
        raise RuntimeError(f"the site answered no sign-up within {STARTING_LIMIT} s of starting")
    accepted_probes.append((WATCHED, email))
    watcher = Watcher(port)
    attempts: list[Attempt] = []
    stop = threading.Event()
    load = _load(port, clients, stop, attempts)
    deadline = time.monotonic() + RECOVERY_LIMIT
    while not watcher.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    baseline = watcher.seen[0][1] - len(accepted_probes) if watcher.seen else 0
    time.sleep(1)
    faults = {}

    def recovered(name: str, down_at: float, back_at: float, meanwhile: dict | None = None) -> None:
        first = _first_success_after(attempts, back_at)
        probed = probe()
        stream = watcher.shown(watched_total(), back_at) if probed is not None else None
        faults[name] = {"down_seconds": round(back_at - down_at, 2),
                        "first_sign_up_after_back_s": _seconds(first, back_at),
                        "stream_shows_new_sign_up_after_back_s": _seconds(stream, back_at),
                        "answers_while_down": _answers(attempts, down_at, back_at),
                        "answers_after_back": _answers_after(attempts, back_at),
                        **(meanwhile or {})}
        log(f"  {name}: {faults[name]}")

    # 1. A worker killed: the one holding the live stream, so that the stream has to come back too.
    while watcher.local_port is None:
        time.sleep(0.05)
    victim = _worker_holding(master, watcher.local_port)
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    recovered("worker killed (kill -9)", killed_at, killed_at)

    # 2. PostgreSQL: a crash (immediate stop), and started again after a pause.
    down_at = time.monotonic()
    postgres.stop("immediate")
    time.sleep(down_seconds)
    postgres.start()
    recovered("PostgreSQL restarted", down_at, time.monotonic())

    # 3. Redis: stopped, and started again after a pause. Sign-ups go on meanwhile; the open stream still shows them.
    down_at = time.monotonic()
    redis_server.stop()
    probed = probe()
    meanwhile = {"stream_shows_sign_up_while_down_s": _seconds(
        watcher.shown(watched_total(), probed, wait=2 * POLL_SECONDS) if probed else None, probed or 0)}
    time.sleep(max(0.0, down_seconds - (time.monotonic() - down_at)))
    meanwhile["sign_ups_while_down"] = sum(1 for a in list(attempts) if a.status == 303 and a.started >= down_at)
    redis_server.start()
    recovered("Redis restarted", down_at, time.monotonic(), meanwhile)

    stop.set()
    load.join(timeout=REQUEST_TIMEOUT + 5)
    watcher.stop.set()
    tried = {(a.host.split(".")[0], a.email) for a in attempts} | set(accepted_probes)
    accepted = {(a.host.split(".")[0], a.email) for a in attempts if a.status == 303} | set(accepted_probes)
    recount = subprocess.run([sys.executable, "-m", "flask", "rollup", "recount"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    return {"faults": faults, "sign_up_attempts": len(attempts), "stored": stored_once(urls["admin"], accepted, tried),
            "counts_equal_recount": recount.returncode == 0, "recount_output": recount.stdout[-2000:]}


def main() -> None:
    args = parse_arguments(__doc__)
    down_seconds = 2.0 if args.smoke else float(args.seconds or 5)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result = {"date": started, "smoke": args.smoke,
              "settings": {"server": f"gunicorn, gevent worker class, {WORKERS} workers",
                           "database": "PostgreSQL (a private cluster), app role under row-level security",
                           "live": "Redis pub/sub (a private server)", "clients": "4, asyncio, same machine",
                           "downtime per part": f"{down_seconds} s"}}
    result.update(drill(clients=4, down_seconds=down_seconds))
    result["goals"] = goals(result)
    write_results("faults", result, markdown)
    if not all(g["met"] for g in result["goals"]):
        raise SystemExit("a goal was not met: see the result")


def goals(result: dict) -> list[dict]:
    """What must hold after the drill (the test suite asserts the same)."""
    listed = []
    for name, fault in result["faults"].items():
        for key in ("first_sign_up_after_back_s", "stream_shows_new_sign_up_after_back_s"):
            value = fault[key]
            listed.append(goal(f"{name}: {key.replace('_', ' ')} <= {RECOVERY_LIMIT}", value,
                               value is not None and value <= RECOVERY_LIMIT))
        after = {status: n for status, n in fault["answers_after_back"].items() if status != "303"}
        listed.append(goal(f"{name}: no failed sign-up begun after it was back", after or "none", not after))
    redis = result["faults"]["Redis restarted"]
    listed.append(goal("sign-ups while Redis is down", redis["sign_ups_while_down"], redis["sign_ups_while_down"] > 0))
    shown = redis["stream_shows_sign_up_while_down_s"]
    listed.append(goal(f"the open stream shows a sign-up while Redis is down, within {2 * POLL_SECONDS} s", shown,
                       shown is not None))
    stored = result["stored"]
    exactly_once = not (stored["accepted_missing"] or stored["stored_twice"] or stored["stored_without_trying"])
    listed.append(goal("every sign-up answered with success stored exactly once, none twice", stored, exactly_once))
    listed.append(goal("counts equal a recount", result["counts_equal_recount"], result["counts_equal_recount"]))
    return listed


def table(result: dict) -> list[str]:
    """The recovery times and what the clients were answered, as Markdown lines."""
    lines = ["Times in seconds from the part being back (the worker: from the kill; gunicorn starts another).", "",
             "| fault | down | first sign-up | stream shows a new sign-up | answers while down | "
             "answers after back |", "|---|---|---|---|---|---|"]
    for name, fault in result["faults"].items():
        lines.append(f"| {name} | {fault['down_seconds']} | {fault['first_sign_up_after_back_s']} | "
                     f"{fault['stream_shows_new_sign_up_after_back_s']} | {fault['answers_while_down']} | "
                     f"{fault['answers_after_back']} |")
    return lines + [""]


def markdown(result: dict) -> str:
    return "\n".join(markdown_header("Faults under a sign-up load", result) + table(result)
                     + markdown_goals(result["goals"]))


if __name__ == "__main__":
    main()
