"""The guarded client for addresses that tenants' admins choose: public addresses only (when the policy is on),
after name resolution, on every redirect, pinned against DNS rebinding, with a size cap; the admin sees a
generic message, never what the connection error said."""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from core import outbound
from tenants.models import Role
from tests.helpers import csrf_token, host

#: Where "the internet" is in these tests: a public address whose connections are handed to a local server.
PUBLIC_ADDRESS = "93.184.215.14"
TWO_MEGABYTES = 2 * 1024 * 1024


class Recorder(BaseHTTPRequestHandler):
    """Answers a few paths and notes every request it gets (path and Host header)."""

    seen: list[tuple[str, str]]

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Host", "")))
        if self.path == "/ok":
            self._answer(b'{"ok": true}')
        elif self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/huge-"):
            try:
                self._huge(streamed=self.path == "/huge-streamed")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up at its size limit, as it should: nothing to report
        else:
            self._answer(b"not here", 404)

    def _huge(self, streamed: bool):
        self.send_response(200)
        if streamed:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            for _ in range(TWO_MEGABYTES // len(chunk)):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(TWO_MEGABYTES))
            self.end_headers()
            self.wfile.write(b"x" * TWO_MEGABYTES)

    def _answer(self, body: bytes, status: int = 200):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web_server():
    """A small HTTP server on the loopback that notes what it was asked."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def network(monkeypatch, web_server):
    """Names resolve as a test says (``names``: a name to the list of its successive answers); a connection to
    ``PUBLIC_ADDRESS`` reaches ``web_server``; every connection to either is noted, and one to any other address
    that is not the loopback fails here before it leaves the machine."""
    names: dict[str, list[str]] = {}
    connections: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(name, port, *args, **kwargs):
        if isinstance(name, str) and name in names:
            answers = names[name]
            address = answers.pop(0) if len(answers) > 1 else answers[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]
        return real_getaddrinfo(name, port, *args, **kwargs)

    def connect(sock, address):
        if address[0] == PUBLIC_ADDRESS or address[1] == web_server.server_address[1]:
            connections.append(address[0])  # the outbound client's, not the app's own (its database, say)
        if address[0] == PUBLIC_ADDRESS:
            return real_connect(sock, ("127.0.0.1", web_server.server_address[1]))
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError(f"test network: {address[0]} is not reachable from tests")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return {"names": names, "connections": connections, "port": web_server.server_address[1]}


@pytest.fixture
def production_policy(app):
    app.config["OUTBOUND_ALLOW_PRIVATE"] = False
    with app.app_context():
        yield


def test_a_public_address_is_fetched(production_policy, network, web_server):
    network["names"]["idp.example.com"] = [PUBLIC_ADDRESS]
    answer = outbound.get(f"http://idp.example.com:{network['port']}/ok")
    assert answer.json() == {"ok": True}
    assert web_server.seen == [("/ok", f"idp.example.com:{network['port']}")]


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0"])
def test_the_loopback_is_refused(production_policy, network, web_server, address):
    with pytest.raises(requests.RequestException):
        outbound.get(f"http://{address}:{network['port']}/ok")
    assert web_server.seen == []


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.0.0.7", "192.168.1.1", "172.16.0.1",
                                     "100.64.0.1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"])
def test_a_name_that_resolves_to_a_private_address_is_refused_before_connecting(production_policy, network,
                                                                                   web_server, address):
    network["names"]["idp.example.com"] = [address]
    with pytest.raises(requests.RequestException):
        outbound.get(f"http://idp.example.com:{network['port']}/ok")
    assert network["connections"] == [] and web_server.seen == []


def test_a_redirect_to_the_loopback_is_refused(production_policy, network, web_server):
    network["names"]["idp.example.com"] = [PUBLIC_ADDRESS]
    port = network["port"]
    with pytest.raises(requests.RequestException):
        outbound.get(f"http://idp.example.com:{port}/redirect?to=http://127.0.0.1:{port}/ok")
    assert [path for path, _host in web_server.seen] == [f"/redirect?to=http://127.0.0.1:{port}/ok"]
    assert network["connections"] == [PUBLIC_ADDRESS]


def test_a_name_that_changes_its_answer_after_the_check_still_reaches_the_checked_address(production_policy,
                                                                                        network, web_server):
    network["names"]["rebind.example.com"] = [PUBLIC_ADDRESS, "127.0.0.1"]  # DNS rebinding
    assert outbound.get(f"http://rebind.example.com:{network['port']}/ok").status_code == 200
    assert network["connections"] == [PUBLIC_ADDRESS]


@pytest.mark.parametrize("path", ["/huge-declared", "/huge-streamed"])
def test_an_answer_larger_than_the_cap_is_refused(app, web_server, path):
    with app.app_context(), pytest.raises(outbound.ResponseTooLarge):
        outbound.get(f"http://127.0.0.1:{web_server.server_address[1]}{path}")


def test_identity_providers_on_this_machine_are_reached_where_the_policy_allows_it(app, web_server):
    assert app.config["OUTBOUND_ALLOW_PRIVATE"] is True  # the tests' and the embedded run's default
    with app.app_context():
        assert outbound.get(f"http://127.0.0.1:{web_server.server_address[1]}/ok").json() == {"ok": True}


# What the admin sees ----------------------------------------------------------------------------------


@pytest.fixture
def redis_like_port():
    """A TCP service that is not HTTP (like Redis): what a port scan through the settings page would find."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    accepted: list[str] = []
    stopping = threading.Event()

    def serve():
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            accepted.append("connection")
            connection.sendall(b"-ERR wrong number of arguments for 'get' command\r\n")
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield {"port": listener.getsockname()[1], "accepted": accepted}
    stopping.set()
    thread.join(timeout=2)
    listener.close()


LEAKS = ("ERR", "Errno", "refused", "Connection", "aborted", "BadStatusLine", "RemoteDisconnected", "Max retries",
         "HTTPConnectionPool", "InvalidIPAddress", "127.0.0.1 is")


@pytest.mark.parametrize("protocol, field", [("oidc", "oidc_issuer"), ("saml", "saml_metadata_url")])
def test_the_admin_sees_a_generic_message_and_nothing_is_probed(app, client, make_tenant, sign_in_as,
                                                                redis_like_port, protocol, field):
    app.config["OUTBOUND_ALLOW_PRIVATE"] = False
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, client=client)
    base = host("acme")
    page = client.get("/portal/sso", base_url=base).get_data(as_text=True)
    answer = client.post("/portal/sso", base_url=base, data={
        "csrf_token": csrf_token(page), "protocol": protocol, "enabled": "y", "oidc_client_id": "heforshe",
        "oidc_client_secret": "a-secret", "claim_email": "email",
        field: f"https://127.0.0.1:{redis_like_port['port']}/"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "could not be" in body and "public address" in body
    assert [leak for leak in LEAKS if leak in body] == []
    assert redis_like_port["accepted"] == []


def test_an_open_and_a_closed_port_look_the_same_to_the_admin(app, client, make_tenant, sign_in_as,
                                                              redis_like_port):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, client=client)
    base = host("acme")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    messages = []
    for port in (redis_like_port["port"], closed_port):  # the policy allows loopback here: only the text is at stake
        page = client.get("/portal/sso", base_url=base).get_data(as_text=True)
        body = client.post("/portal/sso", base_url=base, data={
            "csrf_token": csrf_token(page), "protocol": "oidc", "enabled": "y", "oidc_client_id": "heforshe",
            "oidc_client_secret": "a-secret", "claim_email": "email",
            "oidc_issuer": f"http://127.0.0.1:{port}"}).get_data(as_text=True)
        messages.append(body.split('role="alert"', 1)[1].split("</div>", 1)[0].replace(str(port), "PORT"))
    assert messages[0] == messages[1]
    assert [leak for leak in LEAKS if leak in messages[0]] == []


@pytest.mark.parametrize("protocol, field", [("oidc", "oidc_issuer"), ("saml", "saml_metadata_url")])
def test_where_addresses_must_be_public_an_identity_provider_over_plain_http_is_refused(
        app, client, make_tenant, sign_in_as, production_policy, network, web_server, protocol, field):
    network["names"]["idp.example.com"] = [PUBLIC_ADDRESS]
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, client=client)
    page = client.get("/portal/sso", base_url=host("acme")).get_data(as_text=True)
    answer = client.post("/portal/sso", base_url=host("acme"), data={
        "csrf_token": csrf_token(page), "protocol": protocol, "enabled": "y", "oidc_client_id": "heforshe",
        "oidc_client_secret": "a-secret", "claim_email": "email",
        field: f"http://idp.example.com:{network['port']}/ok"})
    assert answer.status_code == 400
    assert "Please use an address that starts with https://" in answer.get_data(as_text=True)
    assert web_server.seen == []  # its answer is never read: anyone on the way could have written it
