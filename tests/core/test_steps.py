"""Privacy over time: breakdowns move only in steps of k people, so no two successive readings single anyone out.

An attacker reads a site's released counts after every change (as a script polling ``stats.json`` would) and
knows exactly when each person came, left or confirmed (the live total tells arrivals and departures apart).
Whenever any breakdown moves between two readings, the people whose state differs between the two copies must be
at least k: otherwise the difference names what those few people are.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core import privacy
from core.rollup import services as rollup
from core.rollup import steps
from core.rollup.models import Gender, Source, TenantReleasedTally
from core.snapshots.models import Snapshot
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


def _changed(before: dict, after: dict, verified: bool) -> int:
    """The people whose counted facts changed: for everyone's counts, whether they count and where (gender,
    country, unit); for the verified counts, the same of the verified (a confirmation is a change there only)."""
    def facts(state: dict) -> dict:
        return {person: facts[:3] for person, facts in state.items() if facts[3] or not verified}
    was, now = facts(before), facts(after)
    return sum(was.get(person) != now.get(person) for person in was.keys() | now.keys())


def _as_released(db) -> dict:
    """The current tenant's copy as released: what the next step is measured against."""
    return {(row.dimension, row.key): rollup.Figures(row.total, row.men, row.released_verified,
                                                     row.released_verified_men)
            for row in db.session.scalars(select(TenantReleasedTally))}


def _gender_cells(counts: dict):
    return ((key, figures) for key, figures in counts.items() if key[0] == "gender")


def _moved_figures(before: dict, after: dict, figures: tuple[str, ...]) -> bool:
    return any(getattr(before.get(key, rollup.NOTHING), figure) != getattr(after.get(key, rollup.NOTHING), figure)
               for key in before.keys() | after.keys() for figure in figures)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=events)
def test_no_two_readings_differ_by_fewer_than_k_people(db, make_tenant, make_unit, script):
    acme = make_tenant(privacy_k=K, email_confirmation=EmailConfirmation.OPTIONAL)
    unit = make_unit(acme)
    readings = []  # (the copy read, the ground truth when it was taken, and when its verified figures were)
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
            readings.append((copy, truth_at_copy[counts.released_at], truth_at_copy[counts.verified_released_at],
                             counts.released_at, counts.verified_released_at))
            live = rollup.tenant_counts(DIMENSIONS).by_key
            released = _as_released(db)
            in_gender = max(steps.moved(dict(_gender_cells(live)), dict(_gender_cells(released)), figure)
                            for figure in ("total", "verified"))
            judged = [dimension for dimension in DIMENSIONS if any(key[0] == dimension for key in released)] or None
            assert not (steps.step(live, released, K, dimensions=judged) is not None and in_gender >= K), (
                "a copy that k people's moves in the gender cells make ready is replaced when read")

    as_released = {}  # each release of verified figures: the copy that released them, as it was then
    for copy, _, _, released, verified_released in readings:
        as_released.setdefault(verified_released, copy)
    for (before, truth_before, verified_before, released, verified_at_before), (
            after, truth_after, verified_after, _, verified_at_after) in zip(readings, readings[1:]):
        if released is None:  # nothing released before: the first copy has none to be compared with
            continue
        if _moved_figures(before, after, ("total", "men")):
            assert _changed(truth_before, truth_after, verified=False) >= K, (
                "a breakdown of everyone moved between two readings over fewer than k people's changes")
        if verified_at_after != verified_at_before:
            # Against the verified figures as released (a figure shown brought within its cell is worked out
            # from figures already shown, so it tells nothing more).
            if _moved_figures(as_released[verified_at_before], after, ("verified", "verified_men")):
                assert _changed(verified_before, verified_after, verified=True) >= K, (
                    "a verified count moved between two readings over fewer than k people's changes")
        else:  # held: each figure as released, or brought within its cell from figures already shown
            held = as_released[verified_at_after]
            for key, figures in after.items():
                kept = held.get(key, rollup.NOTHING)
                assert (figures.verified, figures.verified_men) == steps.fitted(rollup.Figures(
                    figures.total, figures.men, kept.verified, kept.verified_men))[2:], key
    for copy, truth, _, _, _ in readings:
        # Every copy is a true state of the tallies (no noise, nothing invented): the men in it, for one.
        men = sum(1 for facts in truth.values() if facts[0] is Gender.MAN)
        assert copy.get(("gender", "man"), rollup.NOTHING).total == men
        for key, figures in copy.items():  # and its verified figures, even held, fit in their cells
            assert figures.verified <= figures.total and figures.verified_men <= figures.men, key
            assert figures.men - figures.verified_men <= figures.total - figures.verified, key


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


@pytest.mark.parametrize("site", ["a partner's", "the movement's"])
def test_confirmations_do_not_make_up_the_k_people_another_breakdown_needs(client, db, make_tenant, make_commitment,
                                                                            site):
    """k - 1 people confirming and one person arriving: the verified counts moved by k, everyone's by one. The
    copy stays: released, it would show the newcomer's country. On the movement's site, on PostgreSQL, the
    database's own release_global_tallies() decides."""
    k, address = (K, host("acme")) if site == "a partner's" else (privacy.DEFAULT_K, host())
    acme = make_tenant("acme", privacy_k=k, email_confirmation=EmailConfirmation.OPTIONAL)
    people = [f"person{n}@example.org" for n in range(2 * k)]
    for n, email in enumerate(people):
        make_commitment(acme, email=email, country="KE" if n % 2 else "FR")
    released = client.get("/stats.json", base_url=address).get_json()
    assert released["by_country"]["FR"]["total"] == k
    with tenant_context(acme):
        for email in people[:k - 1]:
            signups.confirm(_commitment(db, email))
        db.session.commit()
    make_commitment(acme, email="newcomer@example.org", country="FR", source=Source.SSO, verified=True)
    held = client.get("/stats.json", base_url=address).get_json()
    assert held["total" if site == "a partner's" else "people"] == 2 * k + 1, "the total is live"
    assert (held["by_country"], held["released_at"]) == (released["by_country"], released["released_at"])
    for email in ("another@example.org", "and-another@example.org"):
        make_commitment(acme, email=email, country="KE")
    for n in range(k - 2):
        make_commitment(acme, email=f"later{n}@example.org", country="KE", source=Source.SSO, verified=True)
    stepped = client.get("/stats.json", base_url=address).get_json()
    assert stepped["by_country"]["FR"]["total"] == k + 1, "k people came: the step is taken"


def test_one_person_leaving_many_partners_does_not_make_up_k_people(client, db, make_tenant, make_commitment):
    """The movement's partner breakdown counts commitments: one person withdrawing at k partners (still counted at
    another) moves it by k, and nobody has come or gone. With k confirmations, that must not release the one
    newcomer."""
    k = privacy.DEFAULT_K
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.OPTIONAL)
    partners = [make_tenant(f"partner{n}") for n in range(k + 1)]
    people = [f"person{n}@example.org" for n in range(2 * k)]
    for email in people:
        make_commitment(acme, email=email, country="KE")
    for partner in partners:
        make_commitment(partner, email="many@example.org", country="FR")
    released = client.get("/stats.json", base_url=host()).get_json()
    with tenant_context(acme):
        for email in people[:k]:
            signups.confirm(_commitment(db, email))
        db.session.commit()
    make_commitment(acme, email="newcomer@example.org", gender=Gender.WOMAN, country="KE")
    for partner in partners[:k]:
        with tenant_context(partner):
            signups.withdraw(_commitment(db, "many@example.org"))
            db.session.commit()
    held = client.get("/stats.json", base_url=host()).get_json()
    assert held["released_at"] == released["released_at"], "one person came: no step"


@pytest.mark.parametrize("site", ["a partner's", "the movement's"])
def test_a_confirmation_waiting_for_its_k_does_not_hold_everyone_back(client, db, make_tenant, make_commitment, site):
    """A partner that asks no confirmation, where one person now and then signs in through single sign-on: the
    verified counts have moved by one, and however many others come, everyone's breakdowns must still step (the
    verified ones staying as they were until they too have moved by k). On the movement's site, on PostgreSQL,
    release_global_tallies() decides."""
    k, address = (K, host("acme")) if site == "a partner's" else (privacy.DEFAULT_K, host())
    acme = make_tenant("acme", privacy_k=k, email_confirmation=EmailConfirmation.OFF)
    for _ in range(k):
        make_commitment(acme, country="FR", source=Source.SSO, verified=True)
    first = client.get("/stats.json", base_url=address).get_json()
    assert first["verified"]["men"] == k and first["verified_released_at"] == first["released_at"]
    make_commitment(acme, country="FR", source=Source.SSO, verified=True)  # one verified person: held
    for _ in range(k):
        make_commitment(acme, country="KE")
    stepped = client.get("/stats.json", base_url=address).get_json()
    assert stepped["by_country"]["KE"]["total"] == k, "k people came: everyone's breakdowns step"
    assert stepped["by_country"]["FR"] == {"total": k + 1, "men": k + 1, "verified": k}, (
        "the one newly verified person is not shown as verified")
    assert (stepped["verified"]["men"], stepped["unverified"]["men"]) == (k, k + 1)
    assert stepped["released_at"] > first["released_at"]
    assert stepped["verified_released_at"] == first["released_at"], "the verified figures say when they are of"
    for _ in range(k - 1):
        make_commitment(acme, country="BR", source=Source.SSO, verified=True)
    assert client.get("/stats.json", base_url=address).get_json()["released_at"] == stepped["released_at"], (
        "k verified people moved, but everyone's counts by k - 1: no step")
    make_commitment(acme, country="BR")
    caught_up = client.get("/stats.json", base_url=address).get_json()
    assert caught_up["verified"]["men"] == 2 * k, "k verified people moved: the verified figures step too"
    assert caught_up["verified_released_at"] == caught_up["released_at"]


def _withdraw(db, tenant, email):
    with tenant_context(tenant):
        signups.withdraw(_commitment(db, email))
        db.session.commit()


def test_a_verified_person_leaving_a_cell_where_all_were_verified_holds_nobody_back(client, db, make_tenant,
                                                                                    make_commitment):
    """The ``source`` cell ``sso`` has only verified people: when one of them withdraws, its held verified count
    no longer fits in it. Everyone's breakdowns still step; the cell shows its verified count brought within it,
    from figures already shown, and the verified figures step once k verified people moved since their release."""
    acme = make_tenant("acme", privacy_k=K, email_confirmation=EmailConfirmation.OFF)
    for n in range(3):
        make_commitment(acme, email=f"sso{n}@example.org", source=Source.SSO, verified=True)
    for _ in range(K):
        make_commitment(acme, country="KE")
    first = client.get("/stats.json", base_url=host("acme")).get_json()
    assert first["released_at"] is not None and first["verified"]["people"] == 3
    _withdraw(db, acme, "sso0@example.org")
    for _ in range(2 * K):
        make_commitment(acme, country="BR")
    later = client.get("/stats.json", base_url=host("acme")).get_json()
    assert later["released_at"] != first["released_at"], "2k people came: everyone's breakdowns step"
    assert later["verified_released_at"] == first["released_at"]
    with tenant_context(acme):
        sso = steps.tenant_counts(("source",), K).by_key[("source", "sso")]
    assert (sso.total, sso.verified) == (2, 2), "no more verified people shown in a cell than it has"
    assert later["verified"]["people"] == 3, "the verified total as released: one withdrawal is not a step"
    for n in range(K - 1):
        make_commitment(acme, email=f"later{n}@example.org", country="BR", source=Source.SSO, verified=True)
    make_commitment(acme, country="BR")
    caught_up = client.get("/stats.json", base_url=host("acme")).get_json()
    assert caught_up["verified"]["people"] == 2 + K - 1, "k verified people moved: the verified figures step"


def test_a_dimension_the_copy_lacks_waits_for_a_whole_step(client, db, make_tenant, make_unit, make_commitment):
    """A copy taken before a dimension was tallied (as every copy was before ``unit_day``): a step that holds the
    verified figures leaves that dimension out, since its verified figures compared with nothing would release
    one person's sign-in at the next step."""
    acme = make_tenant("acme", privacy_k=K, email_confirmation=EmailConfirmation.OFF)
    unit = make_unit(acme)
    for _ in range(K):
        make_commitment(acme, unit=unit, source=Source.SSO, verified=True)
    first = client.get("/stats.json", base_url=host("acme")).get_json()
    assert first["verified"]["men"] == K
    with tenant_context(acme):  # the copy as one taken before ``unit_day`` was tallied
        db.session.execute(delete(TenantReleasedTally).where(TenantReleasedTally.dimension == "unit_day"))
        db.session.commit()
    make_commitment(acme, unit=unit, source=Source.SSO, verified=True)  # one person, whose sign-in is held
    for _ in range(K):
        make_commitment(acme, country="KE")
    held = client.get("/stats.json", base_url=host("acme")).get_json()
    assert held["verified"]["men"] == K and held["verified_released_at"] == first["released_at"]
    for _ in range(K):
        make_commitment(acme, country="BR")
    stepped = client.get("/stats.json", base_url=host("acme")).get_json()
    assert stepped["released_at"] > held["released_at"]
    assert stepped["verified"]["men"] == K, "one verified person since the verified figures' release: still held"


def test_a_copy_released_empty_steps_again_when_people_come(client, db, make_tenant, make_commitment):
    acme = make_tenant("acme", privacy_k=K)
    for n in range(K):
        make_commitment(acme, email=f"p{n}@example.org", country="KE")
    assert client.get("/stats.json", base_url=host("acme")).get_json()["men"] == K
    for n in range(K):
        _withdraw(db, acme, f"p{n}@example.org")
    empty = client.get("/stats.json", base_url=host("acme")).get_json()
    assert (empty["total"], empty["men"]) == (0, 0)
    for _ in range(2 * K):
        make_commitment(acme, country="KE")
    assert client.get("/stats.json", base_url=host("acme")).get_json()["men"] == 2 * K


def test_the_movement_holds_back_nobody_for_one_partners_all_verified_cell(client, db, make_tenant, make_commitment):
    """The movement's copy holds people only (not their commitments by partner): one person leaving a partner
    where everyone signed in does not stop the movement's breakdowns from stepping."""
    k = privacy.DEFAULT_K
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.OFF)
    globex = make_tenant("globex", email_confirmation=EmailConfirmation.OFF)
    for n in range(3):
        make_commitment(acme, email=f"sso{n}@example.org", country="KE", source=Source.SSO, verified=True)
    for _ in range(k):
        make_commitment(globex, country="KE")
    first = client.get("/stats.json", base_url=host()).get_json()
    assert first["released_at"] is not None and first["verified"]["people"] == 3
    _withdraw(db, acme, "sso0@example.org")
    for _ in range(2 * k):
        make_commitment(globex, country="FR")
    later = client.get("/stats.json", base_url=host()).get_json()
    assert later["released_at"] != first["released_at"] and later["by_country"]["FR"]["total"] == 2 * k


def test_nothing_on_the_global_site_adds_up_the_partners_stepped_figures(app, client, db, movement, make_tenant,
                                                                         make_commitment):
    """Each partner's copy and the movement's step at different moments: a sum of the partners' stepped figures
    set beside the movement's own would single out whoever changed in between. The global site gives the
    commitments live and unsplit, and the daily snapshot the unlisted partners' commitments only."""
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.OPTIONAL)
    hidden = make_tenant("hidden", listed=False)
    for _ in range(privacy.DEFAULT_K):
        make_commitment(acme, country="KE")
    for _ in range(3):
        make_commitment(hidden, country="KE")
    make_commitment(movement, country="KE")
    stats = client.get("/stats.json", base_url=host()).get_json()
    assert stats["commitments"] == privacy.DEFAULT_K + 4
    assert stats["verified"]["commitments"] is None and stats["unverified"]["commitments"] is None
    assert app.test_cli_runner().invoke(args=["snapshots", "take"]).exit_code == 0
    body = json.loads(db.session.scalars(select(Snapshot)).one().body)
    assert body["unlisted_partners"] == {"total": 4}, "the unlisted organisations (the movement among them), live"


def test_the_movement_brings_a_held_figure_within_a_cell_verified_people_left(client, db, make_tenant,
                                                                              make_commitment):
    """As for a partner, on the movement's site (on PostgreSQL, decided by release_global_tallies())."""
    k = privacy.DEFAULT_K
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.OFF)
    for n in range(3):
        make_commitment(acme, email=f"sso{n}@example.org", country="JP", source=Source.SSO, verified=True)
    for _ in range(k):
        make_commitment(acme, country="KE")
    first = client.get("/stats.json", base_url=host()).get_json()
    _withdraw(db, acme, "sso0@example.org")
    for _ in range(2 * k):
        make_commitment(acme, country="BR")
    later = client.get("/stats.json", base_url=host()).get_json()
    assert later["released_at"] != first["released_at"] and later["verified_released_at"] == first["released_at"]
    japan = steps.global_counts(("country",), k).by_key[("country", "JP")]
    assert (japan.total, japan.verified, japan.verified_men) == (2, 2, 2), "two people there, both verified"
    assert later["verified"]["people"] == 3, "the verified total as released"


def test_a_new_copy_writes_only_the_cells_that_moved_and_equals_the_tallies(db, make_tenant, make_commitment):
    acme = make_tenant("acme", privacy_k=K, email_confirmation=EmailConfirmation.OFF)
    for n in range(3 * K):
        make_commitment(acme, country=("FR", "KE", "BR")[n % 3])
    with tenant_context(acme):
        steps.tenant_counts(DIMENSIONS, K)  # the first copy
        db.session.commit()
        before = _as_released(db)
    for _ in range(K):
        make_commitment(acme, country="JP")  # k people moved: gender, country JP, day... not FR, KE or BR
    written = []
    listening = lambda *args: written.append(args[3]) if "tenant_released_tallies" in args[2] else None  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listening)
    with tenant_context(acme):
        steps.tenant_counts(DIMENSIONS, K)
        db.session.commit()
        sa.event.remove(db.engine, "before_cursor_execute", listening)
        live = {key: figures for key, figures in rollup.tenant_counts(DIMENSIONS).by_key.items() if figures.total}
        assert _as_released(db) == live != before, "the copy is the tallies, as a copy written whole would be"
    values = " ".join(str(parameters) for parameters in written)
    assert "'JP'" in values and "'FR'" not in values and "'KE'" not in values, "the cells that did not move stay"


def test_a_first_copy_of_many_cells_is_written_whole(db, make_tenant):
    """A large partner's first copy (places, units and days times genders) can hold thousands of cells: more than
    one statement's parameters allow on SQLite (32,766) or PostgreSQL (65,535)."""
    acme = make_tenant("acme")
    cells = {("place", str(n)): rollup.Figures(1, 1, 0, 0) for n in range(8_000)}
    with tenant_context(acme):
        assert steps._take(steps._TENANT, None, steps.Step(cells, cells, True), ({}, {}))
        db.session.commit()
        assert _as_released(db) == cells
