"""Dark mode and print in a real browser (Debian's chromium, its media emulated as DevTools'
``Emulation.setEmulatedMedia`` does): the public pages and the portal read well in the dark, in English and Arabic,
a tenant's brand colours included; the dashboard and the targets print their figures without the menus."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from core.colors import AA_CONTRAST, contrast_ratio
from core.tenancy import tenant_context
from tenants.models import Role, Target, TargetMetric
from tests.helpers import BASE_DOMAIN

# Brand colours dark enough that, as text in the dark, they must be lightened (core.colors.readable_on_dark).
BRAND = {"primary_color": "#1f4e8c", "accent_color": "#005a70"}

# The colour and background of every visible field a person types in or picks from.
FIELDS = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(field => field.offsetParent !== null && !['hidden', 'checkbox', 'radio'].includes(field.type))
    .map(field => [field.id, getComputedStyle(field).color, getComputedStyle(field).backgroundColor])"""


def url(page, slug: str | None = None, path: str = "/") -> str:
    return f"http://{slug + '.' if slug else ''}{BASE_DOMAIN}:{page.port}{path}"


def hex_color(computed: str) -> str | None:
    """A computed colour (``rgb(r, g, b)`` or ``rgba(...)``) as ``#rrggbb``; None when fully transparent."""
    values = re.findall(r"[\d.]+", computed)
    if len(values) == 4 and float(values[3]) == 0:
        return None
    return "#" + "".join(f"{int(float(value)):02x}" for value in values[:3])


def style(page, selector: str, name: str) -> str:
    return page.eval_on_selector(selector, f"element => getComputedStyle(element).{name}")


def unreadable_fields(page) -> list[str]:
    found = []
    for field, color, background in page.evaluate(FIELDS):
        background = hex_color(background)
        if background is not None and contrast_ratio(hex_color(color), background) < AA_CONTRAST:
            found.append(field)
    return found


def settle(page) -> None:
    """Wait until the page's scripts have finished drawing: axe reads a page that no longer changes under it."""
    page.wait_for_load_state("load")
    if page.locator("figure.map[data-map-src]").count():
        page.wait_for_selector("figure.map[data-drawn-ms]", state="attached")


def dark_problems(page, axe, what: str) -> list[str]:
    """What is hard to read on this page in the dark: a light page, axe's serious findings, unreadable fields."""
    settle(page)
    background = hex_color(style(page, "body", "backgroundColor"))
    if contrast_ratio(background, "#ffffff") < 10:
        return [f"{what}: the page is not dark ({background})"]
    return [f"{what}: {problem}" for problem in axe(page) + [f"field {field}" for field in unreadable_fields(page)]]


def acme_with_numbers(db, make_tenant, make_unit, make_commitment):
    """A tenant in its own colours, with a published target and enough people for every figure to show."""
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5, **BRAND)
    paris = make_unit(acme, "Paris office")
    with tenant_context(acme):
        db.session.add(Target(metric=TargetMetric.MEN, value=40, deadline=date.today() + timedelta(days=60),
                              public=True))
        db.session.commit()
    for _ in range(10):
        make_commitment(acme, unit=paris)
    return acme


#: The public pages: (site, path), None for the global host; "nosuch" names no site.
PUBLIC_PAGES = [(None, "/"), (None, "/commit"), (None, "/map"), (None, "/counting"), (None, "/snapshots/"),
                (None, "/me"), ("acme", "/"), ("acme", "/thanks"), ("acme", "/map"), ("acme", "/privacy"),
                ("acme", "/me"), ("acme", "/embed"), ("nosuch", "/")]
#: The portal's main pages, each with what to open first (a closed table of numbers) or None.
PORTAL_PAGES = [("/portal/dashboard", "main details summary"), ("/portal/targets", None), ("/portal/units", None),
                ("/portal/members", None), ("/portal/audit", None), ("/portal/exports", None)]


@pytest.mark.long
def test_the_pages_read_well_in_the_dark(page, axe, db, movement, make_tenant, make_unit, make_commitment,
                                         sign_in_as):
    acme = acme_with_numbers(db, make_tenant, make_unit, make_commitment)
    page.emulate_media(color_scheme="dark")
    problems = []
    for language in ("en", "ar"):
        for slug, path in PUBLIC_PAGES:
            page.goto(url(page, slug, f"{path}?lang={language}"))
            problems += dark_problems(page, axe, f"{slug or 'global'}{path} in {language}")
        page.goto(url(page, "acme", f"/?lang={language}"))
        page.locator("button[type=submit]").click()
        expect(page.locator(".error-summary")).to_be_visible()
        problems += dark_problems(page, axe, f"sign-up page with errors in {language}")

    sign_in_as(acme, Role.ADMIN, page=page)
    for language in ("en", "ar"):
        for path, opener in PORTAL_PAGES:
            page.goto(url(page, "acme", f"{path}?lang={language}"))
            if opener:
                page.locator(opener).first.click()
                expect(page.locator("details[open] table").first).to_be_visible()
            problems += dark_problems(page, axe, f"{path} in {language}")
    assert problems == []
    assert page.hosts_asked <= {BASE_DOMAIN, f"acme.{BASE_DOMAIN}", f"nosuch.{BASE_DOMAIN}"}


def test_the_light_pages_stay_light(page, make_tenant):
    make_tenant("acme", "Acme Corporation", **BRAND)
    page.emulate_media(color_scheme="light")
    page.goto(url(page, "acme"))
    assert hex_color(style(page, "body", "backgroundColor")) == "#f4f3f7"
    assert hex_color(style(page, ".hero h1", "color")) == BRAND["primary_color"]


def test_the_dashboard_and_targets_print_their_figures_without_the_menus(page, db, make_tenant, make_unit,
                                                                         make_commitment, sign_in_as):
    acme = acme_with_numbers(db, make_tenant, make_unit, make_commitment)
    sign_in_as(acme, Role.ADMIN, page=page)
    page.emulate_media(media="print", color_scheme="dark")  # printed black on white, even from a dark screen

    page.goto(url(page, "acme", "/portal/dashboard"))
    for menu in (".portal-nav", ".site-nav", ".languages", ".account"):
        assert style(page, menu, "display") == "none", menu
    headline = page.locator(".stat-value").first
    expect(headline).to_be_visible()
    assert hex_color(headline.evaluate("element => getComputedStyle(element).color")) == "#000000"
    assert hex_color(style(page, "body", "backgroundColor")) == "#ffffff"
    expect(page.get_by_role("img", name=re.compile("Bar chart of commitments per day"))).to_be_visible()
    expect(page.get_by_role("table", name="Commitments by day")).to_be_visible()  # printed open
    assert printed_pages(page) >= 1

    page.goto(url(page, "acme", "/portal/targets"))
    assert style(page, ".portal-nav", "display") == "none"
    expect(page.locator(".target-chart")).to_be_visible()
    expect(page.get_by_role("table", name="The count week by week, newest first")).to_be_visible()
    assert hex_color(style(page, ".badge", "color")) == "#000000", "printers leave the badge's background out"
    for control in page.locator(".button, .target-actions").all():
        expect(control).to_be_hidden()
    assert printed_pages(page) >= 1


def printed_pages(page) -> int:
    """How many A4 pages the browser's own printing to PDF makes of the page (it fails if it cannot print)."""
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")
    return len(re.findall(rb"/Type\s*/Page\b", pdf))
