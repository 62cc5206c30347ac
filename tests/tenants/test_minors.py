"""The age question: under the age of digital consent of their country, a person's commitment is counted and
nothing about them is kept; at or above it, and where the question is not asked, nothing changes."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from core.consent_age import CONSENT_AGES, DEFAULT_AGE, consent_age
from core.extensions import db as _db
from core.models import OutboxMessage
from core.rollup import recount
from core.rollup import services as rollup
from core.tenancy import tenant_context
from tenants.models import Commitment, Member, Role
from tests.helpers import host, sign_up

KID_EMAIL, KID_NAME = "kit.young@example.org", "Kit Young"


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation", ask_age=True)


def everything_stored(db, tenant) -> str:
    """Every row of every table, as the tenant's own session can read them (row-level security included), as text."""
    cells = []
    with tenant_context(tenant):
        for table in _db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                cells.extend(repr(value) for value in row)
    return "\n".join(cells)


def commitments(db, tenant) -> list[Commitment]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(Commitment)))


def members(db, tenant) -> int:
    with tenant_context(tenant):
        return db.session.scalar(select(func.count(Member.id)))


def kid_signs_up(client, **changes):
    """A person under the age of digital consent of Germany commits, typing an email and a name all the same."""
    return sign_up(client, "acme", **{
        "email": KID_EMAIL, "name": KID_NAME, "name_public": "y", "country": "DE", "gender": "self_described",
        "gender_description": "a footballer from Kreuzberg", "city": "Somewhere Near Me", "old_enough": "no",
        "asked_age": "16", **changes})


def test_the_table_gives_each_countrys_age_and_the_gdpr_default_elsewhere():
    assert (consent_age("DE"), consent_age("BE"), consent_age("FR"), consent_age("ES"), consent_age("CZ")) == (
        16, 13, 15, 14, 15)
    assert (consent_age("US"), consent_age("GB"), consent_age("de")) == (13, 13, 16)
    assert consent_age("KE") == consent_age(None) == DEFAULT_AGE == 16
    assert all(12 <= age <= 18 for age in CONSENT_AGES.values())


def test_without_the_setting_no_age_is_asked_and_nothing_changes(client, db, make_tenant):
    plain = make_tenant("acme")
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert 'name="old_enough"' not in page and "or older?" not in page
    assert sign_up(client, "acme", email="sam@example.org", old_enough="no").headers["Location"] == "/thanks"
    assert members(db, plain) == 1, "an answer to a question not asked is ignored"


@pytest.mark.parametrize("language, question", [
    ("de-DE", "Are you 16 or older?"), ("fr-BE", "Avez-vous 13 ans ou plus\u00a0?"),
    ("fr-FR", "Avez-vous 15 ans ou plus\u00a0?"),
    ("en", f"Are you {DEFAULT_AGE} or older?"),
])
def test_the_question_names_the_age_of_the_country_chosen(client, acme, language, question):
    page = client.get("/", base_url=host("acme"), headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'<legend id="age-question">{question}</legend>' in page
    assert 'name="old_enough"' in page


def test_a_minors_commitment_is_counted_and_nothing_about_them_is_kept(client, db, acme, caplog):
    caplog.set_level(logging.DEBUG)
    response = kid_signs_up(client)
    assert (response.status_code, response.headers["Location"]) == (303, "/thanks?anonymous=1")
    thanks = client.get(response.headers["Location"], base_url=host("acme")).get_data(as_text=True)
    assert "we kept no email address and no name with your commitment" in thanks
    assert "1 commitment in all" in thanks

    commitment, = commitments(db, acme)
    assert (commitment.member_id, commitment.verified, commitment.name_public) == (None, False, False)
    assert (commitment.country_code, commitment.gender.value) == ("DE", "self_described")
    assert (commitment.gender_description, commitment.city) == (None, None), "no free text that could tell who"
    assert members(db, acme) == 0
    stored = everything_stored(db, acme)
    for personal in (KID_EMAIL, KID_NAME, "Kreuzberg", "Somewhere"):
        assert personal not in stored
        assert not any(personal in record.getMessage() for record in caplog.records)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0, "no mail: there is no address"
    with tenant_context(acme):
        assert (rollup.tenant_counts().total, rollup.tenant_counts(["country"]).dimension("country")) == (
            1, {"DE": {"total": 1, "men": 0, "verified": 0, "verified_men": 0}})
    assert rollup.global_counts().total == 1


def test_each_minor_counts_once_and_a_recount_finds_them(client, db, acme):
    kid_signs_up(client)
    kid_signs_up(client)
    assert len(commitments(db, acme)) == 2, "nothing recognises a second commitment as the same person's"
    with tenant_context(acme):
        assert rollup.tenant_counts().total == 2
    assert recount.recount() == [], "the tallies agree with the commitments"


def test_a_known_city_is_kept_as_the_place_it_names(client, db, acme):
    kid_signs_up(client, city="Berlin")
    commitment, = commitments(db, acme)
    assert commitment.city == "Berlin" and commitment.place_id is not None, "counted on the map like anyone's"


def test_under_age_the_email_and_name_are_neither_required_nor_checked(client, db, acme):
    response = sign_up(client, "acme", email="not an address", country="DE", old_enough="no", asked_age="16")
    assert response.status_code == 303
    response = sign_up(client, "acme", email=None, country="DE", old_enough="no", asked_age="16")
    assert response.status_code == 303
    assert len(commitments(db, acme)) == 2 and members(db, acme) == 0


def test_an_adult_answer_keeps_the_usual_path(client, db, acme):
    response = sign_up(client, "acme", email="sam@example.org", name="Sam Okafor", country="DE", old_enough="yes",
                       asked_age="16")
    assert (response.status_code, response.headers["Location"]) == (303, "/thanks")
    assert "we kept no email address" not in client.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    commitment, = commitments(db, acme)
    with tenant_context(acme):
        member = db.session.get(Member, (acme.id, commitment.member_id))
        assert (member.email, member.display_name) == ("sam@example.org", "Sam Okafor")
    assert sign_up(client, "acme", email="sam@example.org", country="DE", old_enough="yes",
                   asked_age="16").status_code == 303
    assert len(commitments(db, acme)) == 1, "a repeat is recognised as before"


@pytest.mark.parametrize("country, asked, answer, kept", [("DE", "16", "no", False), ("BE", "13", "yes", True)])
def test_a_fourteen_year_old_is_under_age_in_germany_but_not_in_belgium(client, db, acme, country, asked, answer,
                                                                          kept):
    response = sign_up(client, "acme", email="alex@example.org", country=country, old_enough=answer, asked_age=asked)
    assert response.status_code == 303
    assert members(db, acme) == (1 if kept else 0)
    assert ("alex@example.org" in everything_stored(db, acme)) is kept


def test_an_answer_that_does_not_decide_the_countrys_question_is_asked_again(client, db, acme):
    # "No" to "16 or older?" says nothing about 13 (Belgium): asked again, and what was typed is dropped.
    again = sign_up(client, "acme", email="alex@example.org", country="BE", old_enough="no", asked_age="16")
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert '<legend id="age-question">Are you 13 or older?</legend>' in page
    assert "please answer again for the country you chose" in page
    assert "alex@example.org" not in page
    assert 'value="no" checked' not in page
    # "Yes" to "13 or older?" says nothing about 16 (Germany): asked again, and the email typed is kept.
    again = sign_up(client, "acme", email="alex@example.org", country="DE", old_enough="yes", asked_age="13")
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert '<legend id="age-question">Are you 16 or older?</legend>' in page
    assert 'value="alex@example.org"' in page
    # A question that decides: "no" to 13 is under 16 too; "yes" to 16 is over 13.
    assert sign_up(client, "acme", country="DE", old_enough="no", asked_age="13").status_code == 303
    assert sign_up(client, "acme", email="b@example.org", country="BE", old_enough="yes",
                   asked_age="16").status_code == 303
    assert len(commitments(db, acme)) == 2


@pytest.mark.parametrize("asked", ["", "sixteen", "-1", "99999999999999999999999", "1" * 200])
def test_a_missing_or_odd_age_asked_is_asked_again(client, db, acme, asked):
    response = sign_up(client, "acme", country="DE", old_enough="yes", asked_age=asked)
    assert response.status_code == 400
    assert commitments(db, acme) == []


def test_a_missing_answer_is_explained_and_what_was_typed_stays(client, db, acme):
    response = sign_up(client, "acme", email="sam@example.org", country="DE", asked_age="16")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please answer the question about your age." in page
    assert 'value="sam@example.org"' in page
    assert commitments(db, acme) == []


def test_someone_signed_in_through_their_organisation_is_not_asked(client, acme, sign_in_as):
    sign_in_as(acme, Role.MEMBER, client=client)
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert "Signed in through Acme Corporation" in page
    assert 'name="old_enough"' not in page


def test_the_commitments_export_lists_a_minors_commitment_without_details(client, db, acme, sign_in_as):
    kid_signs_up(client)
    sign_in_as(acme, Role.ADMIN, email="boss@acme.example", client=client)
    lines = client.get("/portal/exports/commitments.csv", base_url=host("acme")).get_data().decode("utf-8-sig")
    header, row = lines.splitlines()
    assert row.startswith(",,self_described,DE,,"), "no email, no name, no city"

