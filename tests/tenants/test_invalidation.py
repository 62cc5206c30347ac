"""Bulk invalidation: the operator lists suspicious clusters, takes one out of the counts with a reason (rows kept,
marked) and can undo it; the counts, the people figure and a recount agree at every step."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from core.rollup import services as rollup
from core.rollup.models import Gender
from core.rollup.recount import recount
from core.tenancy import tenant_context
from tenants.invalidation import services as invalidation
from tenants.models import Commitment, Invalidation
from tenants.services import signups

BOTNET = "203.0.113.0/24"


def sign_up(db, tenant, email, network="198.51.100.0/24", suspect=None, gender=Gender.MAN):
    with tenant_context(tenant):
        signups.commit(signups.SignUp(email=email, gender=gender, country_code="FR", language="en",
                                      consent_version="1", client_network=network,
                                      email_domain=email.rsplit("@", 1)[1], suspect=suspect))
        db.session.commit()


def flood(db, tenant, count=25):
    for n in range(count):
        sign_up(db, tenant, f"bot{n}@spam.example", network=BOTNET, suspect="too_fast" if n % 2 else None)


def tenant_total(tenant) -> int:
    with tenant_context(tenant):
        return rollup.tenant_counts().total


def window():
    now = datetime.now(timezone.utc)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def test_a_flood_shows_as_a_cluster_and_honest_people_do_not(db, make_tenant):
    acme = make_tenant("acme")
    flood(db, acme)
    for n in range(3):
        sign_up(db, acme, f"person{n}@acme.example")
    with tenant_context(acme):
        found = invalidation.clusters(*window(), min_size=20)
    assert [(c.kind, c.value, c.commitments, c.suspect) for c in found] == [
        ("domain", "spam.example", 25, 12), ("network", BOTNET, 25, 12)]


def test_invalidating_a_cluster_lowers_the_counts_keeps_the_rows_and_undo_restores_them(db, make_tenant):
    acme = make_tenant("acme")
    flood(db, acme)
    sign_up(db, acme, "honest@acme.example")
    people_before = rollup.global_counts().total
    assert tenant_total(acme) == 26

    with tenant_context(acme):
        decision = invalidation.invalidate(invalidation.Criteria(*window(), network=BOTNET), "bot flood", "ops")
        db.session.commit()
        assert decision.commitments == 25
    assert tenant_total(acme) == 1
    assert rollup.global_counts().total == people_before - 25
    with tenant_context(acme):
        assert db.session.scalar(select(func.count()).select_from(Commitment)) == 26, "nothing deleted"
        assert db.session.scalar(select(func.count()).where(Commitment.invalidation_id == decision.id)) == 25
        decision_id = decision.id
    assert recount() == []

    with tenant_context(acme):
        invalidation.undo(decision_id, "false alarm: a conference hall", "ops")
        db.session.commit()
        stored = db.session.scalars(select(Invalidation).where(Invalidation.id == decision_id)).one()
        assert (stored.undone_by, stored.undo_reason) == ("ops", "false alarm: a conference hall")
    assert tenant_total(acme) == 26
    assert rollup.global_counts().total == people_before
    assert recount() == []


def test_only_the_suspect_part_of_a_cluster_can_be_taken(db, make_tenant):
    acme = make_tenant("acme")
    flood(db, acme)
    with tenant_context(acme):
        criteria = invalidation.Criteria(*window(), domain="SPAM.example", suspect_only=True)
        assert invalidation.matching_count(criteria) == 12
        invalidation.invalidate(criteria, "flagged too fast", "ops")
        db.session.commit()
    assert tenant_total(acme) == 13
    assert recount() == []


def test_a_person_invalidated_at_one_tenant_still_counts_once_for_another(db, make_tenant):
    acme, northfield = make_tenant("acme"), make_tenant("northfield")
    sign_up(db, acme, "sam@example.org", network=BOTNET)
    sign_up(db, northfield, "sam@example.org")
    assert rollup.global_counts().total == 1
    with tenant_context(acme):
        invalidation.invalidate(invalidation.Criteria(*window(), network=BOTNET), "bot flood", "ops")
        db.session.commit()
    assert tenant_total(acme) == 0
    assert tenant_total(northfield) == 1
    assert rollup.global_counts().total == 1, "still committed at Northfield"
    assert recount() == []


def test_the_commands_list_invalidate_and_undo_with_a_reason(app, db, make_tenant):
    acme = make_tenant("acme")
    flood(db, acme)
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["abuse", "clusters", "--min", "20"])
    assert listed.exit_code == 0 and f"acme\tnetwork\t{BOTNET}\t25 commitments\t12 suspect" in listed.output

    assert runner.invoke(args=["abuse", "invalidate", "acme", "--network", BOTNET]).exit_code != 0, "no reason"
    refused = runner.invoke(args=["abuse", "invalidate", "acme", "--reason", "bots"])
    assert refused.exit_code != 0 and "name a client network or an email domain" in refused.output

    dry = runner.invoke(args=["abuse", "invalidate", "acme", "--network", BOTNET, "--reason", "bots", "--dry-run"])
    assert "Would invalidate 25 commitments" in dry.output and tenant_total(acme) == 25

    done = runner.invoke(args=["abuse", "invalidate", "acme", "--network", BOTNET, "--reason", "bots", "--by", "ana"])
    assert done.exit_code == 0 and "Invalidated 25 commitments" in done.output
    assert tenant_total(acme) == 0
    with tenant_context(acme):
        (decision,) = invalidation.history()
    history = runner.invoke(args=["abuse", "history"]).output
    assert "ana" in history and "bots" in history and "in force" in history

    undone = runner.invoke(args=["abuse", "undo", "acme", str(decision.id), "--reason", "school trip"])
    assert undone.exit_code == 0 and tenant_total(acme) == 25
    again = runner.invoke(args=["abuse", "undo", "acme", str(decision.id), "--reason", "twice"])
    assert again.exit_code != 0 and "undone already" in again.output
