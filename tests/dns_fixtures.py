"""A real DNS server for the tests that prove ownership of a domain by its TXT record."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest


@pytest.fixture
def dns_server(app):
    """A tiny real DNS server on a UDP port of the loopback: answers TXT queries from ``records``."""
    records: dict[str, list[str]] = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stopping = threading.Event()

    def serve():
        while not stopping.is_set():
            try:
                wire, address = sock.recvfrom(4096)
            except socket.timeout:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            values = records.get(question.name.to_text().rstrip(".").lower())
            if values is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT:
                response.answer.append(dns.rrset.from_text_list(
                    question.name, 60, "IN", "TXT", [f'"{value}"' for value in values]))
            sock.sendto(response.to_wire(), address)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    app.config["DNS_NAMESERVER"] = f"127.0.0.1:{sock.getsockname()[1]}"
    yield records
    stopping.set()
    thread.join(timeout=2)
    sock.close()
