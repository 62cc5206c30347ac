"""Open-loop load: people arrive at a fixed rate whatever the server does, as on a campaign's launch day.

Arrivals follow a Poisson process (independent arrivals, exponential gaps), each on a new connection, and each
visit's latency runs from the moment it was *scheduled* to its last answer, so that a slow answer cannot hide
the visits queued behind it (a closed loop sends its next request only once the last is answered and so never
sees them). The client's own scheduling lag, how late each visit started against its schedule, is measured: a
step whose client lagged more than ``LAG_P99_BOUND_MS`` at p99 is invalid, since the client and the server
share this machine's cores and a lagging client measures itself. Rates go up by ``FACTOR`` from a case's start
until p99 passes ``P99_BOUND_MS`` (or a request fails), then ``REFINEMENTS`` geometric midpoints narrow the
bound: the case's maximum rate is the highest rate that passed below the lowest that failed.

The visits (``Target.kind``): ``person`` GETs the sign-up page then POSTs the form on the same connection, as a
browser does; ``post`` POSTs the form alone (cookie and CSRF token fetched before the step, one per host);
``bare`` POSTs to the bare insert endpoint (``bench/bare_app.py``).
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from bench.common import TOKEN, connect_with_form, log, read_response

P99_BOUND_MS = 100.0
# A tenth of the latency bound: a step whose visits started later than this at p99 measured the client.
LAG_P99_BOUND_MS = 10.0
FACTOR, REFINEMENTS = 1.5, 2
DRAIN_SECONDS = 30  # after the last arrival, the longest the step waits for the answers still due
PAUSE_SECONDS = 2  # between steps, so that one step's queue is gone before the next begins


# The pure parts: schedule, percentiles, verdict and search (tests/bench/test_open_loop.py).

def arrival_times(rate: float, seconds: float, rng: random.Random) -> list[float]:
    """The offsets in seconds, from 0 up to ``seconds``, of a Poisson process's arrivals at ``rate`` a second."""
    times, at = [], rng.expovariate(rate)
    while at < seconds:
        times.append(at)
        at += rng.expovariate(rate)
    return times


def percentile_from_schedule(scheduled: list[float], answered: list[float | None], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0.99 for p99), in ms, of each visit's time from its schedule to its
    answer. A visit never answered (``None``) counts as later than every answered one: ``None`` when the
    percentile falls on one."""
    if not scheduled:
        return None
    waits = sorted(math.inf if end is None else end - start for start, end in zip(scheduled, answered))
    wait = waits[max(0, math.ceil(len(waits) * share) - 1)]
    return None if wait == math.inf else round(wait * 1000, 2)


def verdict(step: dict) -> str:
    """``invalid`` when the client lagged past its bound; ``pass`` when every visit was served without error
    and p99 is within ``P99_BOUND_MS``; else ``fail``."""
    if step["lag_p99_ms"] is None or step["lag_p99_ms"] > LAG_P99_BOUND_MS:
        return "invalid"
    served = not (step["errors"] or step["shed"] or step["unanswered"])
    return "pass" if served and step["p99_ms"] is not None and step["p99_ms"] <= P99_BOUND_MS else "fail"


def next_rate(steps: list[tuple[int, str]], start: int, factor: float = FACTOR,
              refinements: int = REFINEMENTS, max_steps: int = 20) -> int | None:
    """The rate of the next step (whole visits a second), given the steps so far as ``(rate, verdict)``;
    ``None`` when the search is over. Up by ``factor`` while steps pass; down by ``factor`` while none has
    passed below a failure (a machine slower than the start assumed), to 1 a second at least; once a pass
    lies below a failure, ``refinements`` steps at the geometric midpoint of the highest such pass and the
    lowest failure. An invalid step (the client lagged) ends the search: a higher rate would only lag more."""
    if len(steps) >= max_steps or any(outcome == "invalid" for _, outcome in steps):
        return None
    if not steps:
        return start
    if not any(outcome == "fail" for _, outcome in steps):
        return max(steps[-1][0] + 1, round(steps[-1][0] * factor))
    low, high = max_rate(steps), min(rate for rate, outcome in steps if outcome == "fail")
    if not low:
        lower = min(high - 1, round(high / factor))
        return lower if lower >= 1 else None
    # The first step after which a pass lay below a failure; the refinements come after it.
    bracketed = next(n for n in range(len(steps))
                     if any(outcome == "fail" for _, outcome in steps[:n + 1]) and max_rate(steps[:n + 1]))
    if len(steps) - bracketed - 1 >= refinements:
        return None
    middle = round(math.sqrt(low * high))
    return middle if low < middle < high else None


def max_rate(steps: list[tuple[int, str]]) -> int:
    """The highest rate that passed below the lowest that failed (0 when none passed)."""
    lowest_failure = min((rate for rate, outcome in steps if outcome != "pass"), default=math.inf)
    return max((rate for rate, outcome in steps if outcome == "pass" and rate < lowest_failure), default=0)


# The client.

@dataclass
class Target:
    port: int
    hosts: list[str]
    kind: str  # "person", "post" or "bare"
    forms: dict | None = None  # host -> (cookie, token), for ``post``


async def _visit(target: Target, host: str, scheduled: float, record: dict) -> None:
    """One visit: a new connection, the page when a person's, then the POST. Notes the lag, the answer's time
    (``None`` when not served), and the accepted sign-up."""
    loop = asyncio.get_running_loop()
    n = len(record["scheduled"])
    record["scheduled"].append(scheduled)
    record["lags"].append(loop.time() - scheduled)
    record["answered"].append(None)
    record["page_answered"].append(None)
    email = f"{uuid.uuid4().hex[:16]}@example.org"
    record["pending"][n] = (host, email)
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        if target.kind == "person":
            writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            status, headers, body = await read_response(reader)
            if status != 200:
                record["shed" if status == 503 else "errors"] += 1
                del record["pending"][n]
                return
            record["page_answered"][n] = loop.time()
            cookie, token = headers["set-cookie"].split(";")[0], TOKEN.search(body).group(1)
        elif target.kind == "post":
            cookie, token = target.forms[host]
        else:
            cookie, token = "", b""
        form = b"csrf_token=" + token + f"&email={email}&gender=man&country=FR&consent=y&tenant=1".encode()
        writer.write(f"POST / HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n"
                     .encode() + form)
        status, _, _ = await read_response(reader)
        del record["pending"][n]
        if status in (303, 204):
            record["answered"][n] = loop.time()
            record["accepted"].append((host, email))
        else:
            record["shed" if status == 503 else "errors"] += 1
    except (ConnectionError, asyncio.IncompleteReadError):  # the POST may have been stored: not known
        record["uncertain"].append(record["pending"].pop(n))
        record["errors"] += 1
    finally:
        if writer is not None:
            writer.close()


async def _step(target: Target, rate: int, seconds: float, seed: int) -> dict:
    """Visits at ``rate`` a second for ``seconds``, each started by the event loop at its scheduled time; then
    up to ``DRAIN_SECONDS`` for the answers still due. Returns what each visit noted, by its index: pending
    (no answer, cancelled) and uncertain (the connection broke) visits are the ones the server may have stored."""
    loop = asyncio.get_running_loop()
    record = {"scheduled": [], "lags": [], "answered": [], "page_answered": [], "accepted": [], "pending": {},
              "uncertain": [], "errors": 0, "shed": 0}
    offsets = arrival_times(rate, seconds, random.Random(seed))
    hosts = random.Random(seed + 1)
    tasks = set()

    def arrive(at: float, host: str) -> None:
        task = loop.create_task(_visit(target, host, at, record))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    cpu_before, start = time.process_time(), loop.time() + 0.2  # every arrival scheduled before the first
    record["start"] = start
    for offset in offsets:
        loop.call_at(start + offset, arrive, start + offset, hosts.choice(target.hosts))
    await asyncio.sleep(max(0.0, start + seconds - loop.time()))
    while len(record["scheduled"]) < len(offsets):  # the last arrivals' callbacks
        await asyncio.sleep(0.01)
    # The client's share of one core while visits arrived (near 1: the client itself was the bottleneck).
    record["cpu_share"] = (time.process_time() - cpu_before) / (loop.time() - start)
    if tasks:
        await asyncio.wait(set(tasks), timeout=DRAIN_SECONDS)
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return record


@contextmanager
def punctual():
    """The client's thread in the real-time scheduling class for the block, when the system allows it: on a
    machine whose cores are busy it then starts each visit on time instead of waiting its turn behind the
    server and everything else (it uses a small share of a core; the kernel keeps 5% of each second for
    others whatever happens). Yields whether it could; processes started meanwhile would inherit it."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    except (AttributeError, PermissionError):
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def summarise(rate: int, seconds: float, record: dict) -> dict:
    """A step's figures: latencies from the schedule, the page's part (a person's visit), the client's lag."""
    scheduled, lags = record["scheduled"], sorted(record["lags"])
    served = [end for end in record["answered"] if end is not None]
    # Over the arrivals' time, or up to the last answer when the server fell behind.
    took = max([seconds, *(end - record["start"] for end in served)])
    summary = {
        "rate": rate, "seconds": seconds, "arrivals": len(scheduled),
        "served_per_second": round(len(served) / took, 1),
        "p50_ms": percentile_from_schedule(scheduled, record["answered"], 0.5),
        "p90_ms": percentile_from_schedule(scheduled, record["answered"], 0.9),
        "p99_ms": percentile_from_schedule(scheduled, record["answered"], 0.99),
        "max_ms": percentile_from_schedule(scheduled, record["answered"], 1.0),
        "errors": record["errors"], "shed": record["shed"], "unanswered": len(record["pending"]),
        "lag_p50_ms": round(lags[len(lags) // 2] * 1000, 2) if lags else None,
        "lag_p99_ms": round(lags[max(0, math.ceil(len(lags) * 0.99) - 1)] * 1000, 2) if lags else None,
        "lag_max_ms": round(lags[-1] * 1000, 2) if lags else None,
        "client_cpu_share": round(record["cpu_share"], 2),
    }
    if any(end is not None for end in record["page_answered"]):
        summary["page_p99_ms"] = percentile_from_schedule(scheduled, record["page_answered"], 0.99)
    summary["verdict"] = verdict(summary)
    return summary


async def _forms(port: int, hosts: list[str]) -> dict:
    """One session cookie and CSRF token per host, for POSTs without their page."""
    async def fetch(host: str) -> tuple[str, tuple]:
        reader, writer, _, _, cookie, token = await connect_with_form(port, host)
        writer.close()
        return host, (cookie, token)
    return dict(await asyncio.gather(*(fetch(host) for host in hosts)))


def search(name: str, port: int, hosts: list[str], kind: str, start: int, seconds: float,
           max_steps: int = 20, pause: float = PAUSE_SECONDS) -> dict:
    """Steps up the rate of ``kind`` visits to ``hosts`` (see ``next_rate``). Returns the steps, the maximum
    rate with p99 within the bound, whether the client's lag ended the search, the sign-ups accepted and those
    abandoned unanswered (the server may yet have stored them)."""
    target = Target(port, hosts, kind, asyncio.run(_forms(port, hosts)) if kind == "post" else None)
    steps, history, accepted, abandoned, real_time = [], [], [], [], True

    def run(seed: int) -> tuple[dict, dict]:
        nonlocal real_time
        with punctual() as punctually:
            record = asyncio.run(_step(target, rate, seconds, seed))
        real_time = real_time and punctually
        return record, summarise(rate, seconds, record)

    while (rate := next_rate(history, start, max_steps=max_steps)) is not None:
        record, step = run(seed=len(history))
        if step["verdict"] == "invalid":
            log(f"  open loop, {name}, {rate}/s: the client lagged ({step['lag_p99_ms']} ms at p99); once more")
            steps.append(step)
            accepted += record["accepted"]
            abandoned += [*record["uncertain"], *record["pending"].values()]
            time.sleep(pause)
            record, step = run(seed=len(history) + 100)
        steps.append(step)
        history.append((rate, step["verdict"]))
        accepted += record["accepted"]
        abandoned += [*record["uncertain"], *record["pending"].values()]
        log(f"  open loop, {name}, {rate}/s: p99 {step['p99_ms']} ms, lag p99 {step['lag_p99_ms']} ms, "
            f"client CPU {step['client_cpu_share']}, {step['verdict']}")
        time.sleep(pause)
    return {"kind": kind, "hosts": len(hosts), "steps": steps, "max_rate_p99_100ms": max_rate(history),
            "client_limited": any(outcome == "invalid" for _, outcome in history), "client_real_time": real_time,
            "accepted": accepted, "abandoned": abandoned}
