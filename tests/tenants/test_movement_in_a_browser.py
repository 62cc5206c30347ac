"""Someone without a partner organisation commits on the global page, in a real browser (Debian's chromium)."""

import time

from playwright.sync_api import expect

from core import page_cache
from core.rollup.models import Source
from tests.helpers import BASE_DOMAIN


def url(page, path="/"):
    return f"http://{BASE_DOMAIN}:{page.port}{path}"


def test_an_individual_commits_on_the_global_page(page, movement):
    page.goto(url(page))
    page.get_by_role("link", name="Commit now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commit to gender equality with HeForShe")
    expect(page.get_by_label("Office, site or campus (optional)")).to_have_count(0)

    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Man", exact=True).check()
    page.get_by_label("Country").select_option("KE")
    page.get_by_role("radio", name="Yes", exact=True).check()  # old enough to consent alone
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="I commit").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator(".counter")).to_contain_text("1 commitment in all")
    # One man alone is not shown as a man (the men move in steps of k), and the page says why.
    expect(page.get_by_role("link", name="Men are counted in steps, to protect privacy")).to_be_visible()
    page.get_by_role("link", name="Home").click()
    expect(page.locator(".hero [data-live=total]")).to_have_text("1")
    assert page.hosts_asked == {BASE_DOMAIN}, "nothing is loaded from anywhere else"


def test_the_way_in_and_the_movements_form_pass_accessibility_checks(page, axe, movement):
    for language in ("en", "ar"):
        page.goto(url(page, f"/?lang={language}"))
        assert axe(page) == [], f"global page in {language}"
        page.locator(".ways-in .button.big").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
        assert axe(page) == [], f"the movement's form in {language}"
        page.locator("button[type=submit]").click()
        assert axe(page) == [], f"the movement's form with errors in {language}"


def test_an_individual_confirms_from_the_mail_and_the_worlds_verified_count_moves(page, movement, smtp_server,
                                                                                  make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    for _ in range(10):  # the world's figures are released (k = 10) when the page is first read
        make_commitment(acme)
    page.goto(url(page))
    expect(page.locator(".hero [data-live=men]")).to_have_text("10")
    expect(page.locator(".hero .count-verified")).to_contain_text("0 of them verified")
    page.get_by_role("link", name="Commit now").click()
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Man", exact=True).check()
    page.get_by_label("Country").select_option("KE")
    page.get_by_role("radio", name="Yes", exact=True).check()
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="I commit").click()
    expect(page.get_by_role("status")).to_contain_text("Please check your email")

    link = smtp_server.link(smtp_server.last_to("sam@example.org"))
    assert link.startswith(url(page, "/confirm/")), "the link opens on the global host"
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your commitment")
    page.get_by_role("button", name="Confirm my commitment").click()
    expect(page.get_by_role("status")).to_contain_text("Your commitment is confirmed.")

    page.goto(url(page))
    expect(page.locator(".hero .count-verified")).to_contain_text("0 of them verified")  # one confirmation names Sam
    for _ in range(10):  # the next step: k more people, each verified (signed in), so the verified move by k too
        make_commitment(acme, source=Source.SSO, verified=True)
    # The page as kept may be a second old (its counts another): the men move on it live, the verified line does not.
    time.sleep(2 * page_cache.MAX_PAGE_CACHE_SECONDS + 0.1)
    page.goto(url(page))
    expect(page.locator(".hero [data-live=men]")).to_have_text("21")
    expect(page.locator(".hero .count-verified")).to_contain_text("11 of them verified")  # Sam among them
