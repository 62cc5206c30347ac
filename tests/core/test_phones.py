"""Phones first: every public page fits a 320 px screen, with one compact header and targets a thumb can hit."""

import pytest
from playwright.sync_api import expect

from tests.helpers import BASE_DOMAIN

#: What a page must not have at 320 px: a horizontal scroll, a header taller than this, a target under 44 px.
HEADER_MAX_PX = 120
TARGET_PX = 44

# The interactive elements a person taps, with their size as tapped (a checkbox or radio by its label); links
# inside running text are exempt (WCAG 2.5.5's inline exception), as are the skip link until it is focused and
# anything not shown.
MEASURE = """() => {
  const small = [];
  for (const element of document.querySelectorAll('a[href], button, input, select, textarea, summary')) {
    if (element.type === 'hidden' || element.closest('.skip-link, [aria-hidden="true"]')) continue;
    let target = element;
    if ((element.type === 'checkbox' || element.type === 'radio') && element.labels.length) target = element.labels[0];
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (getComputedStyle(target).visibility === 'hidden') continue;
    if (element.tagName === 'A' && element.closest('main p, main li, dd, td, th, .site-footer')) continue;
    if (box.height < %(px)d - 0.5 || box.width < %(px)d - 0.5)
      small.push(`${element.tagName.toLowerCase()} "${(element.innerText || element.name || element.value || '').trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
  }
  const header = document.querySelector('.site-header');
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5
      || e.getBoundingClientRect().left < -0.5).map(e => `${e.tagName.toLowerCase()}.${e.className}`).slice(0, 5);
  return {overflow: document.documentElement.scrollWidth - window.innerWidth, wide,
          header: header ? Math.round(header.getBoundingClientRect().height) : 0, small};
}""" % {"px": TARGET_PX}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="en-GB")
    tab = context.new_page()
    tab.port = live_server
    yield tab
    context.close()


def pages(port: int) -> list[str]:
    acme = f"http://acme.{BASE_DOMAIN}:{port}"
    world = f"http://{BASE_DOMAIN}:{port}"
    return [f"{world}/", f"{world}/commit", f"{world}/map", f"{world}/counting", f"{world}/privacy",
            f"{world}/snapshots/", f"{world}/me", f"{acme}/", f"{acme}/map", f"{acme}/privacy", f"{acme}/me",
            f"{acme}/nowhere", f"http://nosuch.{BASE_DOMAIN}:{port}/"]


def problems_of(tab) -> dict:
    found = tab.evaluate(MEASURE)
    if found["overflow"] <= 0:
        del found["wide"]  # drawn outside but scrolled nowhere (the skip link): harmless
    return found if found["overflow"] > 0 or found["header"] > HEADER_MAX_PX or found["small"] else {}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_public_page_fits_a_phone(phone, movement, make_tenant, make_unit, make_commitment, language):
    acme = make_tenant("acme", "Acme Corporation", enabled_languages=["en", "fr", "es", "ar", "zh", "ru"],
                       map_visibility="public")
    make_unit(acme)
    for _ in range(10):
        make_commitment(acme, country="KE")
    problems = {}
    for address in pages(phone.port):
        phone.goto(f"{address}?lang={language}")
        if address.endswith("/map"):  # measured once the script has filled the table from map.json
            expect(phone.locator("table tbody tr").first).to_be_visible()
        if found := problems_of(phone):
            problems[address] = found
    phone.goto(f"http://acme.{BASE_DOMAIN}:{phone.port}/?lang={language}")  # and the thank-you page
    phone.locator("input[name=email]").fill("sam@example.org")
    phone.locator("input[name=gender][value=man]").check()
    phone.locator("select[name=country]").select_option("KE")
    phone.locator("input[name=consent]").check()
    phone.locator("button[type=submit]").click()
    expect(phone.locator(".counter")).to_be_visible()
    if found := problems_of(phone):
        problems["thank-you page"] = found
    assert problems == {}


def test_the_languages_are_one_menu_a_keyboard_or_a_thumb_opens(phone, axe, make_tenant):
    make_tenant("acme", "Acme Corporation", enabled_languages=["en", "fr", "es", "ar", "zh", "ru"])
    phone.goto(f"http://acme.{BASE_DOMAIN}:{phone.port}/")
    french = phone.get_by_role("link", name="français")
    expect(french).to_be_hidden()
    menu = phone.locator(".languages summary")
    expect(menu).to_have_text("Language: English")
    menu.focus()
    phone.keyboard.press("Enter")
    expect(french).to_be_visible()
    assert axe(phone) == [], "the open menu"
    french.click()
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    expect(phone.locator(".languages summary")).to_have_text("Langue: français")
