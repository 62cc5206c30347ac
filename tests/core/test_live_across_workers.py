"""Live updates fan out across worker processes through Redis: a sign-up served by one gunicorn
process reaches the streams held open by another, within two seconds."""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import cannot_run
from tests.core.test_live import read_events
from tests.helpers import BASE_DOMAIN

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        cannot_run("redis", f"needs Redis at {REDIS_URL} (set TEST_REDIS_URL): {error}")
    return REDIS_URL


@contextlib.contextmanager
def gunicorn_processes(environment: dict, count: int, log_folder: Path):
    """``count`` separate gunicorn processes (a gevent worker each) serving the app with ``environment``, each on
    a free loopback port, answering; yields their ports."""
    ports, processes = [_free_port() for _ in range(count)], []
    for port in ports:
        log = open(log_folder / f"gunicorn-{port}.log", "w")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1", "--no-control-socket",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=environment, stdout=log, stderr=log))
    try:
        for port in ports:  # listening at once, answering once the worker has loaded the app (slower on a busy machine)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(urllib.request.Request(
                        f"http://127.0.0.1:{port}/count.json", headers={"Host": f"acme.{BASE_DOMAIN}"}),
                        timeout=5).close()
                    break
                except OSError:
                    time.sleep(0.2)
        yield ports
    finally:
        for process in processes:
            process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown: open streams need not finish
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def app_environment(app_config: dict, **settings) -> dict:
    """The environment of a server process of the tests' app: its database, and ``settings``."""
    return {**os.environ, "DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
            "MIGRATION_DATABASE_URL": app_config["MIGRATION_DATABASE_URL"], "BASE_DOMAIN": BASE_DOMAIN,
            "SECRET_KEY": "test-secret", "STATS_CACHE_SECONDS": "0", **settings}


@pytest.fixture
def two_workers(app_config, redis_url, tmp_path, make_tenant):
    """Two separate gunicorn processes (gevent workers) on one database and one Redis."""
    make_tenant("acme", "Acme Corporation")
    with gunicorn_processes(app_environment(app_config, REDIS_URL=redis_url), 2, tmp_path) as ports:
        yield ports


def _sign_up_over_http(port: int, email: str) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    headers = {"Host": f"acme.{BASE_DOMAIN}"}
    page = opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers)).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email, "gender": "man", "country": "KE",
                                   "consent": "y"}).encode()
    response = opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers=headers))
    return response.status


@pytest.mark.long
def test_a_sign_up_on_one_worker_reaches_streams_on_the_other(two_workers):
    streaming_port, signing_port = two_workers
    streams = [urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{streaming_port}/live", headers={"Host": f"acme.{BASE_DOMAIN}"}), timeout=10)
        for _ in range(3)]
    for stream in streams:
        assert read_events(stream, 1, 5)[0]["total"] == 0
    started = time.monotonic()
    assert _sign_up_over_http(signing_port, "sam@example.org") == 200  # after the redirect: the thank-you page
    for stream in streams:
        event = read_events(stream, 1, 3)
        assert event and event[0]["total"] == 1
    assert time.monotonic() - started < 2
    for stream in streams:
        stream.close()


def test_with_the_broker_down_sign_ups_work_and_pages_poll(app_config, client, make_tenant):
    from core.app import create_app
    from tests.helpers import host, sign_up

    make_tenant("acme")
    closed_port = _free_port()
    app = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"})
    client = app.test_client()
    assert sign_up(client, "acme").status_code == 303
    assert client.get("/live", base_url=host("acme")).status_code == 503
    assert client.get("/count.json", base_url=host("acme")).get_json()["total"] == 1


def test_a_broker_outage_is_logged_once_not_at_every_retry(caplog):
    from core.live import RedisBroker

    broker = RedisBroker(f"redis://127.0.0.1:{_free_port()}/0")  # nobody listens there
    broker.start(lambda channel: None, lambda: None)
    time.sleep(2.5)  # three tries, a second apart
    lost = [record for record in caplog.records if record.name == "core.live" and "connection lost" in record.message]
    assert len(lost) == 1 and not broker.healthy
