"""LTI 1.3: a learning platform (lti1p3platform, with its own keys, served on the loopback) launches the tool; a
student commits with one click, verified in the course's unit, and the platform receives a completion score.
A refused launch writes nothing but its reason, shown on the admin's LTI page."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import lxml.html
import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.rollup.models import Gender, Source
from core.tenancy import tenant_context
from tenant_portal.lti import models as lti
from tenant_portal.lti.models import Course, Problem, UsedNonce
from tenants.models import Commitment, Member, Role, TenantKind, Unit
from tests.helpers import BASE_DOMAIN, csrf_token, host
from tests.tenant_portal.lti_platform import Platform

NORTHFIELD = host("northfield")


@pytest.fixture
def northfield(make_tenant, make_unit):
    tenant = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    make_unit(tenant, "Faculty of Law", country="GB", external_key="law")
    return tenant


@pytest.fixture
def platform():
    running = Platform()
    running.use_tool(NORTHFIELD)
    yield running
    running.close()


def register(client, platform: Platform, site: str = NORTHFIELD, **changes):
    page = client.get("/portal/lti", base_url=site).get_data(as_text=True)
    return client.post("/portal/lti", base_url=site, data={"csrf_token": csrf_token(page),
                                                           **platform.settings, **changes})


@pytest.fixture
def registered(client, northfield, sign_in_as, platform):
    """Northfield's admin registers the platform; the platform reads the tool's key set."""
    sign_in_as(northfield, Role.ADMIN, client=client)
    assert register(client, platform).status_code == 303
    platform.registration.set_tool_key_set(client.get("/lti/jwks", base_url=NORTHFIELD).get_json())
    return platform


def login(client, platform: Platform, site: str = NORTHFIELD) -> dict:
    """The platform's third-party-initiated login: the tool's answer names the authentication request."""
    url = urlsplit(platform.login_url())
    answer = client.get(f"{url.path}?{url.query}", base_url=site)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    target = lxml.html.fromstring(answer.get_data(as_text=True)).xpath("//a[@class='button']/@href")[0]
    assert target.startswith(platform.issuer + "/auth?")
    return dict(parse_qsl(urlsplit(target).query))


def launch(client, launch_data: dict, site: str = NORTHFIELD):
    return client.post("/lti/launch", base_url=site, data={"id_token": launch_data["id_token"],
                                                           "state": launch_data["state"]})


def written(db, tenant) -> tuple[int, int, int]:
    """(commitments, courses, used nonces) of ``tenant``."""
    with tenant_context(tenant):
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Commitment, Course, UsedNonce))


def problems(db, tenant) -> list[str]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(Problem.reason)))


def test_the_admin_registers_a_platform_and_copies_the_tools_addresses(client, northfield, sign_in_as, platform):
    sign_in_as(northfield, Role.ADMIN, client=client)
    assert client.get("/lti/jwks", base_url=NORTHFIELD).get_json() == {"keys": []}
    refused = register(client, platform, key_set_url="javascript:alert(1)")
    assert refused.status_code == 400 and "is not an https address" in refused.get_data(as_text=True)
    assert register(client, platform).status_code == 303
    page = client.get("/portal/lti", base_url=NORTHFIELD).get_data(as_text=True)
    for address in ("/lti/login", "/lti/launch", "/lti/jwks"):
        assert f"{NORTHFIELD}{address}" in page
    assert platform.issuer in page and "deployment-1" in page
    keys = client.get("/lti/jwks", base_url=NORTHFIELD).get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and "d" not in keys[0]


def test_a_launch_commits_the_student_in_the_courses_unit_and_sends_the_score(client, db, northfield,
                                                                              registered, sign_in_as):
    first = launch(client, registered.authenticate(login(client, registered)))
    assert first.status_code == 200 and "Ines Duarte" in first.get_data(as_text=True)
    with tenant_context(northfield):
        law = db.session.scalars(select(Unit)).one()
        course = db.session.scalars(select(Course)).one()
    assert course.title == "Law 101"
    page = client.get("/portal/lti", base_url=NORTHFIELD).get_data(as_text=True)
    assert client.post("/portal/lti/course", base_url=NORTHFIELD, data={
        "csrf_token": csrf_token(page), "platform": str(course.platform_id), "context": "course-101",
        "unit": str(law.id)}).status_code == 303

    shown = launch(client, registered.authenticate(login(client, registered)))
    token = lxml.html.fromstring(shown.get_data(as_text=True)).xpath("//input[@name='launch']/@value")[0]
    done = client.post("/lti/commit", base_url=NORTHFIELD, data={"launch": token})
    assert done.status_code == 200 and "Your commitment is counted" in done.get_data(as_text=True)
    with tenant_context(northfield):
        commitment = db.session.scalars(select(Commitment)).one()
        member = db.session.scalars(select(Member).where(Member.id == commitment.member_id)).one()
    assert commitment.source is Source.REGISTRATION and commitment.verified
    assert commitment.gender is Gender.UNDISCLOSED  # the question is optional
    assert (commitment.unit_id or commitment.department_id) == law.id and commitment.country_code == "GB"
    assert member.email == "ines@northfield.example"
    assert len(registered.scores) == 1
    score = registered.scores[0]
    assert (score["scoreGiven"], score["scoreMaximum"], score["activityProgress"], score["gradingProgress"],
            score["userId"]) == (1, 1, "Completed", "FullyGraded", "student-42")


def test_refused_launches_write_nothing_and_the_admin_sees_why(client, db, make_tenant, northfield, registered,
                                                                 sign_in_as):
    # An expired token.
    registered.token_lifetime = -120
    expired = launch(client, registered.authenticate(login(client, registered)))
    assert expired.status_code == 400 and "This link has expired" in expired.get_data(as_text=True)
    registered.token_lifetime = 300
    # An unknown deployment.
    registered.registration.set_deployment_id("deployment-9")
    unknown_deployment = launch(client, registered.authenticate(login(client, registered)))
    registered.registration.set_deployment_id("deployment-1")
    # An unknown issuer: another platform answers with the nonce and state of the registered one's login.
    stranger = Platform()
    try:
        stranger.use_tool(NORTHFIELD)
        assert client.get(urlsplit(stranger.login_url()).path + "?" + urlsplit(stranger.login_url()).query,
                          base_url=NORTHFIELD).status_code == 400
        forged = launch(client, stranger.authenticate(login(client, registered)))
    finally:
        stranger.close()
    # Another registered platform answers the registered one's login.
    second = Platform(client_id="second-tool")
    try:
        second.use_tool(NORTHFIELD)
        assert register(client, second).status_code == 303
        swapped = launch(client, second.authenticate({**login(client, registered), "client_id": "second-tool"}))
    finally:
        second.close()
    assert swapped.status_code == 400
    # A launch meant for another organisation's site, posted to it.
    globex = make_tenant("globex", "Globex University", kind=TenantKind.UNIVERSITY)
    elsewhere = launch(client, registered.authenticate(login(client, registered)), site=host("globex"))
    for answer in (unknown_deployment, forged, elsewhere):
        assert answer.status_code == 400 and "could not be used" in answer.get_data(as_text=True)
    assert written(db, northfield) == written(db, globex) == (0, 0, 0)
    assert problems(db, globex) == ["A launch was meant for another organisation's site (northfield.hfs.test)."]

    # A replayed launch: the first one counts, the second is refused.
    replayed = registered.authenticate(login(client, registered))
    assert launch(client, replayed).status_code == 200
    assert launch(client, replayed).status_code == 400
    assert written(db, northfield) == (0, 1, 1)

    page = client.get("/portal/lti", base_url=NORTHFIELD).get_data(as_text=True)
    for reason in ("expired", "unknown deployment", "unknown platform", "used before", "its login asked for"):
        assert reason in page, reason
    assert any("unknown platform" in each for each in problems(db, northfield))


def test_a_course_without_a_unit_and_a_refused_score_are_named_on_the_lti_page(client, db, northfield, registered):
    """A login posted as a form works too; the new-window page shows the same launch; a course without a unit
    writes nothing; a score the platform refuses leaves the commitment standing and is listed."""
    url = urlsplit(registered.login_url())
    posted = client.post("/lti/login", base_url=NORTHFIELD, data=dict(parse_qsl(url.query)))
    target = lxml.html.fromstring(posted.get_data(as_text=True)).xpath("//a[@class='button']/@href")[0]
    shown = launch(client, registered.authenticate(dict(parse_qsl(urlsplit(target).query))))
    assert f"frame-ancestors {registered.issuer};" in shown.headers["Content-Security-Policy"]
    new_window = lxml.html.fromstring(shown.get_data(as_text=True)).xpath(
        "//a[text()='Continue in a new window']/@href")[0]
    again = client.get(new_window, base_url=NORTHFIELD)
    assert again.status_code == 200 and "I commit" in again.get_data(as_text=True)
    token = lxml.html.fromstring(again.get_data(as_text=True)).xpath("//input[@name='launch']/@value")[0]
    no_unit = client.post("/lti/commit", base_url=NORTHFIELD, data={"launch": token})
    assert no_unit.status_code == 400 and "not set up for this course" in no_unit.get_data(as_text=True)
    assert written(db, northfield)[0] == 0

    with tenant_context(northfield):
        course = db.session.scalars(select(Course)).one()
        course.unit_id = db.session.scalars(select(Unit.id)).one()
        db.session.commit()
    registered.registration.set_tool_key_set({"keys": []})  # the platform no longer knows the tool's key
    done = client.post("/lti/commit", base_url=NORTHFIELD, data={"launch": token})
    assert done.status_code == 200 and written(db, northfield)[0] == 1 and registered.scores == []
    page = client.get("/portal/lti", base_url=NORTHFIELD).get_data(as_text=True)
    assert "the course has no unit with a country" in page
    assert f"The platform did not take a completion score ({registered.issuer})" in page


@pytest.mark.both_databases
def test_a_student_commits_inside_the_platforms_frame_and_the_grade_reaches_it(page, client, db, northfield,
                                                                              platform, sign_in_as):
    """The platform's course page (another site) frames the tool: login, launch and the click run in Chromium
    without any cookie of ours, and the score reaches the platform."""
    site = f"http://northfield.{BASE_DOMAIN}:{page.port}"
    platform.use_tool(site)
    sign_in_as(northfield, Role.ADMIN, client=client)
    assert register(client, platform).status_code == 303
    # The platform reads the tool's key set from the running site (its name resolves for the browser only).
    platform.registration.set_tool_key_set(requests.get(f"http://127.0.0.1:{page.port}/lti/jwks", timeout=10, headers={
        "Host": f"northfield.{BASE_DOMAIN}:{page.port}"}).json())
    # The course is known after a first launch; give it the unit before the student comes.
    with tenant_context(northfield):
        db.session.add(Course(platform_id=db.session.scalars(select(lti.Platform.id)).one(), context_id="course-101",
                              title="Law 101", unit_id=db.session.scalars(select(Unit.id)).one()))
        db.session.commit()

    page.goto(f"{platform.issuer}/course")
    tool = page.frame_locator("iframe")
    expect(tool.get_by_role("heading", level=1)).to_have_text("Commit to HeForShe")
    expect(tool.get_by_text("ines@northfield.example")).to_be_visible()
    expect(tool.get_by_role("link", name="Continue in a new window")).to_have_attribute(
        "href", re.compile(r"^/lti/commit\?launch="))
    tool.get_by_role("radio", name="Man", exact=True).check()
    tool.get_by_role("button", name="I commit").click()
    expect(tool.get_by_role("status")).to_have_text("Your commitment is counted. Thank you!")
    assert written(db, northfield) == (1, 1, 1)
    with tenant_context(northfield):
        assert db.session.scalars(select(Commitment.gender)).one() is Gender.MAN  # counted among the men
    assert [score["activityProgress"] for score in platform.scores] == ["Completed"]
