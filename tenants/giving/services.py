"""Record gifts, sum them for a tenant (only past its k donors) and keep its match pledge."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from babel.lists import format_list
from flask import g
from flask_babel import format_currency, get_locale
from sqlalchemy import func, select

from core import page_cache
from core.extensions import db
from core.rollup.services import person_key
from tenants.giving.models import Gift, MatchKind, MatchPledge
from tenants.models import Tenant
from tenants.services import hosts
from tenants.services.members import canonical_email


@dataclass(frozen=True)
class Raised:
    """What gifts through a tenant's pages came to: per currency (smallest unit), and from how many donors."""

    amounts: dict[str, int]
    donors: int


@dataclass(frozen=True)
class Match:
    """A tenant's pledge as its pages show it, with what it comes to so far (None while that would tell the
    total of fewer than k donors' gifts)."""

    kind: MatchKind
    amount: int | None
    cap: int
    currency: str
    so_far: int | None


@dataclass(frozen=True)
class Summary:
    raised: Raised | None
    match: Match | None


def money(amount: int, currency: str) -> str:
    """An amount in a currency's smallest unit as the reader's language writes it ("1 234,50 €")."""
    return format_currency(amount / 100, currency.upper())


def amounts(totals: dict[str, int]) -> str:
    """Totals in several currencies as one phrase of the reader's language ("$120.00 and €40.00")."""
    return format_list([money(amount, currency) for currency, amount in sorted(totals.items())],
                       locale=get_locale())


def record_gift(reference: str, amount: int, currency: str, monthly: bool, donor_email: str,
                given_at: datetime) -> bool:
    """Record one confirmed payment for the current tenant; False when ``reference`` was recorded already (a
    replayed event)."""
    if db.session.scalar(select(Gift.id).where(Gift.reference == reference)) is not None:
        return False
    db.session.add(Gift(reference=reference, amount=amount, currency=currency.upper(), monthly=monthly,
                        donor_key=person_key(canonical_email(donor_email)), given_at=given_at))
    hosts.pages_changed()  # what its pages say was given
    db.session.flush()
    return True


def raised(tenant: Tenant) -> Raised | None:
    """The current tenant's gifts summed per currency; None while fewer than its k people gave."""
    donors = db.session.scalar(select(func.count(func.distinct(Gift.donor_key)))) or 0
    if donors < tenant.privacy_k:
        return None
    rows = db.session.execute(select(Gift.currency, func.sum(Gift.amount)).group_by(Gift.currency))
    return Raised(amounts={currency: int(total) for currency, total in rows}, donors=donors)


def pledge() -> MatchPledge | None:
    """The current tenant's match pledge, if it made one."""
    return db.session.scalar(select(MatchPledge))


def set_pledge(kind: MatchKind, amount: int | None, cap: int, currency: str, by: str) -> MatchPledge:
    """Make or change the current tenant's pledge (``amount`` only for a pledge per commitment)."""
    found = pledge() or MatchPledge()
    found.kind, found.cap, found.currency, found.updated_by = kind, cap, currency.upper(), by
    found.amount = amount if kind is MatchKind.PER_COMMITMENT else None
    db.session.add(found)
    hosts.pages_changed()  # shown beside the count
    db.session.flush()
    return found


def withdraw_pledge() -> bool:
    """Remove the current tenant's pledge; False when it had none."""
    found = pledge()
    if found is None:
        return False
    db.session.delete(found)
    hosts.pages_changed()
    db.session.flush()
    return True


def summary(commitments: int) -> Summary:
    """What this host's pages show beside the count (``commitments``, as the page shows it): gifts past k donors
    and the match pledge with its progress. Both move only with the site's settings version (a gift or a pledge
    moves it), so a kept page reads them once per version."""
    tenant = g.get("tenant")
    if tenant is None:
        return Summary(None, None)
    shown, found = page_cache.settled(("giving", tenant.id, hosts.settings_fingerprint(tenant)),
                                      lambda: (raised(tenant), _pledged()))
    if found is None:
        return Summary(shown, None)
    if found.kind is MatchKind.PER_COMMITMENT:
        so_far = min(found.cap, (found.amount or 0) * commitments)
    else:  # matching gifts tells their total: only once it may be shown
        so_far = None if shown is None else min(found.cap, shown.amounts.get(found.currency, 0))
    return Summary(shown, replace(found, so_far=so_far))


def _pledged() -> Match | None:
    found = pledge()
    return None if found is None else Match(found.kind, found.amount, found.cap, found.currency, None)
