"""Privacy over time: breakdowns move only in steps of k people, so no two successive readings single anyone out.

An attacker reads a site's released counts after every change (as a script polling ``stats.json`` would) and
knows exactly when each person came, left or confirmed (the live total tells arrivals and departures apart).
Whenever any breakdown moves between two readings, the people whose state differs between the two copies must be
at least k: otherwise the difference names what those few people are.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.rollup import services as rollup
from core.rollup import steps
from core.rollup.models import Gender, Source
from core.tenancy import tenant_context
from tenants.models import Commitment, EmailConfirmation, Member
from tenants.services import members, signups
from tests.helpers import host

K = 5
DIMENSIONS = rollup.ALL_TENANT_DIMENSIONS

events = st.lists(
    st.tuples(
        st.sampled_from(["arrive", "arrive", "arrive", "arrive signed in", "leave", "confirm"]),
        st.integers(min_value=0, max_value=11),      # who
        st.sampled_from([Gender.MAN, Gender.WOMAN, Gender.NON_BINARY]),
        st.sampled_from(["FR", "KE", "BR"]),
        st.booleans(),                               # with a unit
    ),
    min_size=10, max_size=30,
)


def _commitment(db, email):
    member = db.session.scalars(select(Member).where(
        Member.email_canonical == members.canonical_email(email))).one_or_none()
    return None if member is None else db.session.scalars(
        select(Commitment).where(Commitment.member_id == member.id)).one()


def _state(db) -> dict:
    """Ground truth: each person's counted facts now (what a breakdown could reveal about them)."""
    return {c.member_id: (c.gender, c.country_code, c.unit_id, c.verified)
            for c in db.session.scalars(select(Commitment).where(Commitment.counted))}


def _changed(before: dict, after: dict) -> int:
    return sum(before.get(person) != after.get(person) for person in before.keys() | after.keys())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=events)
def test_no_two_readings_differ_by_fewer_than_k_people(db, make_tenant, make_unit, script):
    acme = make_tenant(privacy_k=K, email_confirmation=EmailConfirmation.OPTIONAL)
    unit = make_unit(acme)
    readings = []  # (the copy read, the ground truth when that copy was taken)
    truth_at_copy = {None: {}}  # never released: an empty copy
    for action, who, gender, country, with_unit in script:
        email = f"person{who}@example.org"
        with tenant_context(acme):
            if action.startswith("arrive"):  # signed in: verified from the start
                signups.commit(signups.SignUp(email=email, gender=gender, country_code=country, language="en",
                                              consent_version="1", unit_id=unit.id if with_unit else None,
                                              source=Source.SSO if action == "arrive signed in" else Source.WEB,
                                              verified=action == "arrive signed in"))
            elif (commitment := _commitment(db, email)) is not None:
                if action == "leave":
                    signups.withdraw(commitment)
                elif action == "confirm":
                    signups.confirm(commitment)
            db.session.commit()
            truth = _state(db)
            counts = steps.tenant_counts(DIMENSIONS, K)
            db.session.commit()
            copy = {key: figures for key, figures in counts.by_key.items()}
            if counts.released_at not in truth_at_copy:
                truth_at_copy[counts.released_at] = truth  # the copy was taken by this very reading
            assert counts.total == len(truth), "the total is live: it moves by one"
            readings.append((copy, truth_at_copy[counts.released_at], truth))
            live = rollup.tenant_counts(("gender",)).by_key
            assert steps.changes(live, copy) < K, "a copy k or more people behind is replaced when read"

    for (before, truth_before, _), (after, truth_after, _) in zip(readings, readings[1:]):
        if before != after:
            assert _changed(truth_before, truth_after) >= K, (
                "a breakdown moved between two readings over fewer than k people's changes")
    for copy, truth, _ in readings:
        # Every copy is a true state of the tallies (no noise, nothing invented): the men in it, for one.
        men = sum(1 for facts in truth.values() if facts[0] is Gender.MAN)
        assert copy.get(("gender", "man"), rollup.NOTHING).total == men


def test_the_men_move_only_once_k_people_have_come(client, db, make_tenant, make_commitment):
    """What a person sees: the total moves with each sign-up, the men and every breakdown only once k have come."""
    acme = make_tenant("acme", privacy_k=K)
    for n in range(K - 1):
        make_commitment(acme, country="KE")
        stats = client.get("/stats.json", base_url=host("acme")).get_json()
        assert (stats["total"], stats["men"], stats["by_country"], stats["released_at"]) == (n + 1, 0, {}, None)
    make_commitment(acme, country="KE")
    stats = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (stats["total"], stats["men"], stats["by_country"]["KE"]["men"]) == (K, K, K)
    assert stats["released_at"] is not None
    make_commitment(acme, gender=Gender.WOMAN, country="FR")
    later = client.get("/stats.json", base_url=host("acme")).get_json()
    assert later["total"] == K + 1, "the total moves by one"
    assert (later["men"], later["by_gender"], later["by_country"]) == (K, stats["by_gender"], stats["by_country"]), \
        "nothing else moves for one woman: she would be named"


def test_a_refused_form_between_sign_ups_shows_the_copy_as_stored(client, db, make_tenant, make_commitment):
    """A refused form's page is rolled back with its request: were a copy taken there, once the stored one is k
    behind each refused form would show one newer by a person, and never store it (the men 2k, 2k + 1...)."""
    acme = make_tenant("acme", privacy_k=K)
    for _ in range(K):
        make_commitment(acme)
    assert client.get("/stats.json", base_url=host("acme")).get_json()["men"] == K  # released
    for _ in range(K):
        make_commitment(acme)  # nobody looks: the stored copy is now k behind
    shown = []
    for _ in range(3):
        refused = client.post("/", base_url=host("acme"), data={"email": "not an address"})
        assert refused.status_code == 400
        shown.append(int(re.search(r'class="count-men"><strong>(\d+)</strong>', refused.get_data(as_text=True))[1]))
        make_commitment(acme)
    assert shown == [K] * 3
    assert client.get("/stats.json", base_url=host("acme")).get_json()["men"] == 2 * K + 3, "a page view releases"
