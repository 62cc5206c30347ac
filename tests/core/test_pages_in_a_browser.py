"""The global page and the error page in a real browser: readable, accessible, self-contained."""

from playwright.sync_api import expect

from tenants.demo import demo_logo
from tests.helpers import BASE_DOMAIN


def test_the_global_page_shows_the_movement(page, axe, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation", logo=demo_logo("Acme", "#1f4e8c"), logo_mime="image/png")
    make_tenant("globex", "Globex", listed=False)
    for _ in range(10):
        make_commitment(acme, country="KE")
    for language, men, kenya in (("en", "10", "Kenya"), ("ar", "10", "كينيا")):
        page.goto(f"http://{BASE_DOMAIN}:{page.port}/?lang={language}")
        expect(page.locator(".hero [data-live=men]")).to_have_text(men)
        expect(page.locator("#world-map path[data-id]").first).to_be_attached()  # the map is drawn on the first page
        wall = page.locator(".partners-wall")
        expect(wall.get_by_role("link")).to_have_count(1)  # listed partners only
        expect(wall.get_by_role("link")).to_have_attribute("href", f"http://acme.{BASE_DOMAIN}:{page.port}/")
        assert wall.locator("img").evaluate("image => image.naturalWidth") > 0, "the logo is served to the page"
        expect(page.get_by_role("table").first).to_contain_text(kenya)
        assert axe(page) == [], f"global page in {language}"
    page.goto(f"http://{BASE_DOMAIN}:{page.port}/?lang=en")
    page.get_by_role("link", name="Commit with your workplace or university").click()
    expect(page.get_by_label("Email")).to_be_in_viewport()
    assert page.hosts_asked == {BASE_DOMAIN}


def test_the_not_found_page_is_accessible(page, axe, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/nowhere?lang=fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert axe(page) == []


def test_a_host_that_names_no_site_is_styled_and_leads_to_the_global_site(page, axe, make_tenant):
    make_tenant("acme", "Acme Corporation")
    for language in ("en", "ar"):
        page.goto(f"http://nosuch.{BASE_DOMAIN}:{page.port}/somewhere?lang={language}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("main .button")).to_have_attribute("href", f"http://{BASE_DOMAIN}:{page.port}/")
        expect(page.locator(".site-header")).to_have_css("display", "flex")  # the stylesheet is served here too
        if language == "en":
            expect(page).to_have_title("No site at this address · HeForShe")
            expect(page.get_by_role("heading", level=1)).to_have_text("No site at this address")
        assert axe(page) == [], f"no site here, in {language}"
    assert page.hosts_asked == {f"nosuch.{BASE_DOMAIN}"}
