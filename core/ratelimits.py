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
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, storage_from_string
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_REDIS_SECONDS = 30

# A request within every limit counts one hit on each (a new counter starts its window); one over any of them
# counts nowhere, as flask-limiter's first breach stops it, so that a network refused and trying again does not
# use up its hour, nor its organisation's and domain's windows. ARGV: each counter's window in seconds, then its
# limit. Answers 0 when counted, else the seconds left in each breached window (0 for the others).
_COUNT_ALL = """
local n = #KEYS
local waits, over = {}, false
for i, key in ipairs(KEYS) do
    waits[i] = 0
    if (tonumber(redis.call("GET", key)) or 0) + 1 > tonumber(ARGV[n + i]) then
        local left = redis.call("TTL", key)
        if left < 0 then  -- a counter left without its window (never by this script): give it one
            redis.call("EXPIRE", key, ARGV[i])
            left = tonumber(ARGV[i])
        end
        waits[i] = math.max(left, 1)
        over = true
    end
end
if over then
    return waits
end
for i, key in ipairs(KEYS) do
    if redis.call("INCR", key) == 1 or redis.call("TTL", key) < 0 then
        redis.call("EXPIRE", key, ARGV[i])
    end
end
return 0
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
        self.lock = threading.Lock()

    def hit(self, counters: list[tuple[RateLimitItem, str]]) -> list[float] | None:
        """One hit on every counter when each has room for it (None); else, without counting, the seconds left in
        each breached counter's window (0 for the others)."""
        away = self.redis_away_since
        if self.script is not None and (away is None or time.monotonic() - away >= RETRY_REDIS_SECONDS):
            if away is not None:  # this request tries Redis again; those meanwhile go on counting in the worker
                self.redis_away_since = time.monotonic()
            try:
                answer = self.script(keys=[self.storage.prefixed_key(key) for _, key in counters],
                                     args=[item.get_expiry() for item, _ in counters] +
                                          [item.amount for item, _ in counters])
            except RedisError as error:
                if away is None:
                    self.redis_away_since = time.monotonic()
                    log.warning("rate limit storage unreachable (%s): counting in the worker", error)
            else:
                if away is not None:
                    log.warning("rate limit storage reachable again")
                    self.redis_away_since = None
                return [float(seconds) for seconds in answer] if answer else None
        return self._hit_in_worker(counters)

    def _hit_in_worker(self, counters: list[tuple[RateLimitItem, str]]) -> list[float] | None:
        with self.lock:  # a check, then the hits: no other greenlet in between
            now, memory = time.time(), self.in_worker
            waits = [max(memory.get_expiry(key) - now, 1) if memory.get(key) + 1 > item.amount else 0.0
                     for item, key in counters]
            if any(waits):
                return waits
            for item, key in counters:
                memory.incr(key, item.get_expiry())
            return None


def count(*limits: Limit) -> int | None:
    """Count this request once against every limit, unless it is over one of them: then nothing is counted, and
    the answer is the seconds until it would pass them all (for ``Retry-After``); else None. Nothing is counted
    while ``RATELIMIT_ENABLED`` is off."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return None
    prefix = [config["RATELIMIT_KEY_PREFIX"]] if config["RATELIMIT_KEY_PREFIX"] else []
    counters = [(item, item.key_for(*prefix, limit.key, limit.scope))
                for limit in limits for item in _parsed(limit.limits)]
    waits = current_app.extensions["ratelimits"].hit(counters)
    return max(1, math.ceil(max(waits))) if waits else None


@lru_cache(maxsize=64)
def _parsed(limits: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limits))


def init_app(app: Flask) -> None:
    app.extensions["ratelimits"] = _Counters(app)
