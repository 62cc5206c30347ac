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


def test_every_limit_is_counted_once_in_redis_under_flask_limiters_keys_and_the_wait_is_the_longest(
        app_config, redis_url):  # noqa: F811
    prefix = f"test-{uuid.uuid4().hex}"
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": prefix})
    with app.app_context():
        assert [ratelimits.count(SIGN_UP, ORGANISATION) for _ in range(2)] == [None, None]
        minute_over = ratelimits.count(SIGN_UP, ORGANISATION)
        hour_over = ratelimits.count(SIGN_UP, ORGANISATION)
    assert 1 <= minute_over <= 60, "past the minute's limit: until the minute's window ends"
    assert 3540 <= hour_over <= 3600, "past the hour's too: until the later of the two windows ends"
    store = redis.Redis.from_url(redis_url)
    assert {key.decode(): int(store.get(key)) for key in store.scan_iter(f"LIMITS:LIMITER/{prefix}/*")} == {
        f"LIMITS:LIMITER/{prefix}/198.51.100.0/24/sign-up network/2/1/minute": 4,
        f"LIMITS:LIMITER/{prefix}/acme/sign-up tenant/3/1/hour": 4,
        f"LIMITS:LIMITER/{prefix}/acme/sign-up tenant/10/1/day": 4,
    }
    assert 0 < store.ttl(f"LIMITS:LIMITER/{prefix}/acme/sign-up tenant/10/1/day") <= 86400


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
