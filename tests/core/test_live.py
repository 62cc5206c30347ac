"""Live counts: announced only once committed, coalesced, streamed as server-sent events."""

import json
import time
import urllib.request

import pytest

from core import live
from tests.helpers import BASE_DOMAIN, sign_up


class RecordingBroker:
    def __init__(self):
        self.published = []

    def publish(self, channels):
        self.published.append(sorted(channels))

    def start(self, deliver, resubscribed):
        self.deliver = deliver


@pytest.fixture
def broker(app):
    recording = RecordingBroker()
    live.hub(app).broker = recording
    return recording


def test_a_commitment_is_announced_once_committed(db, broker, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme)
    assert broker.published == [["global", f"tenant:{acme.id}"]]


def test_a_rolled_back_commitment_is_never_announced(db, broker, make_tenant):
    from core.rollup.models import Gender
    from core.tenancy import tenant_context
    from tenants.services import signups

    acme = make_tenant("acme")
    with tenant_context(acme):
        signups.commit(signups.SignUp(email="a@example.org", gender=Gender.MAN, country_code="FR",
                                        language="en", consent_version="1"))
        db.session.rollback()
    db.session.commit()
    assert broker.published == []


def test_a_repeat_commitment_announces_nothing(db, broker, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme, email="sam@example.org")
    make_commitment(acme, email="SAM@example.org")
    assert len(broker.published) == 1


def test_the_hub_computes_a_busy_channel_once_a_second_at_most():
    computed = []
    hub = live.Hub(live.InProcessBroker(), lambda channel: computed.append(channel) or {"version": len(computed)},
                   interval=0.5)
    mailbox = hub.open("tenant:1")
    for _ in range(50):
        hub.broker.publish(["tenant:1", "tenant:2"])
    assert mailbox.get(timeout=2) == {"version": 1}
    for _ in range(50):
        hub.broker.publish(["tenant:1"])
    assert mailbox.get(timeout=2) == {"version": 2}
    assert computed == ["tenant:1", "tenant:1"], "nobody listens to tenant:2: it is never computed"


def test_a_stream_sends_retry_the_current_totals_then_each_change(monkeypatch):
    monkeypatch.setattr(live, "KEEP_ALIVE_SECONDS", 0.2)
    hub = live.Hub(live.InProcessBroker(), lambda channel: {"version": 2, "total": 8, "men": 5}, interval=0)
    stream = live.event_stream(hub, "global", {"version": 1, "total": 7, "men": 4}, last_event_id=None)
    assert next(stream) == "retry: 3000\n\n"
    assert next(stream) == 'id: 1\nevent: totals\ndata: {"version":1,"total":7,"men":4}\n\n'
    assert next(stream) == ": keep-alive\n\n"
    hub.broker.publish(["global"])
    assert next(stream) == 'id: 2\nevent: totals\ndata: {"version":2,"total":8,"men":5}\n\n'
    stream.close()
    assert hub.stream_count() == 0


def test_a_resumed_stream_skips_what_the_page_has_already(monkeypatch):
    monkeypatch.setattr(live, "KEEP_ALIVE_SECONDS", 0.1)
    hub = live.Hub(live.InProcessBroker(), lambda channel: {}, interval=0)
    stream = live.event_stream(hub, "global", {"version": 5}, last_event_id="5")
    assert next(stream) == "retry: 3000\n\n"
    assert next(stream) == ": keep-alive\n\n"
    stream.close()


class BrokerDown:
    """A broker that lost its connection: it hears nothing until it has subscribed again."""

    healthy = False

    def publish(self, channels):
        pass

    def start(self, deliver, resubscribed):
        self.resubscribed = resubscribed


def test_while_the_broker_is_down_open_streams_still_see_new_totals(monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 0.2)
    totals = iter(range(8, 100))
    hub = live.Hub(BrokerDown(), lambda channel: {"version": (n := next(totals)), "total": n}, interval=0)
    stream = live.event_stream(hub, "tenant:1", {"version": 7, "total": 7}, last_event_id=None)
    assert next(stream) == "retry: 3000\n\n"
    assert next(stream) == 'id: 7\nevent: totals\ndata: {"version":7,"total":7}\n\n'
    assert next(stream) == 'id: 8\nevent: totals\ndata: {"version":8,"total":8}\n\n'  # nothing was announced
    stream.close()


def test_once_the_broker_is_back_open_streams_get_what_they_missed():
    computed = []
    hub = live.Hub(BrokerDown(), lambda channel: computed.append(channel) or {"version": 2}, interval=0)
    mailbox = hub.open("tenant:1")
    hub.broker.healthy = True  # subscribed again; what was announced meanwhile never arrived
    hub.broker.resubscribed()
    assert mailbox.get(timeout=2) == {"version": 2}
    assert computed == ["tenant:1"]


def test_a_poll_that_finds_nothing_new_sends_nothing(monkeypatch):
    monkeypatch.setattr(live, "KEEP_ALIVE_SECONDS", 0.3)
    monkeypatch.setattr(live, "POLL_SECONDS", 0.05)
    hub = live.Hub(BrokerDown(), lambda channel: {"version": 7, "total": 7}, interval=0)
    stream = live.event_stream(hub, "tenant:1", {"version": 7, "total": 7}, last_event_id=None)
    assert next(stream) == "retry: 3000\n\n"
    assert next(stream) == 'id: 7\nevent: totals\ndata: {"version":7,"total":7}\n\n'
    assert next(stream) == ": keep-alive\n\n"
    stream.close()


def read_events(response, wanted: int, timeout: float) -> list[dict]:
    """Read server-sent events from an open HTTP response until ``wanted`` arrived or time runs out."""
    found, deadline = [], time.monotonic() + timeout
    while len(found) < wanted and time.monotonic() < deadline:
        try:
            line = response.readline().decode()
        except TimeoutError:  # nothing more was sent in the stream's read timeout
            break
        if line.startswith("data: "):
            found.append(json.loads(line[6:]))
    return found


def open_stream(port: int, slug: str | None = None, read_timeout: float = 5):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/live", headers={
        "Host": f"{slug + '.' if slug else ''}{BASE_DOMAIN}"})
    return urllib.request.urlopen(request, timeout=read_timeout)


def test_an_open_stream_sees_a_new_commitment_within_two_seconds(app, client, live_server, make_tenant):
    make_tenant("acme")
    tenant_stream, global_stream = open_stream(live_server, "acme"), open_stream(live_server)
    assert tenant_stream.headers["Content-Type"].startswith("text/event-stream")
    assert read_events(tenant_stream, 1, 5)[0]["total"] == 0
    assert read_events(global_stream, 1, 5)[0]["total"] == 0
    assert sign_up(client, "acme", country="KE").status_code == 303
    started = time.monotonic()  # from the commitment stored (the sign-up's own time is not the streams')
    tenant_event, global_event = read_events(tenant_stream, 1, 3)[0], read_events(global_stream, 1, 3)[0]
    assert time.monotonic() - started < 2
    # The total moves by one; the men only in steps of k (tests/core/test_steps.py): one man would be named.
    assert (tenant_event["total"], tenant_event["men"]) == (1, 0)
    assert global_event["total"] == 1
    tenant_stream.close()
    global_stream.close()


def test_a_stream_of_one_tenant_hears_nothing_of_another(app, client, live_server, make_tenant):
    make_tenant("acme")
    make_tenant("globex")
    acme_stream = open_stream(live_server, "acme", read_timeout=2)
    read_events(acme_stream, 1, 5)
    sign_up(client, "globex")
    assert read_events(acme_stream, 1, 2) == []
    acme_stream.close()
