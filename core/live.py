"""Live counters: server-sent events that carry current totals, fanned out across workers.

How a commitment reaches every open page within about a second:

1. The roll-up notes which channels a transaction changed (``"global"`` and ``"tenant:<id>"``); when,
   and only when, the transaction commits, they are published to the broker (``note_changed``, through
   ``core.signals.committed``): to Redis by a publisher of the process's own, so the request does not wait.
2. The broker carries channel names between processes: Redis pub/sub when ``REDIS_URL`` is set (several
   gunicorn workers or machines), or a plain in-process call in the embedded run.
3. In each worker one hub receives them, and at most once a second per channel computes the channel's
   snapshot once and hands it to every stream of that channel open in this worker.
4. A stream sends ``retry:``, the snapshot on connect, each new snapshot, and a keep-alive comment every
   15 seconds. Streams never touch the database themselves.

While the broker is unreachable (Redis restarting), a change made through another worker cannot be heard:
the hub then recomputes every channel it has streams for every ``POLL_SECONDS`` (as the pages themselves poll
``count.json`` when a stream is refused), and once more as soon as it has subscribed again, for what it missed.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from core import signals

log = logging.getLogger(__name__)

REDIS_CHANNEL = "heforshe:changed"
KEEP_ALIVE_SECONDS = 15
RETRY_MILLISECONDS = 3000
POLL_SECONDS = 5

Snapshot = dict


def channel_for(tenant_id: int | None) -> str:
    """The channel of a site: a tenant's, or the global one."""
    return "global" if tenant_id is None else f"tenant:{tenant_id}"


def tenant_of(channel: str) -> int | None:
    """The tenant whose site a channel is (None: the global one)."""
    return None if channel == "global" else int(channel.partition(":")[2])


_TOPIC = "live"  # this module's topic of ``signals.committed``
_EXTENSION = "core.live"  # this module's own state in ``app.extensions``: the hub


def note_changed(session: Session, *channels: str) -> None:
    """Announce ``channels`` once ``session``'s transaction commits (never before, never on rollback)."""
    signals.after_commit(session, _TOPIC, *channels)


def _publish_committed(topic: str, items: set[str]) -> None:
    # A commit outside any app (or in an app without a hub) has no one to announce to.
    live_hub = current_app.extensions.get(_EXTENSION) if has_app_context() else None
    if live_hub is not None:
        live_hub.broker.publish(items)


class InProcessBroker:
    """Channels go straight to this process's hub: the embedded run, one worker."""

    healthy = True

    def __init__(self) -> None:
        self.deliver: Callable[[str], None] = lambda channel: None

    def publish(self, channels) -> None:
        for channel in channels:
            self.deliver(channel)

    def start(self, deliver: Callable[[str], None], resubscribed: Callable[[], None]) -> None:
        self.deliver = deliver


#: How long the publisher gathers channels before it tells Redis: in a rush, one message for many sign-ups (pages
#: are updated at most once a second anyway: ``LIVE_INTERVAL_SECONDS``).
PUBLISH_GATHER_SECONDS = 0.05


class RedisBroker:
    """Channels travel through Redis pub/sub, so every worker on every machine hears every change."""

    def __init__(self, url: str) -> None:
        import redis

        # Created once per process and shared: lazily created clients raced between greenlets.
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.healthy = False  # until the listener has subscribed
        self._pending: set[str] = set()
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._publisher: threading.Thread | None = None

    def publish(self, channels) -> None:
        """Hand ``channels`` to this process's publisher and return: the request that changed them does not wait
        for Redis (nor for a broker that is down), and channels changed meanwhile go out in one message."""
        with self._lock:
            self._pending.update(channels)
            if self._publisher is None or not self._publisher.is_alive():  # none yet, or one left in a parent process
                self._publisher = threading.Thread(target=self._publish_pending, name="live-publish", daemon=True)
                self._publisher.start()
        self._due.set()

    def _publish_pending(self) -> None:
        while True:
            self._due.wait()
            time.sleep(PUBLISH_GATHER_SECONDS)
            self._due.clear()
            with self._lock:
                channels, self._pending = self._pending, set()
            if not channels:
                continue
            try:
                self.client.publish(REDIS_CHANNEL, json.dumps(sorted(channels)))
            except Exception:  # a broker outage must never fail a sign-up: pages fall back to polling
                log.warning("could not announce %s: the live broker is unreachable", sorted(channels))

    def start(self, deliver: Callable[[str], None], resubscribed: Callable[[], None]) -> None:
        threading.Thread(target=self._listen, args=(deliver, resubscribed), name="live-redis", daemon=True).start()

    def _listen(self, deliver, resubscribed) -> None:
        # One warning per outage, not one per retry: a broker down for an hour (or never reached by an app that is
        # no longer used, whose listener lives on) must not write to the log every second.
        lost = False
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(REDIS_CHANNEL)
                self.healthy = True
                if lost:
                    log.info("live broker connection restored")
                    lost = False
                resubscribed()
                for message in pubsub.listen():
                    for channel in json.loads(message["data"]):
                        deliver(channel)
            except Exception:
                self.healthy = False  # new streams are refused (pages poll count.json); open ones are polled
                if not lost:
                    log.warning("live broker connection lost; retrying every second until it is back")
                    lost = True
                time.sleep(1)
            finally:
                pubsub.close()


class Hub:
    """This process's streams by channel, and the once-a-second broadcast of changed channels."""

    def __init__(self, broker, snapshot: Callable[[str], Snapshot], interval: float = 1.0) -> None:
        self.broker = broker
        self.snapshot = snapshot
        self.interval = interval
        self._streams: dict[str, set[queue.Queue]] = {}
        self._changed: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._started = False

    def start(self) -> None:
        """Start listening (once per process: after the fork, on the first stream)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self.broker.start(self.changed, self.refresh)
        threading.Thread(target=self._broadcast_loop, name="live-hub", daemon=True).start()

    def changed(self, channel: str) -> None:
        with self._lock:
            if channel in self._streams:
                self._changed.add(channel)
                self._wake.set()

    def refresh(self) -> None:
        """Recompute every channel with open streams (its changes may have gone unheard)."""
        with self._lock:
            self._changed.update(self._streams)
            self._wake.set()

    def open(self, channel: str) -> queue.Queue:
        """A new stream's mailbox; it holds only the latest snapshot (older ones are worthless)."""
        self.start()
        mailbox: queue.Queue = queue.Queue(maxsize=1)
        with self._lock:
            self._streams.setdefault(channel, set()).add(mailbox)
        return mailbox

    def close(self, channel: str, mailbox: queue.Queue) -> None:
        with self._lock:
            streams = self._streams.get(channel, set())
            streams.discard(mailbox)
            if not streams:
                self._streams.pop(channel, None)

    def available(self, wait: float = 2.0) -> bool:
        """Whether streams can be served: the broker is listening (waits briefly on a worker's first stream)."""
        self.start()
        deadline = time.monotonic() + wait
        while not self.broker.healthy and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.broker.healthy

    def stream_count(self) -> int:
        with self._lock:
            return sum(len(streams) for streams in self._streams.values())

    def _broadcast_loop(self) -> None:
        while True:
            if not self._wake.wait(POLL_SECONDS) and not self.broker.healthy:
                self.refresh()  # the broker is down: poll for what other workers changed
            with self._lock:
                channels, self._changed = self._changed, set()
                self._wake.clear()
            for channel in channels:
                try:
                    self._broadcast(channel, self.snapshot(channel))
                except Exception:
                    log.exception("could not compute the live snapshot of %s", channel)
            time.sleep(self.interval)  # at most one event a second per channel, however busy

    def _broadcast(self, channel: str, snapshot: Snapshot) -> None:
        with self._lock:
            mailboxes = list(self._streams.get(channel, ()))
        for mailbox in mailboxes:
            _replace(mailbox, snapshot)


def _replace(mailbox: queue.Queue, snapshot: Snapshot) -> None:
    try:
        mailbox.get_nowait()
    except queue.Empty:
        pass
    try:
        mailbox.put_nowait(snapshot)
    except queue.Full:  # another broadcast got there first; it is as new as this one
        pass


def event_stream(hub: Hub, channel: str, first: Snapshot, last_event_id: str | None) -> Iterator[str]:
    """The text of one server-sent event stream: the current snapshot, then each newer one."""
    mailbox = hub.open(channel)
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        sent, spoke = str(first["version"]), time.monotonic()
        if sent != last_event_id:
            yield _event(first)
        while True:
            try:
                snapshot = mailbox.get(timeout=max(0.0, spoke + KEEP_ALIVE_SECONDS - time.monotonic()))
            except queue.Empty:
                snapshot = None
            if snapshot is not None and str(snapshot["version"]) != sent:  # a poll often finds nothing new
                sent, spoke = str(snapshot["version"]), time.monotonic()
                yield _event(snapshot)
            elif time.monotonic() >= spoke + KEEP_ALIVE_SECONDS:
                spoke = time.monotonic()
                yield ": keep-alive\n\n"
    finally:
        hub.close(channel, mailbox)


def _event(snapshot: Snapshot) -> str:
    return f"id: {snapshot['version']}\nevent: totals\ndata: {json.dumps(snapshot, separators=(',', ':'))}\n\n"


def hub(app=None) -> Hub:
    """The live hub of ``app`` (the current app by default)."""
    return (app or current_app).extensions[_EXTENSION]


def init_app(app, snapshot: Callable[[str], Snapshot]) -> Hub:
    """Create this app's hub (Redis when ``REDIS_URL`` is set, in-process otherwise), computing each channel's
    snapshot with ``snapshot``; publish the channels a transaction changed once it commits."""
    broker = RedisBroker(app.config["REDIS_URL"]) if app.config["REDIS_URL"] else InProcessBroker()
    app.extensions[_EXTENSION] = Hub(broker, snapshot, interval=app.config["LIVE_INTERVAL_SECONDS"])
    signals.committed.connect(_publish_committed, sender=_TOPIC)
    return app.extensions[_EXTENSION]
