"""Targets and the target tracker: the arithmetic with fixed dates, the pages as admins and viewers use
them, the published target on the sign-up page, and the whole thing in a real browser."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.rollup.models import Gender
from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenant_portal.targets import charts, services
from tenants.services import public
from tenants.models import Role, Target, TargetMetric
from tests.helpers import BASE_DOMAIN, chart_labels, csrf_token, host

ACME = host("acme")
IN_A_YEAR = date.today() + timedelta(days=365)
MAY_1 = date(2030, 5, 1)


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation")


def add_target(db, tenant, **fields) -> Target:
    with tenant_context(tenant):
        target = Target(**({"metric": TargetMetric.MEN, "value": 2000, "deadline": IN_A_YEAR} | fields))
        db.session.add(target)
        db.session.commit()
        db.session.refresh(target)
        db.session.expunge(target)
    return target


def stored(db, tenant) -> tuple[int, list[tuple[str, str]]]:
    """How many targets the tenant has, and its audit log (action, target)."""
    with tenant_context(tenant):
        count = db.session.scalar(select(func.count()).select_from(Target))
        audit = [(e.action, e.target) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.at))]
    return count, audit


def post_form(client, path, **fields):
    """Open the page, then send its form as a browser would (with its CSRF token)."""
    token = csrf_token(client.get(path, base_url=ACME).get_data(as_text=True))
    return client.post(path, base_url=ACME, data={"csrf_token": token} | fields)


# The arithmetic, with fixed dates.

def test_the_pace_needed_and_a_forecast_that_falls_short():
    result = services.pace(current=1000, goal=2000, deadline=date(2030, 6, 30), recent=120, today=MAY_1)
    assert result.remaining == 1000 and result.days_left == 60
    assert result.needed_per_week == 117  # 1,000 in 60 days: 116.7 a week, rounded up
    assert result.recent_per_week == 30.0  # 120 in 4 weeks
    assert result.shortfall == 1000 - 257  # 120/28 a day for 60 days: 257 more
    assert result.reached_on == MAY_1 + timedelta(days=234)  # 1,000 / (120/28) = 233.3 days
    assert result.status == "behind"


def test_a_forecast_on_track():
    result = services.pace(current=1900, goal=2000, deadline=date(2030, 6, 30), recent=280, today=date(2030, 6, 1))
    assert result.needed_per_week == 25  # 100 in 29 days
    assert result.reached_on == date(2030, 6, 11)  # 10 a day
    assert result.shortfall is None
    assert result.status == "on_track"


def test_a_target_reached_ended_or_without_recent_sign_ups():
    reached = services.pace(current=2001, goal=2000, deadline=date(2030, 6, 30), recent=0, today=MAY_1)
    assert (reached.status, reached.remaining, reached.needed_per_week, reached.shortfall) == ("reached", 0, None, None)
    ended = services.pace(current=1500, goal=2000, deadline=date(2030, 4, 30), recent=50, today=MAY_1)
    assert (ended.status, ended.shortfall, ended.needed_per_week) == ("ended", 500, None)
    still = services.pace(current=1500, goal=2000, deadline=date(2030, 5, 29), recent=0, today=MAY_1)
    assert (still.status, still.shortfall, still.reached_on, still.needed_per_week) == ("behind", 500, None, 125)
    last_day = services.pace(current=1990, goal=2000, deadline=MAY_1, recent=28, today=MAY_1)
    assert (last_day.needed_per_week, last_day.shortfall) == (70, 10)  # all ten today: 70 a week


def test_a_participation_rate_asks_for_its_share_of_the_eligible_men():
    rate = Target(metric=TargetMetric.PARTICIPATION_RATE, value=40, deadline=MAY_1)
    assert services.goal_count(rate, 1001) == 401  # 400.4 rounded up
    assert services.goal_count(rate, None) is None
    assert services.goal_count(Target(metric=TargetMetric.MEN, value=500, deadline=MAY_1), None) == 500


def test_the_curve_rises_in_steps_of_at_least_k_and_ends_at_the_exact_count():
    daily = {"2030-04-01": 5, "2030-05-01": 3, "2030-05-02": 8, "2030-05-04": 1}
    points = services.released_curve(daily, MAY_1, date(2030, 5, 4), k=10, current=17)
    assert [(p.day.day, p.count) for p in points] == [(1, 5), (2, 16), (3, 16), (4, 17)]


def test_the_tracker_counts_overall_and_per_unit(db, acme, make_unit, make_commitment):
    paris, lyon, nice = make_unit(acme, "Paris office"), make_unit(acme, "Lyon office"), make_unit(acme, "Nice office")
    with tenant_context(acme):
        acme.privacy_k = 5
        paris_row = public.unit_in_tenant(paris.id)
        paris_row.eligible_men = 50
        db.session.commit()
    april_20 = datetime(2030, 4, 20, 12, tzinfo=timezone.utc)
    for n in range(6):
        make_commitment(acme, unit=paris, created_at=april_20 + timedelta(days=n))
    for _ in range(5):  # with fewer than k women, the unit could not be shown
        make_commitment(acme, unit=paris, gender=Gender.WOMAN, created_at=april_20)
    for n in range(2):
        make_commitment(acme, unit=lyon, created_at=april_20)
    # Long ago, so not in the pace; Nice makes the held-back units two, so that Paris may be shown.
    make_commitment(acme, unit=nice, created_at=datetime(2030, 1, 2, tzinfo=timezone.utc))
    overall = add_target(db, acme, value=20, deadline=date(2030, 6, 30))
    everyone = add_target(db, acme, metric=TargetMetric.ALL, value=100, deadline=date(2030, 6, 30))
    rate = add_target(db, acme, metric=TargetMetric.PARTICIPATION_RATE, value=40, unit_id=paris.id,
                      deadline=date(2030, 6, 30))
    small = add_target(db, acme, value=10, unit_id=lyon.id, deadline=date(2030, 6, 30))
    with tenant_context(acme):
        found = {t.target.id: t for t in services.trackers(acme, [overall, everyone, rate, small], today=MAY_1)}
    assert (found[overall.id].current, found[overall.id].goal, found[overall.id].percent) == (9, 20, 45)
    assert found[overall.id].pace.recent == 8  # the men of the last four weeks
    assert found[everyone.id].current == 14
    paris_rate = found[rate.id]
    assert (paris_rate.current, paris_rate.eligible, paris_rate.goal, paris_rate.rate) == (6, 50, 20, 12.0)
    assert paris_rate.points[-1] == services.Point(MAY_1, 6)
    assert found[small.id].held_back  # two people: fewer than k
    assert charts.tracker_chart(found[small.id], MAY_1) is None
    chart = charts.tracker_chart(found[overall.id], MAY_1)
    assert chart.needed is not None and chart.forecast is not None and chart.goal_y is not None


def test_the_published_target_is_the_nearest_that_has_started(db, acme, make_commitment):
    for _ in range(10):  # k: the men are released
        make_commitment(acme)
    add_target(db, acme, value=40, deadline=date(2030, 9, 1), public=True)
    add_target(db, acme, value=3, deadline=date(2030, 6, 1), public=True, starts_on=date(2030, 5, 15))
    add_target(db, acme, value=2, deadline=date(2030, 5, 10))  # not public
    with tenant_context(acme):
        shown = public.public_target(acme.privacy_k, today=MAY_1)
        assert (shown["value"], shown["current"], shown["percent"]) == (40, 10, 25)
        assert public.public_target(acme.privacy_k, today=date(2030, 5, 20))["value"] == 3
        assert public.public_target(acme.privacy_k, today=date(2030, 9, 2)) is None


# The pages.

def form(**changes) -> dict:
    return {"unit": "", "metric": "men", "value": "2000", "starts_on": "",
            "deadline": IN_A_YEAR.isoformat(), "public": "y"} | changes


def test_an_admin_sets_a_target_and_sees_its_tracker(client, db, acme, make_commitment, sign_in_as):
    for _ in range(10):  # k: the men are released
        make_commitment(acme)
    sign_in_as(acme, Role.ADMIN, client=client)
    assert "No targets yet" in client.get("/portal/targets", base_url=ACME).get_data(as_text=True)
    saved = post_form(client, "/portal/targets/new", **form())
    assert saved.status_code == 303 and saved.location.endswith("/portal/targets")
    page = client.get("/portal/targets", base_url=ACME).get_data(as_text=True)
    assert "The target is set." in page
    assert "2,000 men committed by" in page
    assert "10 of 2,000 men" in page
    assert re.search(r'<progress class="target-progress" max="2000" value="10"', page)
    assert "a week to reach 2,000 by" in page
    assert "Shown on the sign-up page" in page
    count, audit = stored(db, acme)
    assert count == 1 and audit[0][0] == "target.create"


def test_bad_input_is_explained_and_nothing_is_written(client, db, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, client=client)
    refused = post_form(client, "/portal/targets/new", **form(value="0", deadline="2001-01-01"))
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Please enter a whole number from 1 up." in text
    refused = post_form(client, "/portal/targets/new", **form(deadline="next June"))
    assert "Please enter a date, like 2030-06-30." in refused.get_data(as_text=True)
    refused = post_form(client, "/portal/targets/new", **form(deadline=(date.today() - timedelta(days=1)).isoformat()))
    assert refused.status_code == 400 and "The deadline must be in the future." in refused.get_data(as_text=True)
    refused = post_form(client, "/portal/targets/new", **form(starts_on=IN_A_YEAR.isoformat(),
                                                              deadline=(IN_A_YEAR - timedelta(days=1)).isoformat()))
    assert refused.status_code == 400 and "The deadline must come after the start date." in refused.get_data(as_text=True)
    refused = post_form(client, "/portal/targets/new", **form(metric="participation_rate", value="40", public=""))
    assert refused.status_code == 400
    assert "none is known for Acme Corporation yet. Give it on the Units page first." in refused.get_data(as_text=True)
    refused = post_form(client, "/portal/targets/new", **form(metric="participation_rate", value="140", public=""))
    assert "A participation rate is a percentage from 1 to 100." in refused.get_data(as_text=True)
    refused = post_form(client, "/portal/targets/new", **form(metric="participation_rate", value="40"))
    assert "can be shown on the sign-up page" in refused.get_data(as_text=True)
    assert client.post("/portal/targets/new", base_url=ACME, data=form()).status_code == 400  # no CSRF token
    assert stored(db, acme) == (0, [])


def test_a_participation_rate_uses_the_eligible_headcount(client, db, acme, make_unit, make_commitment, sign_in_as):
    paris = make_unit(acme, "Paris office")
    with tenant_context(acme):
        public.unit_in_tenant(paris.id).eligible_men = 40
        db.session.commit()
    for _ in range(2):
        make_commitment(acme, unit=paris)
    for _ in range(8):  # k in all: the copy is released, and Paris's two in it
        make_commitment(acme)
    sign_in_as(acme, Role.ADMIN, client=client)
    refused = post_form(client, "/portal/targets/new", **form(metric="participation_rate", value="50", public=""))
    assert refused.status_code == 400  # none known for the whole organisation
    saved = post_form(client, "/portal/targets/new", **form(unit=str(paris.id), metric="participation_rate",
                                                            value="50", public=""))
    assert saved.status_code == 303
    page = client.get("/portal/targets", base_url=ACME).get_data(as_text=True)
    assert "50% of eligible men committed by" in page and "Paris office" in page
    # Two men are fewer than k: the unit's progress waits until it can be shown without singling anyone out.
    assert "To protect people's privacy, a unit's progress is shown only" in page


def test_an_admin_changes_and_deletes_a_target(client, db, acme, sign_in_as):
    target = add_target(db, acme)
    sign_in_as(acme, Role.ADMIN, client=client)
    edit = client.get(f"/portal/targets/{target.id}/edit", base_url=ACME).get_data(as_text=True)
    assert 'value="2000"' in edit
    saved = post_form(client, f"/portal/targets/{target.id}/edit", **form(metric="all", value="3000", public=""))
    assert saved.status_code == 303
    page = client.get("/portal/targets", base_url=ACME).get_data(as_text=True)
    assert "The target is saved." in page and "3,000 commitments by" in page
    assert "Shown on the sign-up page" not in page
    deleted = post_form(client, f"/portal/targets/{target.id}/delete")
    assert deleted.status_code == 303
    assert "The target is deleted." in client.get("/portal/targets", base_url=ACME).get_data(as_text=True)
    count, audit = stored(db, acme)
    assert count == 0
    assert [action for action, _ in audit] == ["target.update", "target.delete"]
    assert {name for _, name in audit} == {str(target.id)}


def test_a_target_whose_deadline_passed_can_still_be_edited(client, db, acme, sign_in_as):
    past = date.today() - timedelta(days=3)
    target = add_target(db, acme, deadline=past)
    sign_in_as(acme, Role.ADMIN, client=client)
    assert "The deadline has passed" in client.get("/portal/targets", base_url=ACME).get_data(as_text=True)
    saved = post_form(client, f"/portal/targets/{target.id}/edit", **form(deadline=past.isoformat(), public=""))
    assert saved.status_code == 303


def test_a_viewer_sees_the_tracker_and_can_change_nothing(client, db, acme, sign_in_as):
    target = add_target(db, acme)
    sign_in_as(acme, Role.VIEWER, client=client)
    page = client.get("/portal/targets", base_url=ACME)
    assert page.status_code == 200 and "2,000 men committed by" in page.get_data(as_text=True)
    assert "New target" not in page.get_data(as_text=True) and "/edit" not in page.get_data(as_text=True)
    token = csrf_token(client.get("/", base_url=ACME).get_data(as_text=True))
    for path in ("/portal/targets/new", f"/portal/targets/{target.id}/edit", f"/portal/targets/{target.id}/delete"):
        assert client.get(path, base_url=ACME).status_code == 403
        assert client.post(path, base_url=ACME, data=form(csrf_token=token)).status_code == 403
    assert stored(db, acme) == (1, [])


def test_another_tenants_target_is_not_found(client, db, acme, make_tenant, sign_in_as):
    theirs = add_target(db, make_tenant("globex", "Globex"))
    sign_in_as(acme, Role.ADMIN, client=client)
    token = csrf_token(client.get("/portal/targets/new", base_url=ACME).get_data(as_text=True))
    for path in (f"/portal/targets/{theirs.id}/edit", f"/portal/targets/{theirs.id}/delete"):
        assert client.get(path, base_url=ACME).status_code == 404
        assert client.post(path, base_url=ACME, data=form(csrf_token=token)).status_code == 404
    assert "men committed by" not in client.get("/portal/targets", base_url=ACME).get_data(as_text=True)


def test_the_sign_up_and_thank_you_pages_show_the_published_target(client, db, acme, make_commitment):
    for _ in range(10):  # k: the men are released
        make_commitment(acme)
    add_target(db, acme, value=40, deadline=date(2099, 6, 30), public=True)
    for path in ("/", "/thanks"):
        page = client.get(path, base_url=ACME).get_data(as_text=True)
        assert "10 of 40 men by June 30, 2099" in page
        assert 'max="40" value="10"' in page and "25% of the way there" in page
    french = client.get("/", base_url=ACME, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "30 juin 2099" in french


# In a real browser.

def test_an_admin_publishes_a_target_and_the_sign_up_page_shows_it(page, axe, db, acme, make_commitment, sign_in_as):
    for _ in range(10):  # k: the men are released
        make_commitment(acme)
    sign_in_as(acme, Role.ADMIN, page=page)
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/portal/targets")
    page.get_by_role("link", name="New target").click()
    page.get_by_label("Men committed", exact=True).check()
    page.get_by_label("Target", exact=True).fill("2000")
    page.get_by_label("Deadline").fill(IN_A_YEAR.isoformat())
    page.get_by_label("Show this target and its progress on the sign-up page").check()
    page.get_by_role("button", name="Save the target").click()

    expect(page.get_by_role("status")).to_contain_text("The target is set.")
    tracker = page.locator(".target-tracker")
    expect(tracker.get_by_role("heading", level=2)).to_contain_text("2,000 men committed by")
    expect(tracker.get_by_role("progressbar")).to_have_attribute("value", "10")
    expect(tracker).to_contain_text("10 of 2,000 men")
    expect(tracker).to_contain_text("a week to reach 2,000 by")
    expect(tracker.get_by_role("img")).to_be_visible()
    assert axe(page) == []
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/portal/targets?lang=ar")
    dates = chart_labels(page, ".target-chart svg")[:2]  # the first day and the deadline, read right to left
    assert dates == [["rtl", True, False], ["rtl", True, False]]
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/portal/targets?lang=en")

    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/")
    expect(page.locator(".public-target")).to_contain_text("10 of 2,000 men by")
    expect(page.locator(".public-target progress")).to_have_attribute("value", "10")
    assert axe(page) == []
