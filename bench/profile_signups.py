"""Where a sign-up's time goes: py-spy samples one gunicorn worker while 32 clients sign up.

    .venv/bin/pip install py-spy                   # a tool, not a dependency of the project
    .venv/bin/python -m bench.profile_signups      # 20 seconds of samples (--smoke: 5)

Prints the share of samples under each line of the project's code (where the time goes, by call path) and the
CPU a sign-up costs; the raw stacks (py-spy's "raw" format, for flame graph tools) stay in the scratch folder.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import open_loop
from bench.common import (BASE_DOMAIN, SCRATCH, environment, free_port, log, parse_arguments,
                          populate, prepare_database, start_server)
from bench.signups import _load

RATE = 250  # samples a second
VISITS_PER_SECOND = 60  # ``--loop open``: well within what one worker serves
PROJECT_FRAME = re.compile(r"\((core|tenants)/(?!load_shedding)")  # the middleware is every path's root


def main() -> None:
    args = parse_arguments(__doc__)
    seconds = 5 if args.smoke else 20
    urls = prepare_database(args.database)
    env = environment(urls, args.redis)
    populate(urls, env, args.tenants or 100, (args.commitments or [10_000])[0])
    port = free_port()
    server = start_server(env, port, workers=1)
    stacks = SCRATCH / "profile-signups.txt"
    try:
        time.sleep(3)  # the worker builds its place table at start
        hosts = [f"org{n}.{BASE_DOMAIN}" for n in range(args.tenants or 100)]
        asyncio.run(_load(port, hosts, 8, 3, "/", form_page=True))  # warm-up
        worker = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()[0]
        spy = subprocess.Popen([_py_spy(), "record", "--pid", worker, "--rate", str(RATE), "--duration",
                                str(seconds), "--format", "raw", "--output", str(stacks)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if args.loop == "open":
            target = open_loop.Target(port, hosts, "person")
            record = asyncio.run(open_loop._step(target, VISITS_PER_SECOND, seconds, seed=1))
            outcome = open_loop.summarise(VISITS_PER_SECOND, seconds, record)
            requests = len(record["accepted"])
        else:
            outcome = asyncio.run(_load(port, hosts, 32, seconds, "/", form_page=True))
            requests = outcome["requests"]
            outcome.pop("accepted")
        spy.wait()
    finally:
        server.terminate()
        server.wait(timeout=30)
    log(f"under the profiler (which slows the worker down): {outcome}")
    print(summary(stacks, requests, "visit" if args.loop == "open" else "sign-up"))


def _py_spy() -> str:
    """py-spy beside this Python, else on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy") or str(beside)


def summary(stacks: Path, requests: int, unit: str = "sign-up") -> str:
    """Samples by the chain of project frames they passed through."""
    paths, total = Counter(), 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if PROJECT_FRAME.search(f)]
        paths[" > ".join(frames) or "(outside the project's code: server, framework, gevent)"] += int(count)
        total += int(count)
    lines = [f"{total} samples while busy: {total / RATE / requests * 1000:.2f} ms of worker CPU a {unit} "
             f"(with the profiler's overhead); raw stacks in {stacks}"]
    lines += [f"{100 * n / total:5.1f}%  {path}" for path, n in paths.most_common(40)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
