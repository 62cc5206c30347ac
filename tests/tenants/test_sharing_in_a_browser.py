"""The thank-you page in a real browser (Debian's chromium, phone-sized): the link is copied with a word said
aloud, the share links are plain links to the networks, everything fits and is easy to tap, in Arabic too."""

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.helpers import BASE_DOMAIN

NETWORKS = {"linkedin": "www.linkedin.com", "whatsapp": "wa.me", "x": "x.com", "facebook": "www.facebook.com"}


def url(page, path="/thanks"):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def test_copying_the_link_says_copied(page, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(url(page))
    page.get_by_role("button", name="Copy the link").click()
    expect(page.locator(".share [aria-live=polite]")).to_have_text("Copied")
    copied = page.evaluate("""() => { const field = document.getElementById("share-address");
        return field.value.substring(field.selectionStart, field.selectionEnd); }""")  # plain http: no clipboard API
    assert copied == f"http://acme.{BASE_DOMAIN}:{page.port}/"


def test_share_links_are_plain_links_to_the_networks_and_nothing_of_theirs_loads(page, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.goto(url(page))
    for network, netloc in NETWORKS.items():
        href = page.locator(f"a.share-{network}").get_attribute("href")
        assert urlsplit(href).netloc == netloc
    assert page.locator("a.share-email").get_attribute("href").startswith("mailto:?subject=")
    assert page.hosts_asked == {f"acme.{BASE_DOMAIN}"}, "no script, image or font of another site"


def test_the_page_fits_a_phone_and_is_easy_to_tap_in_english_and_arabic(page, make_tenant):
    make_tenant("acme", "Acme Corporation")
    for language in ("en", "ar"):
        page.goto(url(page, f"/thanks?lang={language}"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), language
        for target in page.locator(".share a, .share button, .thanks-links a").all():
            box = target.bounding_box()
            assert box["height"] >= 44, f"{target.inner_text()} in {language}"
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    first, row = page.locator(".share-links a").first.bounding_box(), page.locator(".share-links").bounding_box()
    assert abs(first["x"] + first["width"] - row["x"] - row["width"]) < 2 and first["x"] > row["x"] + 10, \
        "the links start on the right"


def test_the_page_fits_320_pixels(page, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(url(page, "/thanks?lang=ru"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_thank_you_page_passes_accessibility_checks(page, axe, make_tenant):
    make_tenant("acme", "Acme Corporation")
    for language in ("en", "ar"):
        page.goto(url(page, f"/thanks?lang={language}"))
        assert axe(page) == [], language


def commit(page, language="en", name="Sam Rivera"):
    page.goto(url(page, f"/?lang={language}"))
    page.locator("#email").fill("sam@example.org")
    page.locator("#name").fill(name)
    page.locator("#country").select_option("EG")
    page.locator("input[name=gender][value=man]").check()
    page.locator("#consent").check()
    page.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(name.split()[0])


def test_after_committing_one_is_greeted_and_sees_ones_country_on_the_map(page, axe, make_tenant):
    make_tenant("acme", "Acme Corporation")
    commit(page)
    expect(page.locator("h1")).to_have_text("Thank you, Sam")
    expect(page.locator(".my-place figcaption")).to_contain_text("You are on the map, in Egypt.")
    box = page.locator(".my-place svg").bounding_box()
    assert 100 <= box["width"] <= 390 and box["height"] > 50
    assert axe(page) == []
    page.reload()
    expect(page.locator("h1")).to_have_text("Thank you")
    expect(page.locator(".my-place")).to_have_count(0)


def test_the_personal_page_in_arabic_fits_320_pixels(page, axe, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page.set_viewport_size({"width": 320, "height": 700})
    commit(page, "ar", name="سامي")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".my-place figcaption")).to_contain_text("مصر")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    figure, svg = page.locator(".my-place").bounding_box(), page.locator(".my-place svg").bounding_box()
    assert abs(svg["x"] + svg["width"] - figure["x"] - figure["width"]) < 2, "the map starts on the right"
    assert axe(page) == []
