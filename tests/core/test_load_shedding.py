"""Past MAX_SERVING requests being served, a worker queues the others in arrival order; past MAX_IN_FLIGHT
requests in progress, it answers 503 at once; live streams are neither counted nor queued."""

import threading
import time
from types import SimpleNamespace

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from core import load_shedding
from core.load_shedding import LoadShedding, Turns


def _ok(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _start(app, path: str = "/count.json"):
    """Begin a request and leave its response open, as a server does while it is still sending it:
    ``(body, status, headers)``; closing the body ends the request."""
    return run_wsgi_app(app, EnvironBuilder(path=path).get_environ())


def test_past_the_limit_a_request_gets_503_with_retry_after_until_one_finishes():
    app = LoadShedding(_ok, limit=2)
    first_body, _, _ = _start(app)
    _start(app)
    body, status, headers = _start(app)
    assert status.startswith("503") and headers["Retry-After"] == "1"
    assert b"try again" in b"".join(body)
    first_body.close()
    assert _start(app)[1].startswith("200")


def test_live_streams_are_neither_counted_nor_refused():
    app = LoadShedding(_ok, limit=1)
    streams = [_start(app, "/live") for _ in range(3)]
    assert all(status.startswith("200") for _, status, _ in streams)
    assert _start(app)[1].startswith("200")
    assert _start(app, "/live")[1].startswith("200"), "a full worker still opens streams"
    assert _start(app)[1].startswith("503")


def test_a_request_that_fails_gives_its_place_back():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    app = LoadShedding(broken, limit=1)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            _start(app)
    assert app.in_flight == 0


def _start_in_background(app, path: str, answers: dict) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.__setitem__(path, _start(app, path)), daemon=True)
    thread.start()
    return thread


def _until(condition) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_past_its_places_a_worker_serves_requests_in_arrival_order_and_none_jumps_the_queue():
    served = []

    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        return _ok(environ, start_response)

    shedding = LoadShedding(app, limit=0, serving=1)
    first_body, _, _ = _start(shedding, "/a")
    answers: dict = {}
    for queued, path in enumerate(("/b", "/c"), start=1):
        _start_in_background(shedding, path, answers)
        _until(lambda: shedding.turns.waiting == queued)
    assert served == ["/a"]

    first_body.close()  # the place passes to /b, however soon another request asks
    _start_in_background(shedding, "/d", answers)
    _until(lambda: "/b" in answers and shedding.turns.waiting == 2)
    assert served == ["/a", "/b"]
    answers["/b"][0].close()
    _until(lambda: served == ["/a", "/b", "/c"])
    answers["/c"][0].close()
    _until(lambda: served == ["/a", "/b", "/c", "/d"])
    answers["/d"][0].close()
    assert shedding.turns.free == 1 and shedding.in_flight == 0


class Stopped(BaseException):
    """What a greenlet killed at a worker's shutdown raises."""


@pytest.mark.parametrize("given_first", [False, True])
def test_a_request_stopped_while_it_waits_loses_no_place(monkeypatch, given_first):
    turns = Turns(1)
    turns.take()

    class StoppedWhileWaiting(threading.Event):
        def wait(self, timeout=None):
            if given_first:
                turns.give_back()  # the holder finishes and hands this waiter the place, just too late
            raise Stopped

    monkeypatch.setattr(load_shedding, "threading", SimpleNamespace(Event=StoppedWhileWaiting))
    with pytest.raises(Stopped):
        turns.take()
    if not given_first:
        turns.give_back()
    assert turns.waiting == 0 and turns.free == 1


def test_requests_waiting_their_turn_count_towards_the_limit():
    shedding = LoadShedding(_ok, limit=2, serving=1)
    first_body, _, _ = _start(shedding)
    answers: dict = {}
    _start_in_background(shedding, "/count.json", answers)
    _until(lambda: shedding.turns.waiting == 1)
    assert _start(shedding)[1].startswith("503")
    first_body.close()
    _until(lambda: "/count.json" in answers)
    assert answers["/count.json"][1].startswith("200")


def test_init_app_sheds_only_when_a_limit_is_set():
    unlimited = Flask(__name__)
    load_shedding.init_app(unlimited)
    assert not isinstance(unlimited.wsgi_app, LoadShedding)

    flask_app = Flask(__name__)
    flask_app.config["MAX_IN_FLIGHT"] = 1
    flask_app.get("/count.json")(lambda: "ok")
    load_shedding.init_app(flask_app)
    load_shedding.init_app(flask_app)  # twice wraps once
    assert isinstance(flask_app.wsgi_app, LoadShedding) and flask_app.wsgi_app.limit == 1
    assert not isinstance(flask_app.wsgi_app.wsgi_app, LoadShedding)
    client = flask_app.test_client()
    open_response = client.get("/count.json", buffered=False)
    assert client.get("/count.json").status_code == 503
    open_response.close()
    assert client.get("/count.json").status_code == 200


def test_the_app_factory_reads_the_limit_from_its_configuration(app_config):
    from core.app import create_app

    assert isinstance(create_app({**app_config, "MAX_IN_FLIGHT": 5}).wsgi_app, LoadShedding)
    queueing = create_app({**app_config, "MAX_SERVING": 4}).wsgi_app
    assert isinstance(queueing, LoadShedding) and queueing.turns.free == 4 and not queueing.limit
    assert not isinstance(create_app(app_config).wsgi_app, LoadShedding)


@pytest.mark.parametrize("headers,language,words", [
    ({"Accept-Language": "fr-CA,fr;q=0.9"}, "fr", "Veuillez réessayer"),
    ({"Accept-Language": "ar"}, "ar", "يُرجى المحاولة"),
    ({"Accept-Language": "fr", "Cookie": "lang=ru"}, "ru", "попробуйте ещё раз"),
    ({}, "en", "Please try again"),
])
def test_a_shed_visitor_is_told_in_their_language(app, headers, language, words):
    app.config["MAX_IN_FLIGHT"] = 1
    load_shedding.init_app(app)
    shedding = app.extensions["load_shedding"]
    shedding.in_flight = 1  # the one place is taken
    body, status, response_headers = run_wsgi_app(
        shedding, EnvironBuilder(path="/", base_url="http://acme.hfs.test", headers=headers).get_environ())
    page = b"".join(body).decode()
    assert status.startswith("503") and response_headers["Retry-After"] == "1"
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page
    assert words in page
