"""Attack mode in a real browser (Debian's chromium): the widget solves the check under the site's strict CSP, a
person commits without noticing more than a second's wait, with a keyboard, a screen reader, in Arabic; and while
attack mode is off nothing of it loads.

The widget needs a secure context (the browser's WebCrypto): https in production; here a ``*.localhost`` name,
which browsers treat as secure without a certificate.
"""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.tenancy import tenant_context
from tenants.models import Commitment
from tenants.services import hosts, registry

@pytest.fixture
def app_config(app_config):
    return {**app_config, "ALTCHA_MAX_NUMBER": 400, "ALTCHA_COST": 100}


@pytest.fixture
def acme(db, make_tenant):
    tenant = make_tenant("acme", "Acme Corporation")
    hosts.add_hostname(tenant, "acme.localhost")
    db.session.commit()
    return tenant


@pytest.fixture
def tab(browser, live_server):
    """A phone-sized tab that records every address it asks for, and every error (a CSP violation is one)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.requested, page.errors = [], []
    page.on("request", lambda request: page.requested.append(request.url))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.site = f"http://acme.localhost:{live_server}"
    yield page
    context.close()


def attack_mode_on(db, tenant):
    registry.set_attack_mode(tenant, True, "a flood of sign-ups")
    db.session.commit()


def fill_in(tab):
    tab.get_by_label("Email").fill("sam@example.org")
    tab.get_by_label("Man", exact=True).check()
    tab.get_by_label("Country").select_option("KE")
    tab.get_by_label("I agree").check()


def commitments(db, tenant) -> int:
    with tenant_context(tenant):
        return db.session.scalar(select(func.count(Commitment.id)))


def test_a_person_commits_while_the_widget_does_its_check(tab, db, acme):
    attack_mode_on(db, acme)
    tab.goto(tab.site + "/")
    expect(tab.locator("altcha-widget")).to_contain_text("I am a person, not an automated program")
    fill_in(tab)
    tab.get_by_role("button", name="I commit").click()

    expect(tab.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert commitments(db, acme) == 1
    assert {urlsplit(url).hostname for url in tab.requested} == {"acme.localhost"}, "nothing from anywhere else"
    assert any(url.endswith("/altcha/challenge") for url in tab.requested)
    assert any("altcha-pbkdf2-worker.js" in url for url in tab.requested), "the worker is the site's own file"
    assert tab.errors == [], "the widget works under the strict CSP"


def test_with_attack_mode_off_nothing_of_altcha_loads(tab, db, acme):
    tab.goto(tab.site + "/")
    fill_in(tab)
    tab.get_by_role("button", name="I commit").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert not [url for url in tab.requested if "altcha" in url]
    assert tab.errors == []


def test_the_check_works_from_the_keyboard_and_tells_screen_readers(tab, db, acme):
    attack_mode_on(db, acme)
    tab.goto(tab.site + "/")
    checkbox = tab.get_by_label("I am a person, not an automated program")
    checkbox.focus()
    tab.keyboard.press("Space")
    expect(tab.get_by_role("status").filter(has_text="Checked")).to_have_text("Checked: thank you.")
    expect(tab.get_by_label("Checked: thank you.")).to_be_checked()
    assert tab.errors == []
    fill_in(tab)
    tab.get_by_label("Email").press("Enter")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Thank you")


def test_the_check_reads_right_to_left_in_arabic(tab, db, acme):
    attack_mode_on(db, acme)
    tab.goto(tab.site + "/?lang=ar")
    widget = tab.locator("altcha-widget .altcha")
    expect(widget).to_have_attribute("dir", "rtl")
    box, label = (tab.locator(f"altcha-widget {part}").bounding_box()
                  for part in (".altcha-checkbox-wrap input", ".altcha-checkbox-wrap label"))
    assert box["x"] > label["x"], "the box comes first, on the right"
    tab.locator("altcha-widget input[type=checkbox]").click()  # a tap on the box starts the check at once
    expect(tab.locator("altcha-widget input[type=checkbox]")).to_be_checked()


def test_the_page_with_the_check_passes_accessibility_checks(tab, axe, db, acme):
    attack_mode_on(db, acme)
    for language in ("en", "ar"):
        tab.goto(tab.site + f"/?lang={language}")
        expect(tab.locator("altcha-widget input[type=checkbox]")).to_be_attached()
        assert axe(tab) == [], f"sign-up page in attack mode, in {language}"
    tab.locator("button[type=submit]").click()  # nothing filled in
    expect(tab.get_by_role("alert")).to_be_visible()
    assert axe(tab) == [], "with its mistakes listed, after the check"


def test_without_javascript_the_page_says_the_check_needs_it(browser, live_server, db, acme):
    # (Its <noscript> notice is not shown: this headless chromium parses pages as if scripts ran, whatever
    # playwright turns off; tests/tenants/test_attack_mode.py finds it in the page.)
    attack_mode_on(db, acme)
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"http://acme.localhost:{live_server}/")
    expect(tab.get_by_text("a short calculation (this needs JavaScript)")).to_be_visible()
    fill_in(tab)
    tab.get_by_role("button", name="I commit").click()
    expect(tab.get_by_role("alert")).to_contain_text("has not done its check yet (it needs JavaScript)")
    expect(tab.get_by_label("Email")).to_have_value("sam@example.org")
    assert commitments(db, acme) == 0
    context.close()
