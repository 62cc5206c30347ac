"""The roll-up stays equal to a recount, whatever mix of sign-ups, repeats and withdrawals."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from core.rollup import services as rollup
from core.rollup.models import Gender, Source
from core.rollup.recount import recount
from core.tenancy import tenant_context
from tenants.services import members, signups
from tenants.models import Commitment, Member

operations = st.lists(
    st.tuples(
        st.sampled_from(["commit", "withdraw"]),
        st.integers(min_value=0, max_value=1),               # which tenant
        st.integers(min_value=0, max_value=6),               # which person
        st.sampled_from(list(Gender)),
        st.sampled_from(["FR", "KE", "BR"]),
    ),
    max_size=40,
)


def _withdraw(db, email):
    member = db.session.scalars(select(Member).where(
        Member.email_canonical == members.canonical_email(email))).one_or_none()
    if member is not None:
        signups.withdraw(db.session.scalars(select(Commitment).where(Commitment.member_id == member.id)).one())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_rollup_equals_a_recount(db, make_tenant, make_unit, ops):
    tenants = [make_tenant(), make_tenant()]
    units = [make_unit(t) for t in tenants]
    for action, which, person, gender, country in ops:
        with tenant_context(tenants[which]):
            email = f"person{person}@example.org"
            if action == "commit":
                signups.commit(signups.SignUp(
                    email=email, gender=gender, country_code=country, language="en", consent_version="1",
                    unit_id=units[which].id if person % 2 else None,
                    source=Source.SSO if person % 3 == 0 else Source.WEB))
            else:
                _withdraw(db, email)
            db.session.commit()
    assert recount() == []  # every dimension, the source included


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
        ("tenant:acme", "country", "FR", (0, 0), (2, 2)), ("tenant:acme", "country", "KE", (2, 2), (0, 0)),
        ("global", "country", "FR", (0, 0), (2, 2)), ("global", "country", "KE", (2, 2), (0, 0)),
    }
    recount(repair=True)
    db.session.commit()
    assert recount() == []
    assert rollup.global_counts(["country"]).dimension("country") == {"FR": {"total": 2, "men": 2}}
