"""The live map in a real browser: a commitment made in another browser shows within two seconds."""

import time

import pytest
from playwright.sync_api import expect

from tests.helpers import BASE_DOMAIN


def commit_in_another_browser(browser, port, slug, email, country):
    context = browser.new_context(locale="en-GB")
    tab = context.new_page()
    tab.goto(f"http://{slug}.{BASE_DOMAIN}:{port}/")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Man", exact=True).check()
    tab.get_by_label("Country").select_option(country)
    tab.get_by_label("I agree").check()
    tab.get_by_role("button", name="I commit").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Thank you")
    context.close()


@pytest.mark.both_databases
def test_the_tenant_map_counter_rises_live(browser, page, axe, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    for n in range(5):
        make_commitment(acme, email=f"kenya{n}@example.org", country="KE")
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/map")
    expect(page.locator("[data-live=men]")).to_have_text("5")
    kenya = page.locator("figure.map path[data-id='404']")
    expect(kenya).to_have_count(1)
    assert axe(page) == []
    started = time.monotonic()
    commit_in_another_browser(browser, page.port, "acme", "new@example.org", "KE")
    # The total rises by one at once; the men only in steps of k (tests/core/test_steps.py).
    expect(page.locator("[data-live=total]")).to_have_text("6", timeout=2000)
    expect(page.locator("[data-live=men]")).to_have_text("5")
    assert time.monotonic() - started < 6, "including the other browser's own page loads"
    assert page.hosts_asked == {f"acme.{BASE_DOMAIN}"}


def test_the_global_map_draws_offline_and_rises_live(browser, page, axe, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    for n in range(10):
        make_commitment(acme, email=f"brazil{n}@example.org", country="BR")
        make_commitment(acme, email=f"kenya{n}@example.org", country="KE")
    for language in ("ar", "en"):
        page.goto(f"http://{BASE_DOMAIN}:{page.port}/map?lang={language}")
        expect(page.locator("figure.map svg path").first).to_be_attached()
        assert axe(page) == [], f"map page in {language}"
    drawn_ms = float(page.locator("figure.map").get_attribute("data-drawn-ms"))
    print(f"global map drawn in {drawn_ms:.0f} ms")
    assert drawn_ms < 1000
    brazil = page.locator("figure.map path[data-id='076']")
    colour_before = brazil.get_attribute("fill")
    commit_in_another_browser(browser, page.port, "acme", "another@example.org", "KE")
    expect(page.locator("[data-live=total]")).to_have_text("21", timeout=2000)
    page.get_by_role("group", name="Shade countries by").get_by_role("button", name="Per million men").click()
    expect(brazil).not_to_have_attribute("fill", colour_before)
    assert page.hosts_asked == {BASE_DOMAIN}


def test_the_embedded_counter_is_accessible_and_live(browser, page, axe, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    make_commitment(acme)
    for language in ("en", "ar"):
        page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/embed/counter?lang={language}")
        assert axe(page) == [], f"embedded counter in {language}"
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/embed")
    assert axe(page) == [], "the embedding instructions"
    counter = page.frame_locator("iframe.embed-preview").locator("[data-live=total]")
    expect(counter).to_have_text("1")
    commit_in_another_browser(browser, page.port, "acme", "new@example.org", "KE")
    expect(counter).to_have_text("2", timeout=2000)
