"""One request counted against several rate limits in a single round trip.

flask-limiter counts each of a view's limits in its own call to Redis: for the five windows of a sign-up (two per
network, one per organisation, two per email domain) that is five calls, about 0.7 ms of a worker's time, and
the limits took 16 to 31% of sign-up throughput. ``count`` counts them all in one Lua script (about 0.15 ms),
in the same fixed windows and under the same keys as flask-limiter (``RATELIMIT_KEY_PREFIX`` included); the
benchmark's ``rate_limits_cost`` says what they take now. Views with a single limit keep flask-limiter's
decorators.

When Redis cannot be reached the limits are counted in the worker, as flask-limiter does: the outage is logged
once, and Redis is tried again after ``RETRY_REDIS_SECONDS``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, storage_from_string
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_REDIS_SECONDS = 30

# One hit on each counter (a new counter starts its window); each comes back with the seconds left in its window.
_COUNT_ALL = """
local answer = {}
for i, key in ipairs(KEYS) do
    local hits = redis.call("INCR", key)
    if hits == 1 then
        redis.call("EXPIRE", key, ARGV[i])
    end
    answer[2 * i - 1] = hits
    answer[2 * i] = redis.call("TTL", key)
end
return answer
"""


@dataclass(frozen=True)
class Limit:
    """Limits in flask-limiter's notation (``120 per minute; 1500 per hour``) on one key within a scope."""

    limits: str
    scope: str
    key: str


class _Counters:
    """An app's counters: in Redis when ``RATELIMIT_STORAGE_URI`` names one, else (and while it is away) here."""

    def __init__(self, app: Flask):
        self.storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                           **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
        self.in_worker = self.storage if isinstance(self.storage, MemoryStorage) else MemoryStorage()
        self.script = (self.storage.get_connection().register_script(_COUNT_ALL)
                       if isinstance(self.storage, RedisStorage) else None)
        self.redis_away_since: float | None = None

    def hit(self, counters: list[tuple[RateLimitItem, str]]) -> list[tuple[int, float]]:
        """Count one hit on each counter: its hits in the window so far and the seconds the window has left."""
        away = self.redis_away_since
        if self.script is not None and (away is None or time.monotonic() - away >= RETRY_REDIS_SECONDS):
            try:
                answer = self.script(keys=[self.storage.prefixed_key(key) for _, key in counters],
                                     args=[item.get_expiry() for item, _ in counters])
            except RedisError as error:
                if away is None:
                    log.warning("rate limit storage unreachable (%s): counting in the worker", error)
                self.redis_away_since = time.monotonic()
            else:
                if away is not None:
                    log.warning("rate limit storage reachable again")
                    self.redis_away_since = None
                return [(int(answer[i]), float(answer[i + 1])) for i in range(0, len(answer), 2)]
        now = time.time()
        return [(self.in_worker.incr(key, item.get_expiry()), self.in_worker.get_expiry(key) - now)
                for item, key in counters]


def count(*limits: Limit) -> int | None:
    """Count this request once against every limit. When it is over one of them: the seconds until it would
    pass them all (for ``Retry-After``); else None. Nothing is counted while ``RATELIMIT_ENABLED`` is off."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return None
    prefix = [config["RATELIMIT_KEY_PREFIX"]] if config["RATELIMIT_KEY_PREFIX"] else []
    counters = [(item, item.key_for(*prefix, limit.key, limit.scope))
                for limit in limits for item in _parsed(limit.limits)]
    counted = current_app.extensions["ratelimits"].hit(counters)
    waits = [seconds for (item, _), (hits, seconds) in zip(counters, counted) if hits > item.amount]
    return max(1, math.ceil(max(waits))) if waits else None


@lru_cache(maxsize=64)
def _parsed(limits: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limits))


def init_app(app: Flask) -> None:
    app.extensions["ratelimits"] = _Counters(app)
