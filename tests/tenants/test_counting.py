"""The counting rules: a commitment counts while it is not withdrawn, not invalidated and not waiting for a required
confirmation; it is verified once confirmed (or vouched for); one person is counted once across tenants."""

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy import func, select, update

from core.extensions import db as _db
from core.rollup import services as rollup
from core.rollup.models import Gender, Person, Source
from core.rollup.recount import recount
from core.tenancy import tenant_context
from tenants.models import Commitment, EmailConfirmation, Member
from tenants.services import members, signups
from tests.helpers import host


def commit(db, tenant, email="sam@example.org", **fields) -> bool:
    with tenant_context(tenant):
        made = signups.commit(signups.SignUp(**{"email": email, "gender": Gender.MAN, "country_code": "FR",
                                                "language": "en", "consent_version": "1", **fields}))
        db.session.commit()
    return made


def commitment(db, tenant, email="sam@example.org") -> Commitment:
    return db.session.scalars(select(Commitment).join(Member, Member.id == Commitment.member_id).where(
        Member.email_canonical == members.canonical_email(email))).one()


def act(db, tenant, action, email="sam@example.org", *args):
    """Run a sign-up service on one person's commitment as ``tenant``, commit, and return what it returned."""
    with tenant_context(tenant):
        result = action(commitment(db, tenant, email), *args)
        db.session.commit()
    return result


def tenant_figures(tenant) -> rollup.Figures:
    with tenant_context(tenant):
        return rollup.tenant_counts().summed("gender")


def people() -> rollup.Figures:
    return rollup.global_counts().summed("gender")


def test_optional_confirmation_counts_at_once_and_verifies_once(db, make_tenant):
    acme = make_tenant("acme")
    assert commit(db, acme) is True
    assert tenant_figures(acme) == people() == (1, 1, 0, 0)
    assert act(db, acme, signups.confirm) is True
    assert tenant_figures(acme) == people() == (1, 1, 1, 1), "counted as before, now verified"
    assert act(db, acme, signups.confirm) is False, "a second confirmation changes nothing"
    assert tenant_figures(acme) == people() == (1, 1, 1, 1)
    assert recount() == []


def test_required_confirmation_counts_only_once_confirmed(db, make_tenant):
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.REQUIRED)
    commit(db, acme)
    assert tenant_figures(acme) == people() == (0, 0, 0, 0)
    assert commit(db, acme) is False, "a repeat while waiting is a repeat"
    assert act(db, acme, signups.confirm) is True
    assert tenant_figures(acme) == people() == (1, 1, 1, 1)
    assert act(db, acme, signups.withdraw) is True
    assert tenant_figures(acme) == people() == (0, 0, 0, 0)
    assert commit(db, acme) is True, "made again: confirmed before, so it counts at once, verified"
    assert tenant_figures(acme) == people() == (1, 1, 1, 1)
    assert recount() == []


def test_a_commitment_waiting_for_a_confirmation_keeps_waiting_when_the_setting_changes(db, make_tenant):
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.REQUIRED)
    commit(db, acme)
    with tenant_context(acme):
        acme.email_confirmation = EmailConfirmation.OPTIONAL
        db.session.commit()
    assert tenant_figures(acme) == (0, 0, 0, 0)
    commit(db, acme, "ana@example.org", gender=Gender.WOMAN)
    assert tenant_figures(acme) == (1, 0, 0, 0), "a new sign-up follows the new setting"
    act(db, acme, signups.confirm)
    assert tenant_figures(acme) == (2, 1, 1, 1)
    assert recount() == []


def test_who_signs_in_through_their_organisation_is_never_asked_and_counts_at_once(db, make_tenant):
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.REQUIRED)
    with tenant_context(acme):
        assert signups.asks_for_confirmation(Source.SSO, verified=True) is False
        assert signups.asks_for_confirmation(Source.SSO, verified=False) is False
        assert signups.asks_for_confirmation(Source.WEB, verified=False) is True
    commit(db, acme, source=Source.SSO, verified=True)
    assert tenant_figures(acme) == (1, 1, 1, 1)
    commit(db, acme, "kim@example.org", source=Source.SSO, verified=False)
    assert tenant_figures(acme) == (2, 2, 1, 1), "an address the provider did not vouch for counts, unverified"


def test_with_confirmation_off_nobody_is_asked(db, make_tenant):
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.OFF)
    with tenant_context(acme):
        assert signups.asks_for_confirmation(Source.WEB, verified=False) is False
    commit(db, acme)
    assert tenant_figures(acme) == (1, 1, 0, 0)


def test_invalidating_lowers_the_counts_once_keeps_the_row_and_restoring_raises_them(db, make_tenant):
    acme = make_tenant("acme")
    commit(db, acme)
    commit(db, acme, "ana@example.org", gender=Gender.WOMAN)
    act(db, acme, signups.confirm)
    with tenant_context(acme):
        both = db.session.scalars(select(Commitment)).all()
        assert signups.set_invalidated(both, True) == 2
        assert signups.set_invalidated(both, True) == 0, "marked already: nothing moves twice"
        db.session.commit()
        assert db.session.scalar(select(func.count(Commitment.id))) == 2, "kept, never deleted"
    assert tenant_figures(acme) == people() == (0, 0, 0, 0)
    assert recount() == []
    with tenant_context(acme):
        assert signups.set_invalidated(db.session.scalars(select(Commitment)).all(), False) == 2
        db.session.commit()
    assert tenant_figures(acme) == people() == (2, 1, 1, 1)
    assert recount() == []


def test_an_invalidated_commitment_stays_out_when_confirmed_or_made_again(db, make_tenant):
    acme = make_tenant("acme", email_confirmation=EmailConfirmation.REQUIRED)
    commit(db, acme)
    assert act(db, acme, _invalidate) == 1
    act(db, acme, signups.confirm)
    assert tenant_figures(acme) == (0, 0, 0, 0)
    act(db, acme, signups.withdraw)
    commit(db, acme)
    assert tenant_figures(acme) == (0, 0, 0, 0), "made again, still invalidated"
    act(db, acme, _restore)
    assert tenant_figures(acme) == people() == (1, 1, 1, 1)
    assert recount() == []


def _invalidate(commitment):
    return signups.set_invalidated([commitment], True)


def _restore(commitment):
    return signups.set_invalidated([commitment], False)


def test_one_person_at_two_partners_is_one_person_and_two_commitments(db, client, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    commit(db, acme, "Sam@Example.org", country_code="KE")
    commit(db, globex, "sam@example.org", country_code="BR")
    assert people() == (1, 1, 0, 0)
    assert rollup.global_counts(["country"]).dimension("country") == {
        "KE": {"total": 1, "men": 1, "verified": 0, "verified_men": 0}}, "counted under the first commitment"
    assert rollup.global_counts(["tenant"]).dimension("tenant") == {
        str(t.id): {"total": 1, "men": 1, "verified": 0, "verified_men": 0} for t in (acme, globex)}
    stats = client.get("/stats.json", base_url=host()).get_json()
    assert (stats["people"], stats["commitments"]) == (1, 2)  # live; the men move in steps (test_steps.py)
    assert recount() == []

    act(db, acme, signups.withdraw)
    assert people() == (1, 1, 0, 0), "still committed at globex"
    assert "KE" in rollup.global_counts(["country"]).dimension("country"), "under the facts counted under"
    assert recount() == []
    act(db, globex, signups.withdraw)
    assert people() == (0, 0, 0, 0)
    assert rollup.global_counts(["country"]).dimension("country") == {}
    commit(db, globex)
    assert rollup.global_counts(["country"]).dimension("country") == {
        "BR": {"total": 1, "men": 1, "verified": 0, "verified_men": 0}}, "counted again, under this commitment"
    assert recount() == []


def test_a_person_is_verified_while_one_of_their_counted_commitments_is(db, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    commit(db, acme)
    commit(db, globex, source=Source.SSO, verified=True)
    assert people() == (1, 1, 1, 1)
    act(db, acme, signups.confirm)
    assert people() == (1, 1, 1, 1), "verified once, however many times"
    act(db, globex, signups.withdraw)
    assert people() == (1, 1, 1, 1), "the confirmed one still counts"
    act(db, acme, _invalidate)
    assert people() == (0, 0, 0, 0)
    assert recount() == []


def test_the_people_table_holds_a_keyed_hash_and_no_address(db, make_tenant, app):
    acme = make_tenant("acme")
    commit(db, acme, "sam@example.org")
    key = db.session.scalars(select(Person.person_key)).one()
    with tenant_context(acme):
        assert commitment(db, acme).person_key == key and len(key) == 32
    assert key == rollup.person_key("sam@example.org")
    app.config["PEOPLE_PEPPER"] = "another pepper, another key" * 2
    assert rollup.person_key("sam@example.org") != key


def test_a_commitment_without_a_key_is_a_person_of_its_own(db, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    commit(db, acme)
    commit(db, globex)
    for tenant in (acme, globex):
        with tenant_context(tenant):
            db.session.execute(update(Commitment).values(person_key=None))  # as before keys were kept
            db.session.commit()
    drifts = recount()
    assert {(d.scope, d.dimension, d.key) for d in drifts} >= {("global", "gender", "man")}
    recount(repair=True)
    db.session.commit()
    assert recount() == [] and people() == (2, 2, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0, "nobody left to remember"


def test_rekeying_gives_every_commitment_its_key_and_counts_each_person_once(app, db, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    commit(db, acme)
    commit(db, globex)
    for tenant in (acme, globex):
        with tenant_context(tenant):
            db.session.execute(update(Commitment).values(person_key=None))
            db.session.commit()
    recount(repair=True)
    db.session.commit()
    assert people() == (2, 2, 0, 0), "before: two commitments without keys, two people"
    app.config["PEOPLE_PEPPER"] = "a new pepper of at least thirty-two characters"
    result = app.test_cli_runner().invoke(args=["people", "rekey"])
    assert result.exit_code == 0 and "2 commitments given new keys" in result.output
    assert people() == (1, 1, 0, 0)
    assert db.session.scalars(select(Person.person_key)).one() == rollup.person_key("sam@example.org")
    assert recount() == []
    assert "0 commitments" in app.test_cli_runner().invoke(args=["people", "rekey"]).output


def behind_the_rollups_back(app_config, database, statement: str) -> None:
    """Run SQL as the database's owner (the app role may not write ``people``), as an operator's mistake would."""
    engine = sa.create_engine(database["owner"] if database["backend"] == "postgresql"
                              else app_config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


def test_recount_repairs_drifted_people(db, app_config, database, make_tenant):
    acme = make_tenant("acme")
    commit(db, acme)
    commit(db, acme, "ana@example.org", gender=Gender.WOMAN)
    commit(db, acme, "kim@example.org", gender=Gender.WOMAN)
    act(db, acme, signups.withdraw, "kim@example.org")
    db.session.commit()
    behind_the_rollups_back(app_config, database, "UPDATE people SET commitments = 2 WHERE gender = 'man'")
    behind_the_rollups_back(app_config, database, "DELETE FROM people WHERE country_code = 'FR' AND gender = 'woman'"
                                                  " AND commitments = 1")
    drifts = {(d.scope, d.stored, d.expected) for d in recount()}
    assert ("people", (2, 0), (1, 0)) in drifts and ("people", (0, 0), (1, 0)) in drifts
    recount(repair=True)
    db.session.commit()
    assert recount() == [] and people() == (2, 1, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 2, "whoever counts nowhere is forgotten"


def test_sign_ups_of_one_person_at_several_partners_at_once_count_them_once(app, make_tenant):
    tenants = [make_tenant().id for _ in range(4)]
    barrier = threading.Barrier(len(tenants))

    def sign_up(tenant_id):
        with app.app_context(), tenant_context(tenant_id):
            barrier.wait()
            made = signups.commit(signups.SignUp(email="sam@example.org", gender=Gender.MAN, country_code="FR",
                                                 language="en", consent_version="1"))
            _db.session.commit()
            return made

    with ThreadPoolExecutor(len(tenants)) as pool:
        assert list(pool.map(sign_up, tenants)) == [True] * len(tenants)
    with app.app_context():
        assert people() == (1, 1, 0, 0)
        assert _db.session.scalars(select(Person.commitments)).one() == len(tenants)
        assert rollup.global_counts(["tenant"]).summed("tenant").total == len(tenants)
        assert recount() == []
