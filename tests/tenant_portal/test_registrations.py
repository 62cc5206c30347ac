"""Course registration: a student information system sends students' answers (the API's registrations:batch) or
an admin uploads them as a CSV file; only students who opted in become commitments, and sending again changes
nothing."""

from __future__ import annotations

import functools
import http.server
import io
import threading
import time
import uuid

import lxml.html
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.rollup import recount
from core.rollup import services as rollup
from core.rollup.models import Source
from core.tenancy import tenant_context
from tenant_portal.registrations.models import Registration
from tenants.models import Commitment, Member, Role, TenantKind
from tests.helpers import BASE_DOMAIN, csrf_token, host
from tests.tenant_portal.api_fixtures import bearer, make_key  # noqa: F401 (a fixture)

NORTHFIELD = host("northfield")


@pytest.fixture
def northfield(make_tenant, make_unit):
    tenant = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    make_unit(tenant, "Faculty of Law", country="GB", external_key="law")
    make_unit(tenant, "Business School", country="AE", external_key="business")
    return tenant


def student(n: int, **fields) -> dict:
    return {"student_id": f"S{n:05d}", "email": f"student{n}@northfield.example", "opted_in": True,
            "unit_key": "law", "term": "2027-spring", **fields}


def send(client, token: str, records: list[dict]):
    return client.post("/api/v1/registrations:batch", base_url=NORTHFIELD, json={"records": records},
                       headers=bearer(token))


def counts(db, tenant) -> tuple[int, int]:
    """(commitments counted, registrations remembered) of ``tenant``."""
    with tenant_context(tenant):
        return (rollup.tenant_counts().total, db.session.scalar(select(func.count()).select_from(Registration)))


def test_each_record_gets_its_outcome_and_a_bad_one_blocks_none(client, db, northfield, make_key):
    token = make_key(northfield, ["registrations:write"])
    answer = send(client, token, [
        student(1, gender="man"),
        student(2, opted_in=False, email="declined@northfield.example"),
        student(3, email="not an address"),
        student(4, unit_key="medicine"),
        student(5, term=""),
        student(1, gender="man"),  # the same student twice in one batch
        student(6, unit_key="business", country="fr"),
    ])
    assert answer.status_code == 200
    body = answer.get_json()
    assert [(result["index"], result["outcome"]) for result in body["results"]] == [
        (0, "counted"), (1, "not_opted_in"), (2, "refused"), (3, "refused"), (4, "refused"), (5, "repeat"),
        (6, "counted")]
    reasons = [result["reason"] for result in body["results"]]
    assert reasons[2] == "Please enter a valid email address, like name@example.org."
    assert reasons[3] == "There is no unit with the key “medicine”."
    assert reasons[4] == "The term is missing."
    assert (body["counted"], body["repeats"], body["not_opted_in"], body["refused"]) == (2, 1, 1, 3)
    assert body["results"][5]["commitment_id"] == body["results"][0]["commitment_id"]
    with tenant_context(northfield):
        made = db.session.scalars(select(Commitment).order_by(Commitment.created_at)).all()
        assert [(c.source, c.verified, c.external_id, c.country_code) for c in made] == [
            (Source.REGISTRATION, True, "S00001", "GB"), (Source.REGISTRATION, True, "S00006", "FR")]
        emails = set(db.session.scalars(select(Member.email)))
    assert "declined@northfield.example" not in emails, "nothing is kept of a student who did not opt in"


def test_the_answers_come_in_the_callers_language_and_need_the_scope(client, northfield, make_key):
    answer = client.post("/api/v1/registrations:batch", base_url=NORTHFIELD, json={"records": [student(1, email="nope")]},
                         headers=bearer(make_key(northfield, ["registrations:write"]), **{"Accept-Language": "fr"}))
    assert answer.get_json()["results"][0]["reason"].startswith("Veuillez saisir une adresse électronique valide")
    assert send(client, make_key(northfield, ["commitments:write"]), [student(1)]).status_code == 403
    too_many = send(client, make_key(northfield, ["registrations:write"]), [student(n) for n in range(1001)])
    assert too_many.status_code == 422 and too_many.mimetype == "application/problem+json"


def test_a_thousand_students_sent_three_times_count_once(client, db, northfield, make_key, sign_in_as):
    token = make_key(northfield, ["registrations:write"])
    # A quarter opt in, as in a registration run where most students skip the question.
    batch = [student(n, opted_in=n % 4 == 0, gender="man" if n % 8 else "woman") for n in range(1000)]
    first = send(client, token, batch).get_json()
    assert (first["counted"], first["not_opted_in"], first["refused"]) == (250, 750, 0)
    for _ in range(2):
        again = send(client, token, batch).get_json()
        assert (again["counted"], again["repeats"], again["not_opted_in"]) == (0, 250, 750)
    assert counts(db, northfield) == (250, 250)
    assert recount.recount() == [], "the tallies agree with the commitments"
    sign_in_as(northfield, Role.ADMIN, client=client)
    dashboard = lxml.html.fromstring(client.get("/portal/dashboard", base_url=NORTHFIELD).get_data(as_text=True))
    sources = {tuple(cell.text_content().strip() for cell in row)
               for row in dashboard.xpath("//section[@aria-labelledby='by-source-title']//tbody/tr")}
    assert ("Registration", "250", "125") in sources


@pytest.mark.postgres
def test_two_batches_at_once_sharing_students_count_each_person_once(app, db, northfield, make_key, database):
    if database["backend"] != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    token = make_key(northfield, ["registrations:write"])
    batches = [[student(n) for n in range(0, 120)], [student(n) for n in range(60, 180)]]
    answers = [None, None]

    def post(which: int) -> None:
        answers[which] = send(app.test_client(), token, batches[which])

    threads = [threading.Thread(target=post, args=(which,)) for which in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [200, 200]
    assert sum(answer.get_json()["counted"] for answer in answers) == 180
    assert counts(db, northfield) == (180, 180)
    assert recount.recount() == []


def test_an_admin_checks_a_csv_file_then_imports_it(client, db, northfield, sign_in_as):
    sign_in_as(northfield, Role.ADMIN, client=client)
    page = client.get("/portal/registrations", base_url=NORTHFIELD).get_data(as_text=True)
    assert "Yes, I commit to HeForShe" in page and "Oui, je m’engage" not in page
    bad = ("student_id,email,opted_in,unit_key,term\n"
           "S1,ada@northfield.example,yes,law,2027-spring\n"
           "S2,not-an-address,yes,law,2027-spring\n"
           "S3,bo@northfield.example,maybe,law,2027-spring\n")
    checked = upload(client, page, bad)
    assert checked.status_code == 400
    rows = lxml.html.fromstring(checked.get_data(as_text=True)).xpath("//table[@class='import-problems']/tbody/tr")
    assert [(row[0].text_content(), row[1].text_content()) for row in rows] == [
        ("3", "Please enter a valid email address, like name@example.org."),
        ("4", "opted_in must be true or false.")]
    assert counts(db, northfield) == (0, 0), "checking writes nothing"

    good = ("student_id;email;opted_in;unit_key;term;gender\n"
            "S1;ada@northfield.example;yes;law;2027-spring;woman\n"
            "S2;bo@northfield.example;no;law;2027-spring;\n")
    checked = upload(client, client.get("/portal/registrations", base_url=NORTHFIELD).get_data(as_text=True), good)
    assert checked.status_code == 200 and "1 student opted in" in checked.get_data(as_text=True)
    imported = client.post("/portal/registrations/import", base_url=NORTHFIELD, data={
        "csrf_token": csrf_token(checked.get_data(as_text=True)), "content": good})
    assert imported.status_code == 303
    assert counts(db, northfield) == (1, 1)
    assert "1 counted" in client.get(imported.location, base_url=NORTHFIELD).get_data(as_text=True)


def upload(client, page: str, content: str):
    return client.post("/portal/registrations", base_url=NORTHFIELD, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "file": (io.BytesIO(content.encode()), "students.csv")})


# --- The embeddable opt-in -------------------------------------------------------------------------------------

WIDGET = f"{NORTHFIELD}/registration/widget"


@pytest.fixture
def sis_key():
    """The registration system's signing key (its public half is registered in the portal)."""
    return ECKey.generate_key("P-256")


def launch_token(key, **claims) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "ES256"}, {"aud": WIDGET, "sub": "S00042", "email": "ines@northfield.example",
                                         "term": "2027-spring", "unit_key": "law", "iat": now, "exp": now + 300,
                                         "jti": uuid.uuid4().hex, **claims}, key)


@pytest.fixture
def widget_on(client, northfield, sign_in_as, sis_key):
    """Northfield's admin registers the system's public key and the registration portal's origin."""
    sign_in_as(northfield, Role.ADMIN, client=client)

    def register(origin: str) -> None:
        page = client.get("/portal/registrations", base_url=NORTHFIELD).get_data(as_text=True)
        saved = client.post("/portal/registrations/widget", base_url=NORTHFIELD, data={
            "csrf_token": csrf_token(page), "public_key": sis_key.as_pem(private=False).decode(),
            "origins": f"{origin}\n"})
        assert saved.status_code == 303

    return register


def test_the_opt_in_refuses_a_private_key_and_a_made_up_origin(client, northfield, sign_in_as, sis_key):
    sign_in_as(northfield, Role.ADMIN, client=client)
    page = client.get("/portal/registrations", base_url=NORTHFIELD).get_data(as_text=True)
    private = client.post("/portal/registrations/widget", base_url=NORTHFIELD, data={
        "csrf_token": csrf_token(page), "public_key": sis_key.as_pem(private=True).decode(),
        "origins": "https://registration.northfield.example"})
    assert private.status_code == 400 and "This is a private key" in private.get_data(as_text=True)
    origin = client.post("/portal/registrations/widget", base_url=NORTHFIELD, data={
        "csrf_token": csrf_token(page), "public_key": sis_key.as_pem(private=False).decode(),
        "origins": "https://*.northfield.example/path"})
    assert origin.status_code == 400 and "is not an origin like" in origin.get_data(as_text=True)


def test_a_bad_expired_replayed_or_foreign_token_writes_nothing(client, db, northfield, widget_on, sis_key):
    widget_on("https://registration.northfield.example")
    other_key = ECKey.generate_key("P-256")
    now = int(time.time())
    for token, message in (
            (launch_token(other_key), "This link is not valid"),
            (launch_token(sis_key, exp=now - 120, iat=now - 400), "This link has expired"),
            (launch_token(sis_key, aud="http://globex.hfs.test/registration/widget"), "This link is not valid"),
            (launch_token(sis_key, exp=now + 3600), "This link is not valid"),  # lives longer than 15 minutes
            (launch_token(sis_key, unit_key="medicine"), "could not be used"),
            ("not-a-token", "This link is not valid")):
        shown = client.get(f"/registration/widget?token={token}", base_url=NORTHFIELD)
        assert shown.status_code == 400 and message in shown.get_data(as_text=True)
        posted = client.post("/registration/widget", base_url=NORTHFIELD, data={"token": token})
        assert posted.status_code == 400
    assert counts(db, northfield) == (0, 0)

    token = launch_token(sis_key)
    assert client.post("/registration/widget", base_url=NORTHFIELD, data={"token": token}).status_code == 200
    replay = client.post("/registration/widget", base_url=NORTHFIELD, data={"token": token})
    assert replay.status_code == 400 and "used already" in replay.get_data(as_text=True)
    assert counts(db, northfield) == (1, 1)


def test_a_student_commits_in_the_opt_in_framed_by_another_site(page, db, northfield, widget_on, sis_key,
                                                                 tmp_path):
    """The registration portal (another origin) frames the opt-in; one click counts the student, with no cookie."""
    portal = _serve_registration_portal(tmp_path)
    try:
        widget_on(f"http://127.0.0.1:{portal.server_port}")
        frame_src = f"http://northfield.{BASE_DOMAIN}:{page.port}/registration/widget?token="
        audience = f"http://northfield.{BASE_DOMAIN}:{page.port}/registration/widget"
        token = launch_token(sis_key, aud=audience)
        (tmp_path / "index.html").write_text(
            f'<!doctype html><title>Course registration</title><h1>Register for your courses</h1>'
            f'<iframe src="{frame_src}{token}" title="HeForShe" width="400" height="400"></iframe>')
        page.goto(f"http://127.0.0.1:{portal.server_port}/index.html")
        opt_in = page.frame_locator("iframe")
        expect(opt_in.get_by_role("heading", level=1)).to_have_text("Commit to HeForShe")
        opt_in.get_by_role("button", name="I commit").click()
        expect(opt_in.get_by_role("status")).to_have_text("Your commitment is counted. Thank you!")
        assert counts(db, northfield) == (1, 1)
        with tenant_context(northfield):
            assert db.session.scalars(select(Commitment.source)).one() is Source.REGISTRATION

        (tmp_path / "index.html").write_text(  # a page of an origin that was not registered
            f'<!doctype html><iframe src="{frame_src}{launch_token(sis_key, aud=audience)}" title="HeForShe"></iframe>')
        page.goto(f"http://localhost:{portal.server_port}/index.html")
        expect(page.frame_locator("iframe").get_by_role("button", name="I commit")).to_have_count(0)
    finally:
        portal.shutdown()


def _serve_registration_portal(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_course_registration_page_fits_a_phone(page, northfield, sign_in_as, widget_on):
    widget_on("https://registration.northfield.example")
    sign_in_as(northfield, Role.ADMIN, page=page)
    page.goto(f"http://northfield.{BASE_DOMAIN}:{page.port}/portal/registrations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Course registration")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, "no sideways scrolling"
