"""The match pledge changed from the portal, in the audit log."""

from __future__ import annotations

from decimal import Decimal

from flask_login import current_user

from tenant_portal.services import record
from tenants.giving import services as giving
from tenants.giving.models import MatchKind


def _minor(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 100)


def pledge(kind: MatchKind, amount: Decimal | None, cap: Decimal, currency: str) -> None:
    """Make or change the tenant's match pledge."""
    found = giving.set_pledge(kind, _minor(amount), _minor(cap), currency, current_user.email)
    record("giving.pledge", kind.value, kind=kind.value, amount=found.amount, cap=found.cap,
           currency=found.currency)


def withdraw() -> bool:
    """Withdraw the tenant's match pledge; False when it had none."""
    if not giving.withdraw_pledge():
        return False
    record("giving.pledge_withdraw")
    return True
