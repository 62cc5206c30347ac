"""A person commits on their phone, in a real browser (Debian's chromium)."""

import re

from playwright.sync_api import expect

from tests.helpers import BASE_DOMAIN


def url(page, slug=None, path="/"):
    return f"http://{slug + '.' if slug else ''}{BASE_DOMAIN}:{page.port}{path}"


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
    expect(page.locator(".counter")).to_contain_text("1 man has committed at Acme Corporation")
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


def test_arabic_reads_right_to_left(page, make_tenant):
    make_tenant("acme", "Acme")
    page.goto(url(page, "acme", "/?lang=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    brand = page.locator(".brand").bounding_box()
    assert brand["x"] > 390 / 2, "the organisation's name starts on the right"
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
