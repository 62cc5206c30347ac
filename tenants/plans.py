"""Plans and entitlements: what a tenant may use now, decided in one place, ``entitled(tenant, feature)``, which the
portal's pages, the API and templates ask.

The plans are configuration (``PLANS``: each plan's paid features; Community has none). A tenant's row in
``tenant_plans`` says which plan it is on and what billing says of it: a sponsored tenant (no charge) has every
feature; a plan with no subscription behind it (granted by the operators) or a subscription that is paid is in
effect; one whose payment failed stays in effect for ``BILLING_GRACE_DAYS`` and then its paid features switch off
until an invoice is paid; an ended one has none. Switching a feature off deletes nothing: its settings wait.

What is never sold, so never asked here: a person's commitment (the sign-up form, whatever the plan), the privacy
settings (k, the map's visibility, email confirmation), the counts and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l

from core.extensions import db
from core.tenancy import tenant_context
from tenants.models import Tenant, TenantPlan, utcnow
from tenants.services import hosts

FREE_PLAN = "community"
FEATURES = ("sso", "custom_domains", "api", "course_registration", "personal_data_exports", "remove_powered_by")
FEATURE_NAMES = {
    "sso": _l("Single sign-on settings"),
    "custom_domains": _l("Custom domains"),
    "api": _l("The API and webhooks"),
    "course_registration": _l("Course registration, LTI and SCIM provisioning"),
    "personal_data_exports": _l("Exports of personal data"),
    "remove_powered_by": _l("No “Powered by HeForShe” line"),
}
PLAN_NAMES = {"community": _l("Community"), "partner": _l("Partner"), "enterprise": _l("Enterprise")}
#: Subscription statuses (Stripe's) in words.
STATUS_NAMES = {
    "active": _l("Paid"), "trialing": _l("Trial"), "past_due": _l("Payment failed"), "unpaid": _l("Unpaid"),
    "canceled": _l("Ended"), "incomplete": _l("Waiting for the first payment"),
    "incomplete_expired": _l("First payment not made"), "paused": _l("Paused"),
}
#: Subscription statuses in which the plan is paid for.
PAID = frozenset({"active", "trialing"})
#: Statuses of a payment that failed: the plan holds through the grace period.
IN_ARREARS = frozenset({"past_due", "unpaid"})


def plan_name(plan: str) -> str:
    return str(PLAN_NAMES.get(plan, plan.capitalize()))


def plans() -> dict[str, tuple[str, ...]]:
    """The configured plans and their features, Community first."""
    configured = current_app.config["PLANS"]
    return {FREE_PLAN: tuple(configured.get(FREE_PLAN, ())),
            **{name: tuple(features) for name, features in configured.items() if name != FREE_PLAN}}


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def plan_of(tenant: Tenant) -> TenantPlan:
    """The tenant's plan row, or an unsaved Community one when it has none. Read once per request."""
    cache = g.setdefault("tenant_plans", {}) if has_request_context() else {}
    if tenant.id not in cache:
        cache[tenant.id] = db.session.get(TenantPlan, tenant.id) or TenantPlan(
            tenant_id=tenant.id, plan=FREE_PLAN, sponsored=False, cancel_at_period_end=False)
    return cache[tenant.id]


def grace_ends(row: TenantPlan) -> datetime | None:
    """When a tenant whose payment failed loses its paid features (None: no payment failed)."""
    since = _aware(row.past_due_since)
    return since + timedelta(days=current_app.config["BILLING_GRACE_DAYS"]) if since else None


def in_effect(row: TenantPlan, now: datetime | None = None) -> bool:
    """Whether the row's plan gives its features now."""
    if row.status is None or row.status in PAID:
        return True
    if row.status in IN_ARREARS:
        ends = grace_ends(row)
        return ends is None or (now or utcnow()) < ends
    return False  # canceled, incomplete, incomplete_expired, paused: nothing paid


def effective_plan(tenant: Tenant, now: datetime | None = None) -> str:
    row = plan_of(tenant)
    return row.plan if in_effect(row, now) else FREE_PLAN


def features(tenant: Tenant, now: datetime | None = None) -> frozenset[str]:
    """Every feature the tenant may use now."""
    row = plan_of(tenant)
    if row.sponsored:
        return frozenset(FEATURES)
    return frozenset(plans().get(effective_plan(tenant, now), ()))


def entitled(tenant: Tenant, feature: str, now: datetime | None = None) -> bool:
    """Whether ``tenant`` may use ``feature`` (one of ``FEATURES``) now."""
    if feature not in FEATURES:
        raise ValueError(f"no such feature: {feature!r}")
    return feature in features(tenant, now)


@dataclass(frozen=True)
class Notice:
    """What the portal's banner says of billing: ``kind`` is ``past_due`` (a payment failed, features kept until
    ``until``), ``lapsed`` (the grace period is over), ``ended`` (the subscription ended) or ``ending`` (it ends at
    ``until``, as asked); ``off`` names the features switched off (or to be)."""

    kind: str
    plan: str
    until: datetime | None
    off: tuple[str, ...]


def notice(tenant: Tenant, now: datetime | None = None) -> Notice | None:
    """What an admin should know about the tenant's billing now, if anything."""
    row = plan_of(tenant)
    if row.sponsored or row.plan == FREE_PLAN:
        return None
    paid_features = tuple(feature for feature in FEATURES if feature in plans().get(row.plan, ()))
    if row.status in IN_ARREARS:
        kind = "past_due" if in_effect(row, now) else "lapsed"
        return Notice(kind, row.plan, grace_ends(row), paid_features)
    if not in_effect(row, now):
        return Notice("ended", row.plan, None, paid_features)
    if row.cancel_at_period_end:
        return Notice("ending", row.plan, _aware(row.current_period_end), paid_features)
    return None


# --- Changes ------------------------------------------------------------------------------------------------------

def _row(tenant: Tenant) -> TenantPlan:
    """The tenant's row, added if it has none yet; change it as the tenant (``tenant_context``). Its pages kept
    rendered are left (``hosts.pages_changed``): what a plan gives shows on them (the "Powered by" line)."""
    row = db.session.get(TenantPlan, tenant.id)
    if row is None:
        row = TenantPlan(tenant_id=tenant.id, plan=FREE_PLAN, sponsored=False, cancel_at_period_end=False)
        db.session.add(row)
    if has_request_context():
        g.setdefault("tenant_plans", {})[tenant.id] = row
    hosts.pages_changed()
    return row


def set_sponsored(tenant: Tenant, sponsored: bool, reason: str | None) -> None:
    """Sponsor a tenant (every feature, no charge) or stop; its plan, if any, stays as it is."""
    with tenant_context(tenant):  # on PostgreSQL a row is written only as its tenant
        row = _row(tenant)
        row.sponsored, row.sponsored_reason = sponsored, reason if sponsored else None
        db.session.flush()


def grant(tenant: Tenant, plan: str) -> None:
    """Put a tenant on ``plan`` with no subscription behind it (an agreement made outside Stripe, the tests)."""
    if plan not in plans():
        raise ValueError(f"no such plan: {plan!r}")
    with tenant_context(tenant):
        row = _row(tenant)
        row.plan, row.status, row.past_due_since, row.current_period_end = plan, None, None, None
        row.cancel_at_period_end = False
        db.session.flush()


@dataclass(frozen=True)
class Subscription:
    """What a subscription says now (as read back from Stripe): the plan it pays for, its status, the end of the
    period paid, whether it ends then."""

    plan: str
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool


def record_subscription(tenant: Tenant, subscription: Subscription, seen_at: datetime) -> tuple[TenantPlan, bool]:
    """Make the tenant's plan what its subscription says now; returns the row and whether a payment has just
    started failing (the grace period starts at ``seen_at``, the first time it is seen failing)."""
    with tenant_context(tenant):
        row = _row(tenant)
        newly_past_due = subscription.status in IN_ARREARS and row.past_due_since is None
        row.plan, row.status = subscription.plan, subscription.status
        row.current_period_end, row.cancel_at_period_end = (subscription.current_period_end,
                                                            subscription.cancel_at_period_end)
        if subscription.status in IN_ARREARS:
            row.past_due_since = row.past_due_since or seen_at
        else:
            row.past_due_since = None
        db.session.flush()
    return row, newly_past_due
