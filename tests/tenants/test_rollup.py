"""The roll-up stays equal to a recount, whatever mix of sign-ups, repeats, confirmations, withdrawals and
invalidations."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from core.rollup import services as rollup
from core.rollup.models import Gender, Source
from core.rollup.recount import recount
from core.rollup.services import ALL_GLOBAL_DIMENSIONS
from core.tenancy import tenant_context
from tenants.services import members, registry, signups
from tenants.models import Commitment, EmailConfirmation, Member, Tenant
from tests.tenants.test_counting import behind_the_rollups_back

operations = st.lists(
    st.tuples(
        st.sampled_from(["commit", "commit", "commit by sso", "confirm", "withdraw", "invalidate", "restore",
                         "set mode"]),
        st.integers(min_value=0, max_value=1),               # which tenant
        st.integers(min_value=0, max_value=3),               # which person (the same one at both tenants)
        st.sampled_from(list(Gender)),
        st.sampled_from(["FR", "KE", "BR"]),
        st.sampled_from(list(EmailConfirmation)),
    ),
    min_size=15, max_size=40,
)


def _own(db, email):
    member = db.session.scalars(select(Member).where(
        Member.email_canonical == members.canonical_email(email))).one_or_none()
    return None if member is None else db.session.scalars(
        select(Commitment).where(Commitment.member_id == member.id)).one()


@pytest.mark.long
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_rollup_equals_a_recount(db, app_config, database, make_tenant, make_unit, ops):
    """Whatever mix of sign-ups (one person at several tenants), confirmations, withdrawals, returns,
    invalidations and their undoing, and setting changes: the running tallies and people are what a recount finds."""
    tenants = [make_tenant(), make_tenant()]
    units = [make_unit(t) for t in tenants]
    for action, which, person, gender, country, mode in ops:
        with tenant_context(tenants[which]):
            email = f"person{person}@example.org"
            if action.startswith("commit"):
                signups.commit(signups.SignUp(
                    email=email, gender=gender, country_code=country, language="en", consent_version="1",
                    unit_id=units[which].id if person % 2 else None,
                    source=Source.SSO if action == "commit by sso" else Source.WEB,
                    verified=action == "commit by sso" and person % 3 != 0))
            elif action == "set mode":
                registry.configure(db.session.get(Tenant, tenants[which].id), email_confirmation=mode)
            elif (commitment := _own(db, email)) is not None:
                {"confirm": signups.confirm, "withdraw": signups.withdraw,
                 "invalidate": lambda c: signups.set_invalidated([c], True),
                 "restore": lambda c: signups.set_invalidated([c], False)}[action](commitment)
            db.session.commit()
    assert recount() == []  # every dimension of every tenant, the people and the global tallies
    running = rollup.global_counts(ALL_GLOBAL_DIMENSIONS).by_key
    behind_the_rollups_back(app_config, database, "DELETE FROM global_tallies")
    recount(repair=True)  # rebuilds the same (on PostgreSQL, in the database)
    db.session.commit()
    assert rollup.global_counts(ALL_GLOBAL_DIMENSIONS).by_key == {k: v for k, v in running.items() if v.total}
    assert recount() == []


def test_withdrawing_lowers_the_counts_and_coming_back_raises_them(db, make_tenant, make_commitment):
    acme = make_tenant()
    make_commitment(acme, email="sam@example.org", country="KE")
    with tenant_context(acme):
        commitment = db.session.scalars(select(Commitment)).one()
        assert signups.withdraw(commitment) is True
        assert signups.withdraw(commitment) is False, "withdrawing twice counts once"
        db.session.commit()
        assert (rollup.tenant_counts().total, rollup.tenant_counts(["country"]).dimension("country")) == (0, {})
    assert make_commitment(acme, email="sam@example.org") is True
    with tenant_context(acme):
        assert rollup.tenant_counts().men == 1
    assert rollup.global_counts().men == 1


def test_recount_reports_drift_and_repairs_it(db, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme, country="KE")
    make_commitment(acme, country="KE")
    with tenant_context(acme):
        db.session.execute(update(Commitment).values(country_code="FR"))  # behind the roll-up's back
        db.session.commit()
    drifts = recount()
    assert {(d.scope, d.dimension, d.key, d.stored, d.expected) for d in drifts} == {
        ("tenant:acme", "country", "FR", (0, 0, 0, 0), (2, 2, 0, 0)),
        ("tenant:acme", "country", "KE", (2, 2, 0, 0), (0, 0, 0, 0)),
    }, "the movement counts each person under the facts they were counted under"
    recount(repair=True)
    db.session.commit()
    assert recount() == []
    with tenant_context(acme):
        assert rollup.tenant_counts(["country"]).dimension("country") == {
            "FR": {"total": 2, "men": 2, "verified": 0, "verified_men": 0}}
