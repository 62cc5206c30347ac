"""An admin chooses the kits Acme's pages list and previews a kit of Acme's own before saving it, in a browser; the
portal's kits page and a kit's page pass axe-core's checks in English and Arabic."""

from __future__ import annotations

from playwright.sync_api import expect

from tenants.kits import services as kits
from tenants.models import Role
from tests.helpers import BASE_DOMAIN


def url(page, path: str) -> str:
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def test_an_admin_chooses_kits_and_previews_their_own_before_saving_it(page, axe, db, make_tenant, sign_in_as):
    kits.load_starter()
    db.session.commit()
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, page=page)

    page.goto(url(page, "/portal/kits"))
    assert axe(page) == [], "the kits page in English"
    page.get_by_label("Share the care at home").uncheck()
    page.get_by_label("No more all-male panels").check()
    page.get_by_role("button", name="Save the choice").click()
    expect(page.get_by_role("status")).to_contain_text("Your choice of kits is saved")
    expect(page.get_by_label("Share the care at home")).not_to_be_checked()

    page.get_by_role("link", name="Write a kit").click()
    page.get_by_label("Title").fill("Our helplines")
    page.get_by_label("Summary (one sentence, shown in the list of kits)").fill("Who to call at Acme.")
    page.get_by_label("Pillar").select_option("violence")
    page.get_by_label("Text, in Markdown").fill("## Steps\n\n1. **Call** the security desk.\n2. **Write** to HR.")
    page.get_by_label("Local contacts (optional)").fill("Security desk: 555 0100")
    page.get_by_label("Show it on our pages").check()
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("strong")).to_have_text(["Call", "Write"])
    expect(preview).to_contain_text("Security desk: 555 0100")
    expect(page.get_by_label("Title")).to_have_value("Our helplines")
    assert axe(page) == [], "the form with its preview"
    page.get_by_role("button", name="Save the kit").click()
    expect(page.get_by_role("status")).to_contain_text("The kit “Our helplines” is saved.")

    page.goto(url(page, "/kits"))
    expect(page.locator(".kit-card h2")).to_have_text([
        "Start the equal pay conversation", "Speak up against harassment", "No more all-male panels",
        "Peace starts at home", "Our helplines"])  # by pillar, then Acme's own
    page.get_by_role("link", name="Our helplines").click()
    expect(page.get_by_role("heading", name="Local contacts")).to_be_visible()
    assert axe(page) == [], "an own kit's page"
    page.goto(url(page, "/kits/speak-up"))
    assert axe(page) == [], "a kit's page in English"

    page.goto(url(page, "/kits/speak-up?lang=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("ارفع صوتك في وجه التحرش")
    assert axe(page) == [], "a kit's page in Arabic"
    page.goto(url(page, "/portal/kits"))
    assert axe(page) == [], "the kits page in Arabic"
