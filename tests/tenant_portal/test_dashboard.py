"""The dashboard: an organisation's numbers as its admins and viewers see them, none under the privacy threshold."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import lxml.html
import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import update

from core.rollup.models import Gender, Source
from core.tenancy import tenant_context
from tenants.models import Role, TenantText, Unit, UnitKind
from tests.helpers import BASE_DOMAIN, chart_labels, host

ACME = host("acme")


def table(page: str, caption: str) -> list[list[str]]:
    """The rows of the table with this caption, each as its cells' text (header cells included)."""
    document = lxml.html.fromstring(page)
    tables = [t for t in document.iter("table") if t.find("caption") is not None
              and t.find("caption").text_content().strip() == caption]
    assert tables, f"no table captioned {caption!r}"
    return [[" ".join(cell.text_content().split()) for cell in row.iterchildren("th", "td")]
            for row in tables[0].iter("tr")][1:]


def stats(page: str) -> list[str]:
    """The headline numbers, each with its label."""
    document = lxml.html.fromstring(page)
    return [" ".join(p.text_content().split()) for p in document.find_class("dashboard-stat")]


def days_ago(n: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=n)


def shown(day, language: str = "en") -> str:
    """A day as the dashboard writes it in this language (Babel's medium format: no ISO dates)."""
    return format_date(day, "medium", locale=language)


def set_eligible_men(db, tenant, unit, value):
    with tenant_context(tenant):
        db.session.execute(update(Unit).where(Unit.id == unit.id).values(eligible_men=value))
        db.session.commit()


def test_the_numbers_shown_are_the_numbers_committed(client, db, make_tenant, make_unit, make_commitment,
                                                     sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    paris = make_unit(acme, "Paris office", country="FR")
    nairobi = make_unit(acme, "Nairobi office", country="KE")
    set_eligible_men(db, acme, paris, 20)
    for n in range(5):
        make_commitment(acme, unit=paris, country="FR")
        make_commitment(acme, unit=nairobi, country="KE", created_at=days_ago(10), source=Source.SSO)
        make_commitment(acme, country="BR", created_at=days_ago(40))
        make_commitment(acme, country="BR", gender=Gender.WOMAN, created_at=days_ago(40))
    sign_in_as(acme, Role.VIEWER, client=client)

    page = client.get("/portal/dashboard", base_url=ACME).get_data(as_text=True)

    assert stats(page) == ["15 men have committed", "20 commitments in all",
                           "5 in the last 7 days · 5 men", "10 in the last 30 days · 10 men"]
    assert table(page, "Commitments and participation by unit") == [
        ["Nairobi office", "5", "5", "—unknown", "—unknown"],
        ["Paris office", "5", "5", "20", "25%"],
    ]
    assert table(page, "Commitments by country") == [["Brazil", "10", "5"], ["France", "5", "5"], ["Kenya", "5", "5"]]
    assert table(page, "Commitments by how people committed") == [["Sign-up page", "15", "10"],
                                                                 ["Single sign-on", "5", "5"]]
    by_day = dict((row[0], row[1:]) for row in table(page, "Commitments by day"))
    assert by_day[shown(days_ago(0).date())] == ["5", "5"]
    assert by_day[shown(days_ago(10).date())] == ["5", "5"]
    assert by_day[shown(days_ago(1).date())] == ["0", "0"]
    assert len(by_day) == 30
    assert page.count('class="bar-all"') == 2, "a bar for each day with commitments"


def test_groups_under_the_threshold_are_hidden(client, make_tenant, make_unit, make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    paris = make_unit(acme, "Paris office", country="FR")
    lyon = make_unit(acme, "Lyon office", country="FR")
    berlin = make_unit(acme, "Berlin office", country="DE")
    for n in range(5):
        make_commitment(acme, unit=paris, country="FR", created_at=days_ago(3))
    make_commitment(acme, unit=lyon, country="IT", created_at=days_ago(3))
    make_commitment(acme, unit=berlin, country="DE", gender=Gender.WOMAN, created_at=days_ago(2))
    sign_in_as(acme, Role.ADMIN, client=client)

    page = client.get("/portal/dashboard", base_url=ACME).get_data(as_text=True)

    assert table(page, "Commitments and participation by unit") == [
        ["Berlin office", "fewer than 5", "", "—unknown", "—unknown"],
        ["Lyon office", "fewer than 5", "", "—unknown", "—unknown"],
        ["Paris office", "5", "5", "—unknown", "—unknown"],
        ["2 groups of fewer than 5 people, together", "2", "1", "", ""],
    ]
    countries = table(page, "Commitments by country")
    assert countries == [["France", "5", "5"], ["2 groups of fewer than 5 people, together", "2", "1"]]
    assert "Germany" not in page and "Italy" not in page
    by_day = dict((row[0], row[1:]) for row in table(page, "Commitments by day"))
    assert by_day[shown(days_ago(2).date())] == ["fewer than 5", ""]
    # 7 people, 6 men and 1 woman, in the last week: the one woman would be exposed. Both days are held back (one
    # alone would be given away by the other), so the windows add up nothing, and say so: an exact 7 minus the days
    # shown would give the hidden days away.
    assert stats(page)[2:] == ["0 in the last 7 days · 0 men · not counting days of fewer than 5",
                               "0 in the last 30 days · 0 men · not counting days of fewer than 5"]
    assert stats(page)[:2] == ["6 men have committed", "7 commitments in all"], "the totals are public anyway"


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_the_days_are_written_as_the_language_writes_them(client, make_tenant, make_commitment, sign_in_as, language):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    for n in range(5):
        make_commitment(acme)
    sign_in_as(acme, Role.VIEWER, client=client)

    page = client.get(f"/portal/dashboard?lang={language}", base_url=ACME).get_data(as_text=True)
    document = lxml.html.fromstring(page)

    first, last = days_ago(29).date(), days_ago(0).date()
    assert [label.text_content() for label in document.iter("text")] == [shown(first, language), shown(last, language)]
    days = [day.text_content() for day in document.xpath("//tbody/tr/th/time")]
    assert days[0] == shown(last, language) and days[-1] == shown(first, language) and len(days) == 30
    chart_label = document.get_element_by_id("day-chart-label").text_content()
    assert format_date(first, "long", locale=language) in chart_label
    visible = document.body.text_content()
    assert first.isoformat() not in visible and last.isoformat() not in visible


def test_another_tenants_commitments_never_show(client, make_tenant, make_unit, make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    globex = make_tenant("globex", "Globex", privacy_k=5)
    make_unit(acme, "Paris office")
    globex_unit = make_unit(globex, "Globex Lab", country="JP")
    for n in range(7):
        make_commitment(globex, unit=globex_unit, country="JP")
    sign_in_as(acme, Role.ADMIN, client=client)

    page = client.get("/portal/dashboard", base_url=ACME).get_data(as_text=True)

    assert "Nobody has committed yet" in page
    assert f"{ACME}/" in page, "the sign-up page's address, to share"
    assert "Globex Lab" not in page and "Japan" not in page
    assert stats(page)[:2] == ["0 men have committed", "0 commitments in all"]


def test_only_this_tenants_admins_and_viewers_see_the_dashboard(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_tenant("globex", "Globex")
    assert client.get("/portal/dashboard", base_url=ACME).location.startswith("/portal/sign-in")
    sign_in_as(acme, Role.MEMBER, client=client)
    assert client.get("/portal/dashboard", base_url=ACME).status_code == 403
    sign_in_as(acme, Role.VIEWER, client=client)
    assert client.get("/portal/dashboard", base_url=ACME).status_code == 200
    assert client.get("/portal/dashboard", base_url=host("globex")).location.startswith("/portal/sign-in")


def test_long_unit_lists_are_paged(client, db, make_tenant, make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    with tenant_context(acme):
        db.session.add_all(Unit(name=f"Team {n:02d}", kind=UnitKind.DEPARTMENT) for n in range(55))
        db.session.commit()
    make_commitment(acme)
    sign_in_as(acme, Role.VIEWER, client=client)

    first = client.get("/portal/dashboard", base_url=ACME).get_data(as_text=True)
    units = table(first, "Commitments and participation by unit")
    assert (len(units), units[0][0], units[-1][0]) == (50, "Team 00", "Team 49")
    assert "More units" in first and "Previous units" not in first
    second = client.get("/portal/dashboard?units_page=2", base_url=ACME).get_data(as_text=True)
    assert [row[0] for row in table(second, "Commitments and participation by unit")] == [
        "Team 50", "Team 51", "Team 52", "Team 53", "Team 54"]
    assert "Previous units" in second and "More units" not in second


def url(page, path):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def test_the_dashboard_in_a_browser_is_accessible_in_english_and_arabic(page, axe, db, make_tenant, make_unit,
                                                                        make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    paris = make_unit(acme, "Paris office")
    set_eligible_men(db, acme, paris, 40)
    for n in range(6):
        make_commitment(acme, unit=paris, created_at=days_ago(n % 3))
    make_commitment(acme, country="KE", gender=Gender.WOMAN)
    sign_in_as(acme, Role.ADMIN, page=page)

    page.goto(url(page, "/portal/dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("img", name=re.compile("Bar chart of commitments per day"))).to_be_visible()
    page.get_by_text("The numbers by day, as a table").click()
    expect(page.get_by_role("table", name="Commitments by day")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Paris office"))).to_contain_text("15%")
    assert axe(page) == []
    assert chart_labels(page, ".day-chart svg") == [["ltr", True, True], ["ltr", True, True]]
    page.goto(url(page, "/portal/dashboard?lang=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    # Each date right to left: its day, at the right, before its month and year.
    assert chart_labels(page, ".day-chart svg") == [["rtl", True, False], ["rtl", True, False]]
    assert axe(page) == []
    assert page.hosts_asked == {f"acme.{BASE_DOMAIN}"}, "nothing is loaded from anywhere else"


def test_admins_are_told_where_their_page_shows_the_general_pledge_instead_of_theirs(client, db, make_tenant,
                                                                                      sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", enabled_languages=["en", "fr", "ar"])
    sign_in_as(acme, Role.ADMIN, client=client)
    assert "general pledge" not in client.get("/portal/dashboard", base_url=host("acme")).get_data(as_text=True)
    with tenant_context(acme):
        db.session.add(TenantText(language="en", commitment_text="At Acme, I commit to equal pay."))
        db.session.commit()
    page = lxml.html.fromstring(client.get("/portal/dashboard", base_url=host("acme")).get_data(as_text=True))
    notice = page.xpath("//p[@class='notice']")[0].text_content()
    assert "shows HeForShe's general pledge, not yours, in: français and العربية." in notice
    assert "English" not in notice
    assert page.xpath("//p[@class='notice']/a/@href")[0].endswith("/portal/branding#texts-title")
    arabic = lxml.html.fromstring(client.get("/portal/dashboard?lang=ar", base_url=host("acme")).get_data(as_text=True))
    assert "français والعربية" in arabic.xpath("//p[@class='notice']")[0].text_content()
