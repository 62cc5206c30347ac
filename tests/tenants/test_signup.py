"""The branded sign-up page: what a person sees and what gets stored."""

import re
from datetime import date, timedelta
import time

import pytest
from sqlalchemy import event, func, select

from core import page_cache
from core.rollup import services as rollup
from core.tenancy import tenant_context
from tenants.giving import services as giving
from tenants.giving.models import MatchKind
from tenants.models import Commitment, Member, Target, TargetMetric, UnitKind
from tenants.services import hosts
from tenants.webhooks import services as webhooks
from tenants.webhooks.models import WebhookMessage
from tests.helpers import hidden_fields, host, sign_up


def select_html(page: str, field_id: str) -> str:
    """The markup of the page's list ``field_id``, its options included."""
    return re.search(rf'<select[^>]* id="{field_id}"[^>]*>.*?</select>', page, re.S).group(0)


def count_commitments(db, tenant) -> int:
    with tenant_context(tenant):
        return db.session.scalar(select(func.count(Commitment.id)))


def test_sign_up_page_is_branded_and_asks_only_what_is_needed(client, make_tenant, make_unit):
    acme = make_tenant("acme", "Acme Corporation", primary_color="#1f4e8c")
    make_unit(acme, "Paris office")
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert "Join Acme Corporation in HeForShe" in page
    assert "Paris office" in page
    for field in ('name="name"', 'name="email"', 'name="gender"', 'name="country"', 'name="city"',
                  'name="unit"', 'name="consent"'):
        assert field in page
    assert "#1f4e8c" in client.get("/brand.css", base_url=host("acme")).get_data(as_text=True)


def test_committing_shows_thanks_and_counts(client, db, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    response = sign_up(client, "acme", email="Sam@Example.org", gender="man", country="KE", city="Nairobi")
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"], base_url=host("acme")).get_data(as_text=True)
    assert "Thank you" in thanks
    assert "1 commitment in all" in thanks
    # One man alone is not shown as a man: the men move in steps of k (tests/core/test_steps.py), and the page says so.
    assert "<strong>0</strong> men have committed at Acme Corporation" in thanks
    assert "Men are counted in steps, to protect privacy" in thanks
    with tenant_context(acme):
        commitment = db.session.scalars(select(Commitment)).one()
        assert (commitment.country_code, commitment.city, commitment.gender.value) == ("KE", "Nairobi", "man")
        assert commitment.consent_version == "2026-11"
        assert rollup.tenant_counts(["country"]).dimension("country") == {
            "KE": {"total": 1, "men": 1, "verified": 0, "verified_men": 0}}


@pytest.mark.parametrize("again", ["sam@example.org", "SAM@EXAMPLE.ORG", " sam@example.org "])
def test_committing_again_changes_nothing_and_reveals_nothing(client, db, make_tenant, again):
    acme = make_tenant("acme")
    first = sign_up(client, "acme", email="sam@example.org")
    second = sign_up(client, "acme", email=again, gender="woman", country="BR")
    assert (first.status_code, first.headers["Location"]) == (second.status_code, second.headers["Location"])
    assert count_commitments(db, acme) == 1
    with tenant_context(acme):
        assert rollup.tenant_counts().men == 1


@pytest.mark.parametrize("again", ["s.a.m@gmail.com", "SAM+heforshe@gmail.com", "sam@googlemail.com"])
def test_gmail_dots_and_tags_are_the_same_person(client, db, make_tenant, again):
    acme = make_tenant("acme")
    sign_up(client, "acme", email="sam@gmail.com")
    sign_up(client, "acme", email=again)
    assert count_commitments(db, acme) == 1


@pytest.mark.parametrize("look_alike", ["sam@ｅxample.org", "ｓａｍ@example.org", "SAM@ＥＸＡＭＰＬＥ.ORG",
                                       "sam@example．org"])
def test_fullwidth_and_compatibility_spellings_are_the_same_person(client, db, make_tenant, look_alike):
    acme = make_tenant("acme")
    sign_up(client, "acme", email="sam@example.org")
    again = sign_up(client, "acme", email=look_alike)
    assert again.status_code == 303
    assert count_commitments(db, acme) == 1
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Member.id))) == 1


@pytest.mark.parametrize("again", ["sam@xn--bcher-kva.example", "sam@BÜCHER.example", "sam@ｂüｃｈｅｒ.example"])
def test_an_international_domain_is_one_domain_in_unicode_or_punycode(client, db, make_tenant, again):
    acme = make_tenant("acme")
    sign_up(client, "acme", email="sam@bücher.example")
    sign_up(client, "acme", email=again)
    assert count_commitments(db, acme) == 1


def test_plus_tags_elsewhere_are_different_people(client, db, make_tenant):
    acme = make_tenant("acme")
    sign_up(client, "acme", email="sam@example.org")
    sign_up(client, "acme", email="sam+work@example.org")
    assert count_commitments(db, acme) == 2


def test_the_same_person_may_commit_to_two_organisations(client, db, make_tenant):
    acme, northfield = make_tenant("acme"), make_tenant("northfield")
    sign_up(client, "acme", email="sam@example.org")
    sign_up(client, "northfield", email="sam@example.org")
    assert count_commitments(db, acme) == count_commitments(db, northfield) == 1


BAD_INPUT = {
    "empty email": ({"email": ""}, "Please enter your email address."),
    "invalid email": ({"email": "sam@"}, "Please enter a valid email address"),
    "too long email": ({"email": "s" * 250 + "@example.org"}, "Field cannot be longer than 254 characters."),
    "no gender": ({"gender": None}, "Please choose one of the options."),
    "unknown gender": ({"gender": "robot"}, "Not a valid choice."),
    "no country": ({"country": ""}, "Please choose your country."),
    "unknown country": ({"country": "XX"}, "Please choose your country from the list."),
    "no consent": ({"consent": None}, "Please agree to the privacy notice to commit."),
    "too long name": ({"name": "n" * 101}, "Field cannot be longer than 100 characters."),
    "html in name": ({"name": "<script>alert(1)</script>"}, "Please leave out the characters &lt; and &gt;."),
    "formula in city": ({"city": "=cmd|' /C calc'!A0"}, "Please do not start with =, +, - or @."),
    "control characters": ({"city": "Paris\x00"}, "Please use letters, digits and ordinary punctuation only."),
    "unknown unit": ({"unit": "0190d5f0-0000-7000-8000-000000000000"}, "Not a valid choice."),
    "wrong csrf token": ({"csrf_token": "forged"}, "The CSRF token is invalid."),
    "no csrf token": ({"csrf_token": None}, "The CSRF token is missing."),
}


@pytest.mark.parametrize("fields,message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_refused_clearly_and_writes_nothing(client, db, make_tenant, fields, message):
    acme = make_tenant("acme")
    response = sign_up(client, "acme", **{"email": "sam@example.org", "city": "Lyon", **fields})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'role="alert"' in page
    assert "Lyon" in page or fields.get("city"), "what the person typed is kept"
    assert count_commitments(db, acme) == 0
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Member.id))) == 0


def test_another_tenants_unit_is_not_a_valid_choice(client, db, make_tenant, make_unit):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_unit(acme, "Acme Paris")
    globex_unit = make_unit(globex, "Globex Cairo", country="EG")
    response = sign_up(client, "acme", unit=str(globex_unit.id))
    assert response.status_code == 400
    assert "Not a valid choice." in response.get_data(as_text=True)
    assert count_commitments(db, acme) == 0


def test_a_unit_link_preselects_the_office(client, db, make_tenant, make_unit):
    acme = make_tenant("acme")
    paris = make_unit(acme, "Paris office", country="FR")
    page = client.get(f"/units/{paris.id}", base_url=host("acme")).get_data(as_text=True)
    assert f'<option selected value="{paris.id}">Paris office</option>' in page
    assert '<option selected value="FR">' in page
    response = sign_up(client, "acme", path=f"/units/{paris.id}", unit=str(paris.id))
    assert response.status_code == 303
    with tenant_context(acme):
        assert db.session.scalars(select(Commitment.unit_id)).one() == paris.id


def test_office_and_department_are_two_choices_and_the_commitment_counts_in_both(client, db, make_tenant,
                                                                                 make_unit):
    acme = make_tenant("acme")
    paris = make_unit(acme, "Paris office", country="FR")
    finance = make_unit(acme, "Finance", kind=UnitKind.DEPARTMENT, country=None)
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    offices, departments = select_html(page, "unit"), select_html(page, "department")
    assert "Paris office" in offices and "Finance" not in offices
    assert "Finance" in departments and "Paris office" not in departments
    assert "Department or faculty (optional)" in page

    response = sign_up(client, "acme", unit=str(paris.id), department=str(finance.id))
    assert response.status_code == 303
    with tenant_context(acme):
        assert db.session.execute(select(Commitment.unit_id, Commitment.department_id)).one() == (paris.id,
                                                                                                  finance.id)
        by_unit = rollup.tenant_counts(("unit",)).by_key
    assert by_unit[("unit", str(paris.id))].total == 1
    assert by_unit[("unit", str(finance.id))].total == 1


def test_a_department_is_not_a_valid_office_nor_an_office_a_department(client, db, make_tenant, make_unit):
    acme = make_tenant("acme")
    paris = make_unit(acme, "Paris office", country="FR")
    finance = make_unit(acme, "Finance", kind=UnitKind.DEPARTMENT, country=None)
    for fields in ({"unit": str(finance.id)}, {"department": str(paris.id)}):
        response = sign_up(client, "acme", **fields)
        assert response.status_code == 400
        assert "Not a valid choice." in response.get_data(as_text=True)
    assert count_commitments(db, acme) == 0


def test_a_department_link_preselects_the_department(client, db, make_tenant, make_unit):
    acme = make_tenant("acme")
    make_unit(acme, "Paris office", country="FR")
    finance = make_unit(acme, "Finance", kind=UnitKind.FACULTY, country=None)
    page = client.get(f"/units/{finance.id}", base_url=host("acme")).get_data(as_text=True)
    assert f'<option selected value="{finance.id}">Finance</option>' in select_html(page, "department")
    assert "<option selected" not in select_html(page, "unit")


def test_self_description_is_kept_only_for_self_described(client, db, make_tenant):
    acme = make_tenant("acme")
    sign_up(client, "acme", email="a@example.org", gender="self_described", gender_description="Two-spirit")
    sign_up(client, "acme", email="b@example.org", gender="man", gender_description="ignored")
    with tenant_context(acme):
        descriptions = dict(db.session.execute(select(Commitment.gender, Commitment.gender_description)).all())
    assert {g.value: d for g, d in descriptions.items()} == {"self_described": "Two-spirit", "man": None}


def test_the_name_is_not_shown_on_any_page(client, make_tenant):
    make_tenant("acme")
    sign_up(client, "acme", name="Samuel Unique-Name", email="sam@example.org")
    for path in ("/", "/thanks", "/stats.json"):
        assert "Unique-Name" not in client.get(path, base_url=host("acme")).get_data(as_text=True)
    assert "Unique-Name" not in client.get("/", base_url=host()).get_data(as_text=True)


def test_a_visit_of_the_sign_up_page_reads_its_counts_in_one_statement(app, client, db, make_tenant, monkeypatch):
    acme = make_tenant("acme", "Acme")
    monkeypatch.setattr(hosts, "HOST_CACHE_SECONDS", 600.0)  # the tenant is remembered from the first visit on
    with tenant_context(acme):
        db.session.add(Target(metric=TargetMetric.ALL, value=40, deadline=date.today() + timedelta(days=30),
                              public=True))
        giving.set_pledge(MatchKind.PER_COMMITMENT, 500, 100_000, "usd", "admin@example.org")
        db.session.commit()
    for email in ("sam@example.org", "alex@example.org"):
        sign_up(client, "acme", email=email)
    app.config["PAGE_CACHE_SECONDS"] = 1
    page_cache.init_app(app)  # pages kept, as in production
    client.get("/", base_url=host("acme"))
    time.sleep(page_cache.MAX_PAGE_CACHE_SECONDS)  # the counts' block as kept is let go: the next visit reads them
    statements = []
    listening = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listening)
    page = app.test_client().get("/", base_url=host("acme")).get_data(as_text=True)  # a newcomer's visit
    event.remove(db.engine, "before_cursor_execute", listening)
    assert "2 commitments in all" in page and "2 of 40 commitments" in page
    assert "Acme gives $5.00 to UN Women for each commitment, up to $1,000.00." in page and "$10.00 so far" in page
    # Its counts in one statement; its target, match pledge and gifts move only with its settings: read once
    # (as is attack mode's switch everywhere, by each process once a second).
    read = [statement for statement in statements if "attack_mode_changes" not in statement]
    assert len(read) == 1 and all(t in read[0] for t in ("tenant_releases", "tenant_released_tallies",
                                                          "tenant_tallies")), read
    with tenant_context(acme):
        giving.set_pledge(MatchKind.PER_COMMITMENT, 200, 100_000, "usd", "admin@example.org")
        db.session.commit()
    page = app.test_client().get("/", base_url=host("acme")).get_data(as_text=True)
    assert "Acme gives $2.00 to UN Women for each commitment" in page, "a changed pledge shows at once"


def test_a_newcomers_sign_up_is_one_statement_on_postgresql_and_a_repeat_goes_the_general_way(
        app, client, db, postgres, make_tenant, monkeypatch):
    acme = make_tenant("acme")
    with tenant_context(acme):
        webhooks.add_endpoint("https://hooks.example.org/a", ["commitment.created"], True, "admin@example.org")
        webhooks.add_endpoint("https://hooks.example.org/b", ["commitment.withdrawn"], False, "admin@example.org")
        db.session.commit()
    monkeypatch.setattr(hosts, "HOST_CACHE_SECONDS", 600.0)  # the tenant is remembered from the page on
    posted = {}
    for email in ("sam@example.org", "Sam@Example.org"):  # a newcomer, then the same person again
        form = {**hidden_fields(client.get("/", base_url=host("acme")).get_data(as_text=True)), "email": email,
                "name": "Sam", "gender": "man", "country": "FR", "consent": "y"}
        statements = posted[email] = []
        listening = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listening)
        assert client.post("/", base_url=host("acme"), data=form).status_code == 303
        event.remove(db.engine, "before_cursor_execute", listening)
    newcomer, repeat = posted.values()
    # One statement makes it (the thank-you page's plan takes the commitment's id from it); as it wrote webhook
    # messages, the tenant's plan is read (webhooks are a paid feature); then the confirmation mail.
    assert len(newcomer) == 3 and "tenant_plans" in newcomer[1] and "mail_outbox" in newcomer[2], newcomer[1:]
    assert all(part in newcomer[0] for part in ("INSERT INTO members", "INSERT INTO commitments", "tenant_tallies",
                                                "add_to_global_tallies", "webhook_messages"))
    assert len(repeat) > 3, "the repeat found the member there, then went the general way"
    with tenant_context(acme):
        assert db.session.scalar(select(func.count()).select_from(Commitment)) == 1
        messages = db.session.scalars(select(WebhookMessage)).all()
        assert [m.payload["data"]["name"] for m in messages] == ["Sam"], "to the endpoint that asked, personal data too"
    counted = client.get("/count.json", base_url=host("acme")).get_json()
    assert (counted["total"], counted["men"]) == (1, 0), "counted once (men show in steps of k)"
