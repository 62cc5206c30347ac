"""A webhook receiver on the loopback for the tests: it checks every request's signature with ``standardwebhooks``,
answers as told (``plan``: status codes to answer in turn, then 200), and processes each ``webhook-id`` once, as
Standard Webhooks asks receivers to: a repeat is answered 200 and ignored."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self):
        self.secret: str | None = None  # set once the endpoint is added (its secret is shown once)
        self.plan: list[int] = []
        self.hold_first_seconds = 0.0  # how long the first request of each webhook-id waits before its answer
        self.requests: list[dict] = []  # every request: webhook-id, verified, the status answered
        self.processed: dict[str, dict] = {}  # webhook-id -> payload, each processed once
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    payload, verified = None, False
                event_id = headers.get("webhook-id")
                with receiver.lock:
                    status = receiver.plan.pop(0) if receiver.plan else 200
                    if not verified:
                        status = 401
                    first = event_id not in receiver.processed and event_id not in {
                        r["id"] for r in receiver.requests}
                    if status < 300 and verified and event_id not in receiver.processed:
                        receiver.processed[event_id] = payload
                    receiver.requests.append({"id": event_id, "verified": verified, "status": status})
                if first and receiver.hold_first_seconds:
                    time.sleep(receiver.hold_first_seconds)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def ids(self) -> list[str]:
        with self.lock:
            return [r["id"] for r in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    thread.join(5)
