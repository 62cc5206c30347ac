"""Several rate limits counted in one round trip: in Redis under flask-limiter's own keys, in the worker while
Redis is away, and in Redis again once it is back."""

from __future__ import annotations

import logging
import subprocess
import time
import uuid

import pytest
import redis

from core import ratelimits
from core.app import create_app
from tests.core.test_live_across_workers import _free_port, redis_url  # noqa: F401

SIGN_UP = ratelimits.Limit("2 per minute", "sign-up network", "198.51.100.0/24")
ORGANISATION = ratelimits.Limit("3 per hour; 10 per day", "sign-up tenant", "acme")


@pytest.fixture(params=["redis", "worker"])
def counted_in(request, app_config):
    """An app counting limits in Redis (under a prefix of this test's own), or in the worker; yields the app
    and a function giving each counter's hits (a counter never hit: absent)."""
    if request.param == "worker":
        app = create_app({**app_config, "RATELIMIT_STORAGE_URI": "memory://"})
        memory = app.extensions["ratelimits"].in_worker
        yield app, lambda: {key.removeprefix("LIMITER/"): hits for key, hits in memory.storage.items() if hits}
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex}"
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": prefix})
    store = redis.Redis.from_url(url)
    yield app, lambda: {key.decode().removeprefix(f"LIMITS:LIMITER/{prefix}/"): int(store.get(key))
                        for key in store.scan_iter(f"LIMITS:LIMITER/{prefix}/*")}


def test_a_request_within_every_limit_counts_once_in_each_and_one_over_any_counts_nowhere(counted_in):
    app, hits = counted_in
    with app.app_context():
        assert [ratelimits.count(SIGN_UP, ORGANISATION) for _ in range(2)] == [None, None]
        refused = [ratelimits.count(SIGN_UP, ORGANISATION) for _ in range(3)]
    assert all(1 <= wait <= 60 for wait in refused), "until the minute's window ends"
    assert hits() == {"198.51.100.0/24/sign-up network/2/1/minute": 2, "acme/sign-up tenant/3/1/hour": 2,
                      "acme/sign-up tenant/10/1/day": 2}, "the refused tries used up nothing"


def test_over_several_limits_the_wait_is_until_the_last_of_them_ends(counted_in):
    app, _ = counted_in
    hourly = ratelimits.Limit("2 per hour", "sign-up domain", "acme|example.org")
    with app.app_context():
        assert [ratelimits.count(SIGN_UP, hourly) for _ in range(2)] == [None, None]
        wait = ratelimits.count(SIGN_UP, hourly)
    assert 3540 <= wait <= 3600


def test_redis_counters_are_flask_limiters_own_and_end_with_their_window(app_config, redis_url):  # noqa: F811
    prefix = f"test-{uuid.uuid4().hex}"
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": prefix})
    store = redis.Redis.from_url(redis_url)
    key = f"LIMITS:LIMITER/{prefix}/acme/sign-up tenant/10/1/day"
    store.set(key, 10)  # as if left by a failed write: no window
    with app.app_context():
        assert ratelimits.count(ORGANISATION) == 86400
    assert 86390 < store.ttl(key) <= 86400, "given its window, so that it ends"
    with app.app_context():
        assert ratelimits.count(SIGN_UP) is None
    assert 0 < store.ttl(f"LIMITS:LIMITER/{prefix}/198.51.100.0/24/sign-up network/2/1/minute") <= 60


def test_nothing_is_counted_while_limits_are_off(app_config, redis_url):  # noqa: F811
    prefix = f"test-{uuid.uuid4().hex}"
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": prefix,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        assert {ratelimits.count(SIGN_UP) for _ in range(5)} == {None}
    assert list(redis.Redis.from_url(redis_url).scan_iter(f"LIMITS:LIMITER/{prefix}/*")) == []


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, which it may stop and start again on the same port."""
    port = _free_port()

    def start():
        server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                                   "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                return server
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    servers = [start()]
    yield f"redis://127.0.0.1:{port}/0", servers, start
    for server in servers:
        server.terminate()
        server.wait()


def test_while_redis_is_away_the_worker_counts_and_it_says_so_once_then_redis_counts_again(
        app_config, own_redis, caplog, monkeypatch):
    url, servers, start = own_redis
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": url})
    with app.app_context(), caplog.at_level(logging.WARNING, logger="core.ratelimits"):
        assert ratelimits.count(SIGN_UP) is None
        servers[0].terminate()
        servers[0].wait()
        away = [ratelimits.count(SIGN_UP) for _ in range(3)]
        assert away[:2] == [None, None] and away[2] >= 1, "the worker holds the limit meanwhile"
        assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["rate limit storage unreachable"]

        servers.append(start())
        monkeypatch.setattr(ratelimits, "RETRY_REDIS_SECONDS", 0)
        ratelimits.count(SIGN_UP)  # the worker's wait for Redis is over: it is tried, and answers
        assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
            "rate limit storage unreachable", "rate limit storage reachable again"]
    assert [int(redis.Redis.from_url(url).get(key)) for key in redis.Redis.from_url(url).scan_iter("LIMITS:*")] == [1]
