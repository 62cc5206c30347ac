"""From commitment to action in a real browser (Debian's chromium, phone-sized): a pillar chosen, "I'll do this"
pressed, the plan on one's own page, a story sent and read by an admin; each page checked by axe-core in English
and Arabic."""

from playwright.sync_api import expect

from tenants.models import Role
from tests.helpers import BASE_DOMAIN


def url(page, path):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def test_commit_with_a_pillar_plan_an_action_and_find_it_on_ones_own_page(page, axe, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.MEMBER, email="sam@acme.example", page=page)  # through the organisation's sign-in
    page.goto(url(page, "/"))
    page.locator("#country").select_option("EG")
    page.locator("input[name=gender][value=man]").check()
    page.locator("#pillar").select_option("violence")
    page.locator("#consent").check()
    page.get_by_role("button", name="I commit").click()

    plan = page.locator("#plan")
    expect(plan.locator(".plan-action")).to_have_count(3)
    first = plan.locator(".plan-action").first
    action = first.locator("p").first.inner_text()
    first.get_by_role("button", name="I'll do this").click()
    expect(page.locator(".notice[role=status]")).to_contain_text("Added to your plan")
    expect(page.locator("#plan .planned")).to_have_count(1)
    for language in ("en", "ar"):
        page.goto(url(page, f"/thanks?lang={language}"))
        expect(page.locator("#plan .plan-action")).to_have_count(3)
        assert axe(page) == [], f"the thank-you page in {language}"

    page.goto(url(page, "/me?lang=en"))
    expect(page.locator("#actions ~ ul.plan").first).to_contain_text(action)
    page.locator("#text").fill("I spoke up when a colleague made a sexist joke in a meeting.")
    page.get_by_role("button", name="Send my story").click()
    expect(page.locator(".my-stories")).to_contain_text("Waiting to be read")
    for language in ("en", "ar"):
        page.goto(url(page, f"/me?lang={language}"))
        assert axe(page) == [], f"/me in {language}"

    sign_in_as(acme, Role.ADMIN, page=page)
    for language in ("en", "ar"):
        page.goto(url(page, f"/portal/actions?lang={language}"))
        expect(page.locator(".stories")).to_contain_text("sexist joke")
        assert axe(page) == [], f"the moderation queue in {language}"
    page.goto(url(page, "/portal/actions?lang=en"))
    page.get_by_role("button", name="Publish").click()
    page.goto(url(page, "/stories"))
    expect(page.locator(".stories")).to_contain_text("sexist joke")
