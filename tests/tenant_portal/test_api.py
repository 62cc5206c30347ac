"""The Commitments API (/api/v1): keys, writes as the form's, idempotency, pagination, errors and limits."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from core.tenancy import tenant_context
from tenant_portal.api.services import IDEMPOTENCY_LIFETIME
from tenant_portal.api.models import IdempotentAnswer
from tenant_portal.models import AuditEntry
from tenants.models import Commitment, UnitKind, utcnow
from tests.helpers import host
from tests.tenant_portal.api_fixtures import bearer, commitment, make_key  # noqa: F401 (a fixture)


def post(client, slug, token, body, key="k-1", **headers):
    return client.post("/api/v1/commitments", json=body, base_url=host(slug),
                       headers=bearer(token, **{"Idempotency-Key": key}, **headers))


def test_a_commitment_counts_once_and_a_repeat_says_so(client, db, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    first = post(client, "acme", token, commitment(), key="one")
    assert first.status_code == 201
    assert first.json["counted"] is True and first.json["source"] == "api" and first.json["counts"] is True
    again = post(client, "acme", token, commitment(email="SAM@example.org"), key="two")
    assert again.status_code == 200
    assert again.json["counted"] is False and again.json["id"] == first.json["id"]
    stats = client.get("/stats.json", base_url=host("acme")).json
    assert stats["commitments"] == 1
    with tenant_context(acme):
        assert db.session.scalar(select(Commitment.source)).value == "api"


def test_a_replay_answers_the_same_and_another_body_with_the_key_is_refused(client, db, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    first = post(client, "acme", token, commitment(), key="same")
    replay = post(client, "acme", token, commitment(), key="same")
    assert (replay.status_code, replay.json) == (201, first.json)
    other = post(client, "acme", token, commitment(email="alex@example.org"), key="same")
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Commitment.id))) == 1


def test_an_idempotency_key_is_forgotten_after_a_day(client, db, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    post(client, "acme", token, commitment(), key="old")
    with tenant_context(acme):
        db.session.scalars(select(IdempotentAnswer)).one().created_at = utcnow() - IDEMPOTENCY_LIFETIME * 2
        db.session.commit()
    reused = post(client, "acme", token, commitment(email="alex@example.org"), key="old")
    assert reused.status_code == 201


def test_bad_fields_get_translated_problems_per_field(client, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    response = post(client, "acme", token, commitment(gender="robot", country="XX", surprise=1, email="nope"),
                    **{"Accept-Language": "fr"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    pointers = {error["pointer"] for error in response.json["errors"]}
    assert {"/gender", "/country", "/surprise", "/email"} <= pointers
    french = {error["pointer"]: error["detail"] for error in response.json["errors"]}
    english = {error["pointer"]: error["detail"] for error in
               post(client, "acme", token, commitment(country="XX", email="nope")).json["errors"]}
    assert english["/country"] == "Please choose your country from the list."
    assert french["/country"] != english["/country"] and french["/email"] != english["/email"]


def test_unknown_unit_key_and_markup_are_refused(client, make_tenant, make_key, make_unit):
    acme = make_tenant("acme")
    token = make_key(acme)
    assert post(client, "acme", token, commitment(unit="nowhere")).json["errors"][0]["pointer"] == "/unit"
    assert post(client, "acme", token, commitment(city="<b>Paris</b>"), key="k-2").status_code == 422


def test_half_a_surrogate_pair_or_a_control_character_is_refused_not_a_server_error(client, make_tenant, make_key):
    """JSON can spell "\\ud800", which no database stores: each such field is refused by name (422)."""
    acme = make_tenant("acme")
    token = make_key(acme)
    for number, fields in enumerate(({"unit": "x\ud800"}, {"department": "\udc00"}, {"name": "Sam\x8f"},
                                     {"consent_version": "1\ud8ff"})):
        answer = post(client, "acme", token, commitment(**fields), key=f"k-{number}")
        assert answer.status_code == 422 and answer.json["errors"][0]["pointer"] == f"/{next(iter(fields))}"
    unit = client.put("/api/v1/units/paris", base_url=host("acme"), headers=bearer(token),
                      json={"name": "Paris office", "parent": "emea\udeb3"})
    assert unit.status_code == 422 and unit.json["errors"][0]["pointer"] == "/parent"


def test_a_unit_and_a_department_are_each_put_where_their_kind_belongs(client, db, make_tenant, make_key,
                                                                         make_unit):
    acme = make_tenant("acme")
    token = make_key(acme)
    paris = make_unit(acme, "Paris office", external_key="paris")
    finance = make_unit(acme, "Finance", kind=UnitKind.DEPARTMENT, external_key="finance")
    both = post(client, "acme", token, commitment(email="a@example.org", unit="paris", department="finance"), key="a")
    assert both.status_code == 201 and (both.json["unit"], both.json["department"]) == ("paris", "finance")
    alone = post(client, "acme", token, commitment(email="b@example.org", unit="finance"), key="b")
    assert alone.status_code == 201 and (alone.json["unit"], alone.json["department"]) == (None, "finance")
    office_as_department = post(client, "acme", token, commitment(email="c@example.org", department="paris"),
                                key="c")
    assert office_as_department.status_code == 422
    assert office_as_department.json["errors"][0]["pointer"] == "/department"
    with tenant_context(acme):
        stored = set(db.session.execute(select(Commitment.unit_id, Commitment.department_id)).all())
    assert stored == {(paris.id, finance.id), (None, finance.id)}


def test_keys_only_in_the_authorization_header(client, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    in_url = client.get(f"/api/v1/stats?access_token={token}", base_url=host("acme"))
    assert in_url.status_code == 400 and in_url.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/stats?x={token}", base_url=host("acme")).status_code == 400
    assert client.get("/api/v1/stats", base_url=host("acme")).status_code == 401


def test_another_tenants_key_gets_the_same_401_as_an_unknown_key(client, make_tenant, make_key):
    make_tenant("acme")
    globex = make_tenant("globex")
    globex_token = make_key(globex)
    theirs = client.get("/api/v1/stats", base_url=host("acme"), headers=bearer(globex_token))
    unknown = client.get("/api/v1/stats", base_url=host("acme"), headers=bearer("hfs_000000000000.nothing"))
    assert theirs.status_code == unknown.status_code == 401
    assert theirs.get_data() == unknown.get_data()
    assert theirs.headers["WWW-Authenticate"] == "Bearer"


def test_the_global_host_has_no_api(client, make_tenant, make_key):
    acme = make_tenant("acme")
    response = client.get("/api/v1/stats", base_url=host(), headers=bearer(make_key(acme)))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_scopes_limit_what_a_key_does(client, make_tenant, make_key):
    acme = make_tenant("acme")
    reader = make_key(acme, scopes=["stats:read"])
    assert client.get("/api/v1/stats", base_url=host("acme"), headers=bearer(reader)).status_code == 200
    assert post(client, "acme", reader, commitment()).status_code == 403


def test_a_revoked_key_is_refused_on_the_next_request(app, client, db, make_tenant, make_key):
    from tenant_portal.api import services
    acme = make_tenant("acme")
    token = make_key(acme)
    assert client.get("/api/v1/stats", base_url=host("acme"), headers=bearer(token)).status_code == 200
    with app.test_request_context(base_url=host("acme")), tenant_context(acme):
        services.revoke_key(services.keys()[0])
        db.session.commit()
    assert client.get("/api/v1/stats", base_url=host("acme"), headers=bearer(token)).status_code == 401


def test_bodies_over_the_limit_get_413(client, make_tenant, make_key):
    acme = make_tenant("acme")
    response = post(client, "acme", make_key(acme), commitment(name="x" * 20_000))
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_over_a_keys_rate_429_with_retry_after(app, client, make_tenant, make_key):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    acme = make_tenant("acme")
    token = make_key(acme)
    answers = [client.get("/api/v1/stats", base_url=host("acme"), headers=bearer(token)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert answers[2].mimetype == "application/problem+json"


def test_listing_pages_by_cursor_and_updated_since(client, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    ids = [post(client, "acme", token, commitment(email=f"p{n}@example.org"), key=f"k{n}").json["id"]
           for n in range(5)]
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/commitments", base_url=host("acme"), headers=bearer(token),
                          query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    later = client.get("/api/v1/commitments", base_url=host("acme"), headers=bearer(token),
                       query_string={"updated_since": "2100-01-01T00:00:00Z"}).json
    assert later["items"] == []
    bad = client.get("/api/v1/commitments?cursor=zzz", base_url=host("acme"), headers=bearer(token))
    assert bad.status_code == 422


def test_withdrawing_lowers_the_counts(client, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    made = post(client, "acme", token, commitment()).json
    response = client.delete(f"/api/v1/commitments/{made['id']}", base_url=host("acme"), headers=bearer(token))
    assert response.status_code == 204
    assert client.get("/stats.json", base_url=host("acme")).json["commitments"] == 0
    missing = client.delete(f"/api/v1/commitments/{uuid.uuid4()}", base_url=host("acme"), headers=bearer(token))
    assert missing.status_code == 404


def test_units_are_made_and_changed_by_key(client, db, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme)
    made = client.put("/api/v1/units/emea", base_url=host("acme"), headers=bearer(token),
                      json={"name": "EMEA", "kind": "site", "country": "FR"})
    assert made.status_code == 201
    child = client.put("/api/v1/units/paris", base_url=host("acme"), headers=bearer(token),
                       json={"name": "Paris office", "kind": "office", "parent": "emea", "country": "FR",
                             "city": "Paris", "eligible_men": 40, "eligible_total": 90})
    assert child.status_code == 201 and child.json["parent"] == "emea"
    changed = client.put("/api/v1/units/paris", base_url=host("acme"), headers=bearer(token),
                         json={"name": "Paris HQ", "kind": "office", "eligible_men": 50, "eligible_total": 40})
    assert changed.status_code == 422
    assert client.get("/api/v1/units/paris", base_url=host("acme"), headers=bearer(token)).json["name"] == \
        "Paris office"
    assert post(client, "acme", token, commitment(unit="paris")).json["unit"] == "paris"


def test_stats_are_the_released_counts(client, make_tenant, make_key, make_commitment):
    acme = make_tenant("acme", privacy_k=5)
    for _ in range(3):
        make_commitment(acme)
    stats = client.get("/api/v1/stats", base_url=host("acme"), headers=bearer(make_key(acme))).json
    assert stats["k"] == 5 and stats["by_gender"] == {}


def test_keys_made_and_revoked_are_audited(client, db, make_tenant, make_key):
    acme = make_tenant("acme")
    make_key(acme)
    with tenant_context(acme):
        assert db.session.scalar(select(AuditEntry.action)) == "api.key_create"
        assert "secret" not in str(db.session.scalar(select(AuditEntry.details)))


def test_the_openapi_document_is_valid_and_the_reference_page_shows_it(client, make_tenant):
    from openapi_spec_validator import validate
    make_tenant("acme")
    document = client.get("/api/v1/openapi.json", base_url=host("acme")).json
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert "/stats.json" in document["paths"]
    page = client.get("/api/docs", base_url=host("acme")).get_data(as_text=True)
    assert "POST /api/v1/commitments" in page and "Idempotency-Key" in page and "by_country" in page


def test_the_command_line_prints_the_same_document(app, client, make_tenant):
    make_tenant("acme")
    printed = app.test_cli_runner().invoke(args=["openapi", "print"])  # the document is built on first use
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == client.get("/api/v1/openapi.json", base_url=host("acme")).json


def test_with_the_database_away_the_api_answers_503_as_a_problem(client, make_tenant, make_key, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from tenant_portal.api import services
    acme = make_tenant("acme")
    token = make_key(acme)

    def away(token):
        raise OperationalError("SELECT 1", {}, Exception("the server closed the connection"))

    monkeypatch.setattr(services, "authenticate", away)
    response = client.get("/api/v1/stats", base_url=host("acme"), headers=bearer(token))
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] and response.json["status"] == 503


def test_the_dashboard_shows_commitments_made_through_the_api(client, make_tenant, make_key, sign_in_as):
    import lxml.html

    from tenants.models import Role
    acme = make_tenant("acme", privacy_k=5)
    token = make_key(acme)
    for n in range(5):
        assert post(client, "acme", token, commitment(email=f"p{n}@example.org"), key=f"k{n}").status_code == 201
    sign_in_as(acme, Role.ADMIN, client=client)
    page = lxml.html.fromstring(client.get("/portal/dashboard", base_url=host("acme")).get_data(as_text=True))
    rows = [[cell.text_content().strip() for cell in row]
            for row in page.xpath("//section[@aria-labelledby='by-source-title']//tbody/tr")]
    assert rows == [["API", "5", "5"]]


def test_the_consent_time_and_the_partners_own_id_are_kept_and_given_back(client, db, make_tenant, make_key):
    acme = make_tenant("acme")
    token = make_key(acme, scopes=["commitments:write", "commitments:read"])
    made = post(client, "acme", token, commitment(external_id="HR-4711", consented_at="2026-11-30T09:15:00+01:00"))
    assert made.status_code == 201
    assert (made.json["external_id"], made.json["consented_at"]) == ("HR-4711", "2026-11-30T08:15:00+00:00")
    listed = client.get("/api/v1/commitments", base_url=host("acme"), headers=bearer(token)).json
    assert [item["external_id"] for item in listed["items"]] == ["HR-4711"]
    with tenant_context(acme):
        kept = db.session.scalars(select(Commitment)).one()
        assert (kept.external_id, kept.consented_at.isoformat()[:19]) == ("HR-4711", "2026-11-30T08:15:00")
    refused = post(client, "acme", token, commitment(email="ada@example.org", external_id="<b>x</b>"), key="two")
    assert refused.status_code == 422 and refused.json["errors"][0]["pointer"] == "/external_id"
