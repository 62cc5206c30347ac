"""A person commits on their phone, in a real browser (Debian's chromium)."""

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from flask import request

from core import page_cache
from core.tenancy import tenant_context
from tenants.models import Commitment
from tests.helpers import BASE_DOMAIN


def url(page, slug=None, path="/"):
    return f"http://{slug + '.' if slug else ''}{BASE_DOMAIN}:{page.port}{path}"


@pytest.mark.both_databases
def test_a_person_commits_and_sees_the_count(page, make_tenant, make_unit):
    acme = make_tenant("acme", "Acme Corporation", primary_color="#1f4e8c")
    make_unit(acme, "Nairobi office", country="KE")
    page.goto(url(page, "acme"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme Corporation in HeForShe")
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(31, 78, 140)")

    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Man", exact=True).check()
    page.get_by_label("Country").select_option("KE")
    page.get_by_label("Office, site or campus (optional)").select_option(label="Nairobi office")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="I commit").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator(".counter")).to_contain_text("1 commitment in all")
    expect(page.get_by_role("link", name="Men are counted in steps, to protect privacy")).to_be_visible()
    assert page.hosts_asked == {f"acme.{BASE_DOMAIN}"}, "nothing is loaded from anywhere else"


def test_a_mistake_is_explained_and_nothing_typed_is_lost(page, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.goto(url(page, "acme"))
    page.get_by_label("Email").fill("sam@")
    page.get_by_label("City (optional)").fill("Lyon")
    page.get_by_role("button", name="I commit").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please enter a valid email address")
    expect(alert).to_contain_text("Please choose one of the options.")
    expect(page.get_by_label("City (optional)")).to_have_value("Lyon")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    alert.get_by_role("link", name=re.compile("Email")).click()
    expect(page.get_by_label("Email")).to_be_focused()


def test_in_your_own_words_appears_once_a_person_describes_themself(page, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.goto(url(page, "acme"))
    own_words = page.get_by_label("In your own words (optional)")
    expect(own_words).to_be_hidden()
    page.get_by_label("Man", exact=True).check()
    expect(own_words).to_be_hidden()
    page.get_by_label("I describe myself as…").check()
    own_words.fill("Two-spirit")
    page.get_by_label("Woman", exact=True).check()
    expect(own_words).to_be_visible()  # never hides what a person typed


def test_arabic_reads_right_to_left(page, make_tenant):
    make_tenant("acme", "Acme")
    page.goto(url(page, "acme", "/?lang=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    brand = page.locator(".brand").bounding_box()
    assert brand["x"] + brand["width"] > 390 - 30, "the organisation's name starts on the right"
    assert page.locator(".languages summary").bounding_box()["x"] < 390 / 2, "the languages at the end, on the left"
    expect(page.locator("button[type=submit]")).to_have_text("أتعهّد")


def test_the_sign_up_and_thank_you_pages_pass_accessibility_checks(page, axe, make_tenant, make_unit):
    acme = make_tenant("acme", "Acme Corporation", primary_color="#1f4e8c")
    make_unit(acme, "Paris office")
    for language in ("en", "ar"):
        page.goto(url(page, "acme", f"/?lang={language}"))
        assert axe(page) == [], f"sign-up page in {language}"
        page.locator("button[type=submit]").click()
        assert axe(page) == [], f"sign-up page with errors in {language}"
    page.goto(url(page, "acme", "/thanks"))
    assert axe(page) == []


def test_the_city_is_suggested_in_the_persons_script(page, make_tenant):
    make_tenant("acme", "Acme")
    page.goto(url(page, "acme", "/?lang=ru"))
    page.locator("#country").select_option("RU")
    page.locator("#city").press_sequentially("моск")
    option = page.locator("#city-suggestions").get_by_role("option").first
    expect(option).to_have_text("Москва")
    page.locator("#city").press("ArrowDown")
    page.locator("#city").press("Enter")
    expect(page.locator("#city")).to_have_value("Москва")
    expect(page.locator("#place")).to_have_value("524901")


def test_use_my_location_finds_the_nearest_city_without_sending_the_position(browser, live_server, db,
                                                                            make_tenant):
    from tenants.services import hosts

    # Browsers give positions to secure pages only; *.localhost counts as one without a certificate.
    hosts.add_hostname(make_tenant("acme", "Acme"), "acme.localhost")
    db.session.commit()
    context = browser.new_context(geolocation={"latitude": 45.7640, "longitude": 4.8357}, permissions=["geolocation"],
                                  locale="fr-FR")
    tab = context.new_page()
    requested = []
    tab.on("request", lambda request: requested.append(request.url + (request.post_data or "")))
    tab.goto(f"http://acme.localhost:{live_server}/")
    expect(tab.locator("#country")).to_have_value("FR")  # from the browser's language, fr-FR
    tab.locator("#use-my-location").click()
    expect(tab.locator("#city")).to_have_value(re.compile(r"^Lyon"))
    assert not [r for r in requested if "45.76" in r or "4.83" in r], "the position never leaves the browser"
    context.close()


def test_a_published_target_shows_its_progress_on_the_map(page, db, make_tenant, make_commitment):
    from datetime import date, timedelta

    from core.tenancy import tenant_context
    from tenants.models import Target, TargetMetric

    acme = make_tenant("acme", "Acme")
    with tenant_context(acme):
        db.session.add(Target(metric=TargetMetric.MEN, value=40, deadline=date.today() + timedelta(days=30),
                              public=True))
        db.session.commit()
    for _ in range(10):  # k: the men are released
        make_commitment(acme)
    page.goto(url(page, "acme", "/map"))
    expect(page.locator(".target progress")).to_have_attribute("value", "10")
    expect(page.locator(".target")).to_contain_text("25% of the way there")


def test_a_person_held_back_by_the_rate_limit_loses_nothing_and_commits_after_the_wait(page, axe, app, db, client,
                                                                                     make_tenant):
    from sqlalchemy import select

    from core.rollup.models import Gender
    from core.tenancy import tenant_context
    from tenants.models import Commitment
    from tests.helpers import sign_up

    acme = make_tenant("acme", "Acme Corporation")
    app.config["SIGNUP_RATE_LIMIT_NETWORK"] = "1 per 3 seconds"
    page.goto(url(page, "acme"))
    assert sign_up(client, "acme", email="colleague@example.org").status_code == 303  # same network, just before
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Your name (optional)").fill("Sam")
    page.get_by_label("Woman", exact=True).check()
    page.get_by_label("Country").select_option("KE")
    page.get_by_label("City (optional)").fill("Nairobi")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="I commit").click()

    expect(page.get_by_role("alert")).to_contain_text("Everything you entered is still here")
    for label, value in (("Email", "sam@example.org"), ("Your name (optional)", "Sam"), ("Country", "KE"),
                         ("City (optional)", "Nairobi")):
        expect(page.get_by_label(label)).to_have_value(value)
    expect(page.get_by_label("Woman", exact=True)).to_be_checked()
    expect(page.get_by_label("I agree")).to_be_checked()
    assert axe(page) == []

    page.wait_for_timeout(4000)  # as the page says
    page.get_by_role("button", name="I commit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Sam")
    with tenant_context(acme):
        mine = db.session.scalars(select(Commitment).where(Commitment.gender == Gender.WOMAN)).one()
        assert (mine.client_network, mine.suspect) == ("127.0.0.0/24", None), "a person's pace raises nothing"


def test_the_keyboard_never_reaches_the_trap_field(page, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.goto(url(page, "acme"))
    page.get_by_label("Email").focus()
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"))
    assert "consent" in reached and "website" not in reached


def test_without_javascript_people_commit_from_the_kept_page_and_its_copy(browser, live_server, app, db, make_tenant):
    app.config["PAGE_CACHE_SECONDS"] = 1
    page_cache.init_app(app)  # pages kept, as in production
    acme = make_tenant("acme", "Acme Corporation")
    statuses = []  # the server's answers to the sign-up page
    app.after_request(lambda answer: statuses.append(answer.status_code) or answer if request.path == "/" and
                      request.method == "GET" else answer)
    for second, email in enumerate(("sam@example.org", "alex@example.org")):  # two people, one page kept for both
        if second:  # a new count is a new page (its ETag names the counts): let the first one's count settle
            time.sleep(2 * page_cache.MAX_PAGE_CACHE_SECONDS + 0.1)  # counts kept a second, their block another
        context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844},
                                      locale="en-GB")
        tab = context.new_page()
        statuses.clear()
        tab.goto(f"http://acme.{BASE_DOMAIN}:{live_server}/")
        tab.reload()  # the browser asks again with its copy's ETag, and uses its copy
        tab.get_by_label("Email").fill(email)
        tab.get_by_label("Man", exact=True).check()
        tab.get_by_label("Country").select_option("FR")
        tab.get_by_label("I agree").check()
        tab.get_by_role("button", name="I commit").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text("Thank you")
        assert statuses[:2] == [200, 304], "the copy was revalidated, not sent again"
        context.close()
    with tenant_context(acme):
        assert db.session.scalar(select(func.count()).select_from(Commitment)) == 2
