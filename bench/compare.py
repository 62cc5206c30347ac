"""Two checkouts of the product side by side, in alternating rounds: what a change did, on a machine whose speed
drifts while others work on it.

    .venv/bin/python -m bench.compare ../other-checkout      # this checkout (after) against that one (before)
    .venv/bin/python -m bench.compare ../other-checkout --smoke

Each checkout serves its own database (populated by its own code, 100 tenants and 10,000 commitments by default)
with the production settings of ``bench/signups.py`` (gunicorn gevent x2, PostgreSQL as the app role, Redis); both
servers and the bare insert endpoint (``bench/bare_app.py``) stay up together. Each round runs every case on one
side, then on the other, in the order before, after, after, before, ...: both sides meet the machine's quiet and
busy moments alike, and each figure is compared with the other side's in the same round.

Closed loop, 32 clients, spread over the tenants: a person's visit (a new connection, the sign-up page, then the
POST), the POST alone (the form fetched once per client), a new visitor's sign-up page, ``count.json``, and the
bare endpoint (once a round, shared). Open loop (``bench/open_loop.py``): people's visits, and POSTs alone, at fixed
rates, with their p99 from each visit's scheduled time.

Results: ``bench/results/compare-<date>T<time>.json`` and ``.md``: per case, each side's median over the rounds and
the after / before ratio of the medians; ``signup_vs_bare_ratio`` of each side (its POSTs a second over the bare
endpoint's, the same rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bench import open_loop
from bench.common import (BASE_DOMAIN, ROOT, SCRATCH, TOKEN, environment, free_port, gunicorn_command, log,
                          machine, markdown_header, percentile_ms, prepare_database, raise_open_file_limit,
                          read_response, write_results)
from bench.signups import WORKERS, _load, _reads, create_bare_table

CLIENTS = 32
PERSON_RATES, POST_RATES = (25, 50, 100), (100, 200)


async def _visits_until(port: int, hosts: list[str], until: float, first: int, record: dict) -> None:
    """People one after another until ``until``, each on the next host: a new connection, the page, the POST."""
    n = first
    while time.perf_counter() < until:
        host, n = hosts[n % len(hosts)], n + 1
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.perf_counter()
        try:
            writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            status, headers, body = await read_response(reader)
            if status != 200:
                record["errors"] += 1
                continue
            cookie, token = headers["set-cookie"].split(";")[0], TOKEN.search(body).group(1)
            form = (b"csrf_token=" + token +
                    f"&email={uuid.uuid4().hex[:16]}@example.org&gender=man&country=FR&consent=y".encode())
            writer.write(f"POST / HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
                         f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n"
                         .encode() + form)
            status, _, _ = await read_response(reader)
            if status == 303:
                record["served"].append(time.perf_counter() - started)
            else:
                record["errors"] += 1
        finally:
            writer.close()


async def _visits(port: int, hosts: list[str], seconds: float) -> dict:
    record = {"served": [], "errors": 0}
    started = time.perf_counter()
    await asyncio.gather(*(_visits_until(port, hosts, started + seconds, n * 7, record) for n in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    return {"per_second": round(len(record["served"]) / elapsed, 1), "errors": record["errors"],
            "p50_ms": percentile_ms(record["served"], 0.5), "p99_ms": percentile_ms(record["served"], 0.99)}


def _closed_cases(port: int, hosts: list[str], seconds: float) -> dict:
    post = asyncio.run(_load(port, hosts, CLIENTS, seconds, "/", form_page=True))
    post.pop("accepted")
    return {"person's visit, closed loop": asyncio.run(_visits(port, hosts, seconds)),
            "POST alone, closed loop": post,
            "sign-up page, new visitors": asyncio.run(_reads(port, hosts, CLIENTS, seconds, "/")),
            "count.json, new visitors": asyncio.run(_reads(port, hosts, CLIENTS, seconds, "/count.json"))}


def _open_cases(port: int, hosts: list[str], seconds: float, rates: dict) -> dict:
    cases = {}
    forms = asyncio.run(open_loop._forms(port, hosts))
    for kind, kind_rates in rates.items():
        target = open_loop.Target(port, hosts, kind, forms if kind == "post" else None)
        for rate in kind_rates:
            with open_loop.punctual():
                record = asyncio.run(open_loop._step(target, rate, seconds, seed=rate))
            step = open_loop.summarise(rate, seconds, record)
            cases[f"{'person' if kind == 'person' else 'POST alone'}, open loop, {rate}/s"] = {
                key: step[key] for key in ("served_per_second", "p50_ms", "p99_ms", "errors", "lag_p99_ms",
                                           "verdict")}
            time.sleep(open_loop.PAUSE_SECONDS)
    return cases


def _populate(checkout: Path, urls: dict, env: dict, tenants: int, commitments: int) -> None:
    """The checkout's own migrations and code make its population (``bench.common.populate`` run there)."""
    script = (f"import os\nfrom bench.common import populate\n"
              f"populate({urls!r}, dict(os.environ), {tenants}, {commitments})\n")
    subprocess.run([sys.executable, "-c", script], cwd=checkout, env=env, check=True)


def _serve(checkout: Path, env: dict, port: int, app: str = "wsgi:app") -> subprocess.Popen:
    SCRATCH.mkdir(exist_ok=True)
    log_file = open(SCRATCH / f"compare-{port}.log", "w")
    return subprocess.Popen(gunicorn_command(port, WORKERS, app), cwd=checkout, env=env, stdout=log_file,
                            stderr=log_file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", type=Path, help="the other checkout (before)")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    raise_open_file_limit()
    rounds, seconds = (1, 2) if args.smoke else (args.rounds, args.seconds)
    tenants, commitments = (5, 500) if args.smoke else (100, 10_000)
    rates = ({"person": (5,), "post": (10,)} if args.smoke else {"person": PERSON_RATES, "post": POST_RATES})
    sides = {"before": args.other.resolve(), "after": ROOT}
    servers, ports, started_at = {}, {}, datetime.now(timezone.utc)
    result = {"date": started_at.isoformat(timespec="seconds"), "smoke": args.smoke,
              "machine": machine(args.database, args.redis), "sides": {}, "rounds": [],
              "settings": {"server": f"gunicorn, gevent worker class, {WORKERS} workers a side, each side's own "
                                     "database and population",
                           "population": f"{commitments:,} commitments, {tenants} tenants",
                           "rounds": f"{rounds}, sides in the order before, after, after, before, ...; "
                                     f"{seconds} s a closed-loop case and an open-loop step"}}
    for side, checkout in sides.items():
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True,
                                text=True).stdout.strip()
        result["sides"][side] = {"checkout": str(checkout), "commit": commit}
    bare_urls = None
    try:
        for side, checkout in sides.items():
            urls = prepare_database(args.database, name=f"hfs_bench_compare_{side}")
            env = environment(urls, args.redis)
            log(f"{side} ({checkout}): populating ...")
            _populate(checkout, urls, env, tenants, commitments)
            ports[side] = free_port()
            servers[side] = _serve(checkout, env, ports[side])
            bare_urls = bare_urls or (urls, env)
        create_bare_table(bare_urls[0])
        ports["bare"] = free_port()
        servers["bare"] = _serve(ROOT, {**bare_urls[1], "BARE_DATABASE_URL": bare_urls[0]["admin"]}, ports["bare"],
                                 "bench.bare_app:app")
        time.sleep(5)  # each worker builds its place table at start
        hosts = [f"org{n}.{BASE_DOMAIN}" for n in range(tenants)]
        for side in sides:  # warm-up: every tenant's page once, statements prepared
            asyncio.run(_reads(ports[side], hosts, CLIENTS, 3, "/"))
            asyncio.run(_visits(ports[side], hosts, 3))
        for number in range(rounds):
            order = list(sides) if number % 2 == 0 else list(reversed(sides))
            figures = {"order": order, "load_average": [round(n, 2) for n in os.getloadavg()]}
            for side in order:
                figures[side] = _closed_cases(ports[side], hosts, seconds)
                figures[side].update(_open_cases(ports[side], hosts, seconds, rates))
                log(f"round {number + 1}, {side}: " + ", ".join(
                    f"{case} {value.get('per_second', value.get('served_per_second'))}/s p99 {value['p99_ms']}"
                    for case, value in figures[side].items()))
            bare = asyncio.run(_load(ports["bare"], ["bare"], CLIENTS, seconds, "/", form_page=False))
            bare.pop("accepted")
            figures["bare endpoint, closed loop"] = bare
            result["rounds"].append(figures)
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)
    summarise(result)
    write_results("compare", result, markdown)


def summarise(result: dict) -> None:
    """Each case's median over the rounds on each side, and the after / before ratio of the medians."""
    rounds = result["rounds"]
    cases = list(rounds[0]["before"])
    result["medians"] = {}
    for case in cases:
        rate = "per_second" if "per_second" in rounds[0]["before"][case] else "served_per_second"
        medians = {side: {"per_second": round(statistics.median(r[side][case][rate] for r in rounds), 1),
                          "p99_ms": round(statistics.median(r[side][case]["p99_ms"] or 0 for r in rounds), 1)}
                   for side in ("before", "after")}
        medians["after_vs_before"] = round(medians["after"]["per_second"] / medians["before"]["per_second"], 3) \
            if medians["before"]["per_second"] else None
        result["medians"][case] = medians
    bare = statistics.median(r["bare endpoint, closed loop"]["per_second"] for r in rounds)
    result["bare_per_second"] = bare
    for side in ("before", "after"):
        result[f"signup_vs_bare_ratio_{side}"] = round(
            statistics.median(r[side]["POST alone, closed loop"]["per_second"] /
                              r["bare endpoint, closed loop"]["per_second"] for r in rounds), 3)
        result[f"page_vs_count_json_ratio_{side}"] = round(statistics.median(
            r[side]["sign-up page, new visitors"]["per_second"] / r[side]["count.json, new visitors"]["per_second"]
            for r in rounds), 3)


def markdown(result: dict) -> str:
    lines = markdown_header("Two checkouts side by side", result)
    lines += ["| side | checkout | commit |", "|---|---|---|"]
    lines += [f"| {side} | `{value['checkout']}` | {value['commit']} |" for side, value in result["sides"].items()]
    lines += ["", "Medians over the rounds (closed loop: answers a second; open loop: served a second at the rate "
              "asked, p99 from each visit's scheduled time).", "",
              "| case | before /s | before p99 ms | after /s | after p99 ms | after / before |",
              "|---|---|---|---|---|---|"]
    for case, value in result["medians"].items():
        lines.append(f"| {case} | {value['before']['per_second']} | {value['before']['p99_ms']} | "
                     f"{value['after']['per_second']} | {value['after']['p99_ms']} | {value['after_vs_before']} |")
    lines += ["", "| ratio (median of the rounds' ratios) | before | after |", "|---|---|---|",
              f"| `signup_vs_bare_ratio` (POST alone / bare endpoint, 32 clients) | "
              f"{result['signup_vs_bare_ratio_before']} | {result['signup_vs_bare_ratio_after']} |",
              f"| `page_vs_count_json_ratio` | {result['page_vs_count_json_ratio_before']} | "
              f"{result['page_vs_count_json_ratio_after']} |",
              f"| bare endpoint (median, answers a second) | {result['bare_per_second']} | |", "",
              "## Rounds", "", "| round | order | load average | case | before /s | after /s |",
              "|---|---|---|---|---|---|"]
    for number, figures in enumerate(result["rounds"], 1):
        for case in figures["before"]:
            rate = "per_second" if "per_second" in figures["before"][case] else "served_per_second"
            lines.append(f"| {number} | {', '.join(figures['order'])} | {figures['load_average']} | {case} | "
                         f"{figures['before'][case][rate]} | {figures['after'][case][rate]} |")
    return "\n".join(lines + [""])


if __name__ == "__main__":
    main()
