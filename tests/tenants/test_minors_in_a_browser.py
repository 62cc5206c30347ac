"""The age question in a real browser (Debian's chromium, phone-sized): it follows the country chosen, sets the
email and name aside under the age, and reads right to left in Arabic."""

from playwright.sync_api import expect
from sqlalchemy import func, select

from core.tenancy import tenant_context
from tenants.models import Commitment, Member
from tests.helpers import BASE_DOMAIN


def url(page, path="/"):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def question(page):
    return page.locator("#age-question")


def test_the_age_asked_follows_the_country_chosen(page, make_tenant):
    make_tenant("acme", "Acme Corporation", ask_age=True)
    page.goto(url(page))
    page.get_by_label("Country").select_option("DE")
    expect(question(page)).to_have_text("Are you 16 or older?")
    expect(page.locator("#asked_age")).to_have_value("16")
    page.get_by_label("Country").select_option("BE")
    expect(question(page)).to_have_text("Are you 13 or older?")
    expect(page.locator("#asked_age")).to_have_value("13")
    expect(page.locator(".age-question [role=status]")).to_have_text("Are you 13 or older?")  # said aloud
    page.get_by_label("Country").select_option("KE")
    expect(question(page)).to_have_text("Are you 16 or older?")


def test_an_answer_the_new_country_does_not_decide_is_cleared(page, make_tenant):
    make_tenant("acme", "Acme Corporation", ask_age=True)
    page.goto(url(page))
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("radio", name="Yes", exact=True).check()
    page.get_by_label("Country").select_option("BE")
    expect(page.get_by_role("radio", name="Yes", exact=True)).to_be_checked()  # 16 or older is 13 or older
    page.get_by_label("Country").select_option("DE")
    expect(page.get_by_role("radio", name="Yes", exact=True)).not_to_be_checked()  # 13 or older may be under 16
    page.get_by_role("radio", name="No", exact=True).check()
    page.get_by_label("Country").select_option("BE")
    expect(page.get_by_role("radio", name="No", exact=True)).not_to_be_checked()  # under 16 may be 13 or older
    expect(page.get_by_label("Email")).to_be_visible()


def test_under_the_age_the_email_and_name_are_set_aside_and_never_sent(page, db, make_tenant):
    acme = make_tenant("acme", "Acme Corporation", ask_age=True)
    sent = []
    page.on("request", lambda request: sent.append(request.post_data or ""))
    page.goto(url(page))
    page.get_by_label("Email").fill("kit.young@example.org")
    page.get_by_label("Your name (optional)").fill("Kit Young")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("radio", name="No", exact=True).check()
    expect(page.get_by_label("Email")).to_be_hidden()
    page.get_by_role("radio", name="Yes", exact=True).check()
    expect(page.get_by_label("Email")).to_have_value("kit.young@example.org")  # a slip of the finger loses nothing
    page.get_by_role("radio", name="No", exact=True).check()
    page.get_by_label("Man", exact=True).check()
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="I commit").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_role("status")).to_contain_text("we kept no email address and no name")
    assert not any("kit" in body.lower() or "young" in body.lower() for body in sent)
    with tenant_context(acme):
        assert db.session.scalars(select(Commitment.member_id)).all() == [None]
        assert db.session.scalar(select(func.count(Member.id))) == 0


def test_the_age_question_reads_right_to_left_in_arabic(page, make_tenant):
    make_tenant("acme", "Acme Corporation", ask_age=True)
    page.goto(url(page, "/?lang=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.locator("#country").select_option("BE")
    expect(question(page)).to_contain_text("13")
    legend = question(page).bounding_box()
    assert legend["x"] + legend["width"] > 390 * 0.85, "the question starts on the right"
    yes = page.locator("#old_enough-0").bounding_box()
    label = page.locator("label[for=old_enough-0]").bounding_box()
    assert yes["x"] > label["x"], "each choice's box is on the right of its words"
    page.locator("#country").select_option("DE")
    expect(question(page)).to_contain_text("16")


def test_the_age_question_passes_accessibility_checks(page, axe, make_tenant):
    make_tenant("acme", "Acme Corporation", ask_age=True)
    for language in ("en", "ar"):
        page.goto(url(page, f"/?lang={language}"))
        assert axe(page) == [], f"sign-up page in {language}"
        page.locator("button[type=submit]").click()
        assert axe(page) == [], f"sign-up page with errors in {language}"
    page.goto(url(page, "/thanks?anonymous=1"))
    assert axe(page) == []
