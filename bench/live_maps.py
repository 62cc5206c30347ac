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

import asyncio
import http.client
import json
import os
import platform
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from bench.common import (BASE_DOMAIN, RESULTS, environment, free_port, log, parse_arguments, populate,
                          prepare_database, start_server)

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
    args = parse_arguments(__doc__)
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
