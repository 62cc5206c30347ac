"""The portal's pages and tables in a real browser: on a phone each row is a card with its cells named, nothing
scrolls sideways and every control is big enough to tap; on a laptop the units table fits its card."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tenants.models import Role
from tests.core.test_phones import problems_of
from tests.helpers import BASE_DOMAIN

LONG_NAME = "Changement climatique et développement durable, direction régionale Afrique de l'Ouest"

#: Every portal page a signed-in admin opens from the menu or a list, without a saved object of its own.
PAGES = ["/portal/dashboard", "/portal/targets", "/portal/targets/new", "/portal/units", "/portal/units/new",
         "/portal/units/import", "/portal/members", "/portal/branding", "/portal/exports", "/portal/audit",
         "/portal/sso", "/portal/api", "/portal/webhooks", "/portal/webhooks/new", "/portal/registrations",
         ]

#: What a stacked table shows: per body cell, whether it is a block under a label taken from its column.
CELLS = """() => [...document.querySelectorAll('main table tbody tr')].filter(row => row.offsetParent).map(row =>
  [...row.children].filter(cell => cell.textContent.trim()).map(cell => ({
    label: getComputedStyle(cell, '::before').content, display: getComputedStyle(cell).display,
    role: cell.getAttribute('role')})))"""


def url(page, path):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


@pytest.fixture
def acme(make_tenant, make_unit, make_commitment):
    tenant = make_tenant("acme", "Acme Corporation")
    paris = make_unit(tenant, name=LONG_NAME, external_key="climate-west-africa-regional-directorate")
    for _ in range(12):
        make_commitment(tenant, unit=paris)
    return tenant


@pytest.mark.parametrize("width", [320, 390])
def test_every_portal_page_fits_a_phone(page, db, acme, sign_in_as, width):
    page.set_viewport_size({"width": width, "height": 800})
    sign_in_as(acme, Role.ADMIN, page=page)
    found = {}
    for path in PAGES:
        response = page.goto(url(page, path))
        assert response.status == 200, path
        problems = problems_of(page)
        problems.pop("header", None)  # the site's header, signed in, is not the portal's to size
        if problems.get("overflow", 0) > 0 or problems.get("small"):
            found[path] = problems
    assert not found, "\n".join(f"{path}: {problems}" for path, problems in found.items())


def test_a_table_on_a_phone_is_one_card_a_row_with_its_cells_named(page, axe, db, acme, sign_in_as):
    sign_in_as(acme, Role.ADMIN, page=page)
    for path in ("/portal/units", "/portal/members", "/portal/dashboard"):
        page.goto(url(page, path))
        assert axe(page) == [], path
        rows = page.evaluate(CELLS)
        assert rows, path
        for cells in rows:
            for cell in cells:
                assert cell["display"] == "block", path
                assert cell["role"] in ("cell", "rowheader"), path
                assert cell["label"] not in ("none", "normal", '""'), (path, cell)
    page.goto(url(page, "/portal/units"))
    card = page.get_by_role("row", name=LONG_NAME[:20], exact=False)
    shown = card.evaluate("row => [...row.children].map(cell => getComputedStyle(cell, '::before').content)")
    assert '"Kind"' in shown[1] and '"Commitments"' in shown[7]
    # Screen readers still meet a table with its column headers.
    expect(page.get_by_role("table")).to_have_count(1)
    expect(page.get_by_role("columnheader", name="Eligible men")).to_have_count(1)
    expect(page.get_by_role("cell", name="Office")).to_be_visible()


def test_at_1280_px_the_units_table_shows_a_long_name_in_full(page, db, acme, sign_in_as):
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_as(acme, Role.ADMIN, page=page)
    page.goto(url(page, "/portal/units"))
    name = page.get_by_role("rowheader", name=LONG_NAME)
    expect(name).to_have_text(LONG_NAME)
    clipped = name.evaluate("cell => cell.scrollWidth > cell.clientWidth || getComputedStyle(cell).textOverflow")
    assert clipped in (False, "clip")
    fits = page.locator(".units-table").evaluate("""table => {
      const scroller = table.closest('.table-scroll');
      return scroller.scrollWidth <= scroller.clientWidth &&
        table.getBoundingClientRect().right <= table.closest('.panel').getBoundingClientRect().right;
    }""")
    assert fits
    expect(page.get_by_role("link", name=f"Edit {LONG_NAME}")).to_be_visible()
    # Headers are no longer set in the phone's cards: they are read as a table's.
    assert page.locator(".units-table thead").evaluate("head => getComputedStyle(head).position") != "absolute"
