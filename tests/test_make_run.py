"""`make run` ends cleanly: Ctrl-C in its terminal stops the server, the worker and the demo identity provider it
started."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import cannot_run

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _group_commands(group: int) -> list[str]:
    """The command lines of the processes of a process group."""
    commands = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                commands.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return commands


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/stats.json", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.long
def test_ctrl_c_on_make_run_stops_the_server_the_worker_and_the_demo_identity_provider(tmp_path):
    if shutil.which("make") is None or shutil.which("node") is None \
            or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        cannot_run("node", "make run's demo identity provider needs make, Node and `npm ci`")
    port, idp_port = _free_port(), _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "DATABASE_"))}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'heforshe.sqlite3'}", "DEMO_IDP_PORT": str(idp_port)}
    # -o install: the suite runs installed already (and must not reinstall the environment it runs in).
    # A process group of its own, as a terminal gives the command it runs.
    with (tmp_path / "make-run.log").open("w") as log:
        make = subprocess.Popen(["make", "-o", "install", "run", f"PORT={port}"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert _wait_until(lambda: _serves(port) or make.poll() is not None, 90) and make.poll() is None, \
            (tmp_path / "make-run.log").read_text()
        assert _listening(idp_port)
        assert any("flask worker" in command for command in _group_commands(make.pid)), "no worker beside the server"

        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        make.wait(timeout=30)
        assert _wait_until(lambda: not _group_alive(make.pid), 10), "a process of make run outlived Ctrl-C"
        assert not _listening(idp_port) and not _listening(port)
    finally:
        if _group_alive(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
