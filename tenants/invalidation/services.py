"""Suspicious clusters of the current tenant's commitments, and invalidating or restoring one.

A cluster is many commitments from one client network (an IPv4 /24 or IPv6 /56) or one email domain within a
time window, with how many of them were flagged suspect (honeypot, sent too fast, disposable address). Nothing
here decides that a cluster is abuse: the operator does, with a reason, and can undo it.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update

from core.extensions import db
from tenants.models import Commitment, Invalidation, utcnow
from tenants.services import signups


class InvalidationRefused(ValueError):
    """An invalidation or undo that cannot be done as asked (no reason, no cluster named, already undone)."""


@dataclass(frozen=True)
class Cluster:
    """Counted commitments sharing one client network or email domain within the window."""

    kind: str  # "network" or "domain"
    value: str
    commitments: int
    suspect: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class Criteria:
    """Which commitments an invalidation takes: from one network and/or email domain, made in [since, until)."""

    since: datetime
    until: datetime
    network: str | None = None
    domain: str | None = None
    suspect_only: bool = False

    def as_json(self) -> dict:
        return {key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in asdict(self).items()}


def clusters(since: datetime, until: datetime, min_size: int) -> list[Cluster]:
    """Networks and email domains with at least ``min_size`` counted commitments in the window, largest first."""
    found = []
    for kind, column in (("network", Commitment.client_network), ("domain", Commitment.email_domain)):
        rows = db.session.execute(
            select(column, func.count(), func.sum(case((Commitment.suspect.is_not(None), 1), else_=0)),
                   func.min(Commitment.created_at), func.max(Commitment.created_at))
            .where(Commitment.counted, column.is_not(None), Commitment.created_at >= since,
                   Commitment.created_at < until)
            .group_by(column).having(func.count() >= min_size)
        ).all()
        found += [Cluster(kind, value, count, int(suspect or 0), first, last)
                  for value, count, suspect, first, last in rows]
    return sorted(found, key=lambda cluster: (-cluster.commitments, cluster.kind, cluster.value))


def _matching(criteria: Criteria):
    if not (criteria.network or criteria.domain):
        raise InvalidationRefused("name a client network or an email domain")
    conditions = [Commitment.invalidated_at.is_(None), Commitment.created_at >= criteria.since,
                  Commitment.created_at < criteria.until]
    if criteria.network:
        conditions.append(Commitment.client_network == criteria.network)
    if criteria.domain:
        conditions.append(Commitment.email_domain == criteria.domain.lower())
    if criteria.suspect_only:
        conditions.append(Commitment.suspect.is_not(None))
    return select(Commitment).where(*conditions)


def matching_count(criteria: Criteria) -> int:
    """How many commitments ``invalidate`` would take out now (for a dry run)."""
    return db.session.scalar(select(func.count()).select_from(_matching(criteria).subquery()))


def invalidate(criteria: Criteria, reason: str, decided_by: str) -> Invalidation:
    """Take the cluster's commitments out of the counts (rows kept, marked), recorded with who and why."""
    if not reason.strip():
        raise InvalidationRefused("give a reason")
    commitments = db.session.scalars(_matching(criteria)).all()
    decision = Invalidation(criteria=criteria.as_json(), reason=reason.strip(), decided_by=decided_by,
                            commitments=len(commitments))
    db.session.add(decision)
    db.session.flush()
    signups.set_invalidated(commitments, True)
    _point_to(decision.id, [c.id for c in commitments])
    return decision


def undo(invalidation_id: uuid.UUID, reason: str, decided_by: str) -> Invalidation:
    """Put an invalidation's commitments back in the counts (those not withdrawn since), recorded with who and why."""
    decision = db.session.scalar(select(Invalidation).where(Invalidation.id == invalidation_id))
    if decision is None:
        raise InvalidationRefused(f"no invalidation {invalidation_id}")
    if decision.undone_at is not None:
        raise InvalidationRefused(f"invalidation {invalidation_id} was undone already")
    if not reason.strip():
        raise InvalidationRefused("give a reason")
    commitments = db.session.scalars(select(Commitment).where(Commitment.invalidation_id == decision.id)).all()
    signups.set_invalidated(commitments, False)
    _point_to(None, [c.id for c in commitments])
    decision.undone_at, decision.undone_by, decision.undo_reason = utcnow(), decided_by, reason.strip()
    db.session.flush()
    return decision


def history(limit: int = 50) -> list[Invalidation]:
    """The current tenant's invalidations, newest first."""
    return list(db.session.scalars(select(Invalidation).order_by(Invalidation.created_at.desc()).limit(limit)))


def _point_to(invalidation_id: uuid.UUID | None, commitment_ids: list[uuid.UUID]) -> None:
    for start in range(0, len(commitment_ids), 500):
        db.session.execute(update(Commitment).where(Commitment.id.in_(commitment_ids[start:start + 500]))
                           .values(invalidation_id=invalidation_id).execution_options(synchronize_session=False))
