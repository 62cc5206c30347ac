"""The Commitments API served by gunicorn on loopback (as the app role on PostgreSQL): schemathesis finds no
server error and no answer outside the OpenAPI document; one Idempotency-Key sent twice at once makes one
commitment."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
import schemathesis
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks
from sqlalchemy import func, select

from core.tenancy import tenant_context
from tenants.models import Commitment
from tests.core.test_live_across_workers import app_environment, gunicorn_processes
from tests.helpers import BASE_DOMAIN
from tests.tenant_portal.api_fixtures import bearer, commitment, make_key  # noqa: F401 (a fixture)

HOST = f"acme.{BASE_DOMAIN}"
CHECKS = [schemathesis.checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture
def served(app_config, tmp_path, make_tenant, make_key):
    """Two gunicorn processes serving Acme's site, and a key of Acme's with every scope."""
    acme = make_tenant("acme", "Acme Corporation")
    token = make_key(acme)
    environment = app_environment(app_config, API_RATE_LIMIT="100000 per minute", RATELIMIT_ENABLED="false")
    with gunicorn_processes(environment, 2, tmp_path) as ports:
        yield acme, token, ports


@pytest.mark.long
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(served):
    _, token, ports = served
    base_url = f"http://127.0.0.1:{ports[0]}"
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", headers={"Host": HOST})
    headers = {"Host": HOST, **bearer(token)}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=25, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def call(case):
                assume(_request_line_fits(case, base_url))
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label


def _request_line_fits(case, base_url: str) -> bool:
    """Whether gunicorn takes the request line at all: over its limit (4,094 bytes) gunicorn itself answers 414 in
    HTML before the app sees the request, which says nothing of the API's own answers."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    prepared = requests.Request(kwargs["method"], kwargs["url"], params=kwargs.get("params")).prepare()
    return len(f"{prepared.method} {prepared.path_url} HTTP/1.1") <= 4094


def _post(port: int, token: str, body: dict, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/commitments", data=json.dumps(body).encode(), method="POST",
        headers={"Host": HOST, "Content-Type": "application/json", "Idempotency-Key": key, **bearer(token)})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_one_idempotency_key_sent_twice_at_once_makes_one_commitment(served, db):
    acme, token, ports = served
    for attempt in range(5):
        body, key, answers = commitment(email=f"same{attempt}@example.org"), f"at-once-{attempt}", [None, None]
        start = threading.Barrier(2)

        def send(i):
            start.wait()
            answers[i] = _post(ports[i], token, body, key)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers[0] == answers[1] and answers[0][0] == 201, answers
        assert _post(ports[0], token, body, key) == answers[0]  # a replay later answers the same
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Commitment.id))) == 5
