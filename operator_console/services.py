"""The partner lifecycle as the operators run it: applications (made on the public form, approved or rejected),
tenants suspended, reactivated and sponsored, operators and their sign-in, and the global audit log of it all.
Plain functions that flush, never commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
import pyotp
from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core import crypto, mail
from core.extensions import db
from core.tenancy import tenant_context
from operator_console.models import (ApplicationKind, ApplicationStatus, Operator, OperatorAuditEntry,
                                     PartnerApplication, PartnerRecord)
from tenants import plans
from tenants.models import Tenant, TenantKind, TenantPlan, TenantStatus, utcnow
from tenants.services import registry
from tenants.services.members import canonical_email
from tenants.sso.break_glass import matching_step

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
PER_PAGE = 25


class Refused(ValueError):
    """An operator action that cannot be done as asked; the message (translated) says why."""


# --- The global audit log ---------------------------------------------------------------------------------------

def record(operator: str | None, action: str, target: str | None = None, reason: str | None = None,
           **details) -> OperatorAuditEntry:
    """Note in the operators' audit log that ``operator`` (an address; None: someone unknown) did ``action``."""
    entry = OperatorAuditEntry(operator_email=operator, action=action, target=(target or "")[:200] or None,
                               reason=reason, details=details)
    db.session.add(entry)
    db.session.flush()
    return entry


def audit_page(page: int) -> tuple[list[OperatorAuditEntry], bool]:
    """One page of the operators' audit log, newest first, and whether an older page exists."""
    entries = list(db.session.scalars(select(OperatorAuditEntry).order_by(
        OperatorAuditEntry.at.desc(), OperatorAuditEntry.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    return entries[:PER_PAGE], len(entries) > PER_PAGE


# --- Applications -----------------------------------------------------------------------------------------------

SUBDOMAIN_INVALID = _l("Use 1 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or a "
                       "digit.")
SUBDOMAIN_RESERVED = _l("This address is kept for HeForShe itself. Please choose another.")
SUBDOMAIN_TAKEN = _l("This address is taken already. Please choose another.")
SUBDOMAIN_AVAILABLE = _l("This address is free.")


@dataclass(frozen=True)
class SubdomainState:
    """Whether a requested subdomain could name a new tenant: ``invalid``, ``taken`` or ``available``."""

    state: str
    message: str


def subdomain_state(subdomain: str, application: PartnerApplication | None = None) -> SubdomainState:
    """Check a subdomain as the tenant-creating command does (``registry.validate_slug``), and that no tenant has
    it and no other waiting application (than ``application``) asked for it first."""
    subdomain = subdomain.strip().lower()
    try:
        registry.validate_slug(subdomain)
    except registry.InvalidTenantSetting:
        reserved = subdomain in registry.RESERVED_SLUGS
        return SubdomainState("invalid", str(SUBDOMAIN_RESERVED if reserved else SUBDOMAIN_INVALID))
    taken = db.session.scalar(select(Tenant.id).where(Tenant.slug == subdomain)) is not None or db.session.scalar(
        select(PartnerApplication.id).where(
            PartnerApplication.subdomain == subdomain, PartnerApplication.status == ApplicationStatus.PENDING,
            PartnerApplication.id != (application.id if application else None))) is not None
    if taken:
        return SubdomainState("taken", str(SUBDOMAIN_TAKEN))
    return SubdomainState("available", str(SUBDOMAIN_AVAILABLE))


def apply(organisation: str, kind: ApplicationKind, country_code: str, website: str, contact_name: str,
          contact_email: str, subdomain: str, language: str) -> PartnerApplication:
    """Put an organisation's application in the operators' queue (the form checked the subdomain just before)."""
    application = PartnerApplication(
        organisation=organisation, kind=kind, country_code=country_code, website=website, contact_name=contact_name,
        contact_email=contact_email, subdomain=subdomain.strip().lower(), language=language, consent_at=utcnow())
    db.session.add(application)
    db.session.flush()
    return application


def applications(status: ApplicationStatus, page: int) -> tuple[list[PartnerApplication], bool]:
    """One page of the applications in ``status``, oldest first (the queue's order), and whether more follow."""
    rows = list(db.session.scalars(select(PartnerApplication).where(PartnerApplication.status == status)
                                   .order_by(PartnerApplication.created_at, PartnerApplication.id)
                                   .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    return rows[:PER_PAGE], len(rows) > PER_PAGE


def find_application(application_id) -> PartnerApplication | None:
    return db.session.get(PartnerApplication, application_id)


def _require_pending(application: PartnerApplication) -> None:
    if application.status is not ApplicationStatus.PENDING:
        raise Refused(_("This application was decided already."))


def approve(application: PartnerApplication, operator: str, invite_admin: Callable[[Tenant, str], object]) -> Tenant:
    """Create the tenant the application asks for (checked as ``flask tenants create`` checks it), with its contact
    as the first admin, invited by a single-use link (``invite_admin``, the portal's invitation)."""
    _require_pending(application)
    try:
        tenant = registry.create_tenant(application.subdomain, application.organisation,
                                        TenantKind(application.kind.value), admin_email=application.contact_email,
                                        default_language=application.language)
    except registry.InvalidTenantSetting as error:
        raise Refused(_("The tenant cannot be created: %(reason)s", reason=str(error))) from error
    with tenant_context(tenant):  # written as the tenant: on PostgreSQL its standing is its own row
        db.session.add(PartnerRecord(tenant_id=tenant.id, country_code=application.country_code,
                                     website=application.website))
        db.session.flush()
    application.status, application.decided_at, application.decided_by = ApplicationStatus.APPROVED, utcnow(), operator
    db.session.flush()
    invite_admin(tenant, application.contact_email)
    record(operator, "application.approve", tenant.slug, application=str(application.id),
           admin=application.contact_email)
    return tenant


def reject(application: PartnerApplication, operator: str, reason: str) -> None:
    """Turn an application down and tell its contact why, by mail in the language they applied in."""
    _require_pending(application)
    application.status, application.decided_at, application.decided_by = ApplicationStatus.REJECTED, utcnow(), operator
    application.rejection_reason = reason
    with force_locale(application.language):
        subject = _("Your application to bring HeForShe to %(name)s", name=application.organisation)
        body = render_template("operator_console/rejection_mail.txt", application=application, reason=reason)
    mail.queue(application.contact_email, subject, body)
    db.session.flush()
    record(operator, "application.reject", application.subdomain, reason=reason, application=str(application.id))


# --- Tenants ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TenantFilter:
    """What the tenants list is narrowed to (empty: everything)."""

    q: str = ""
    kind: str = ""
    status: str = ""
    country: str = ""
    plan: str = ""


def tenants_page(filters: TenantFilter, page: int) -> tuple[list[tuple[Tenant, PartnerRecord | None,
                                                                         TenantPlan | None]], int]:
    """One page of the partner tenants (the movement is no partner), by slug, with their standing and plan; and how
    many match in all."""
    query = (select(Tenant, PartnerRecord, TenantPlan).outerjoin(PartnerRecord, PartnerRecord.tenant_id == Tenant.id)
             .outerjoin(TenantPlan, TenantPlan.tenant_id == Tenant.id).where(Tenant.kind != TenantKind.MOVEMENT))
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        query = query.where(or_(func.lower(Tenant.slug).like(pattern), func.lower(Tenant.name).like(pattern)))
    if filters.kind:
        query = query.where(Tenant.kind == TenantKind(filters.kind))
    if filters.status:
        query = query.where(Tenant.status == TenantStatus(filters.status))
    if filters.country:
        query = query.where(PartnerRecord.country_code == filters.country)
    if filters.plan:  # a tenant without a plan's row is on the free plan
        chosen = TenantPlan.plan == filters.plan
        query = query.where(or_(chosen, TenantPlan.tenant_id.is_(None)) if filters.plan == plans.FREE_PLAN else chosen)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(Tenant.slug).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return [tuple(row) for row in rows], total


def find_tenant(slug: str) -> Tenant | None:
    """A partner tenant by slug (the movement is not the console's to suspend or sponsor)."""
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.kind != TenantKind.MOVEMENT))


def standing(tenant: Tenant) -> PartnerRecord | None:
    """The tenant's standing with HeForShe, if anything was recorded (tenants made by the command have none)."""
    return db.session.get(PartnerRecord, tenant.id)


def partner_record(tenant: Tenant) -> PartnerRecord:
    """The tenant's standing, made on first use (tenants made by the command have none yet); call it, and flush
    what is changed, as the tenant (``tenant_context``)."""
    found = standing(tenant)
    if found is None:
        found = PartnerRecord(tenant_id=tenant.id)
        db.session.add(found)
    return found


def set_suspended(tenant: Tenant, suspended: bool, operator: str, reason: str) -> None:
    """Suspend a tenant (its pages show a neutral page; nothing is deleted, its counts stay in the global ones) or
    reactivate it. Written as the tenant: on PostgreSQL the app role may change no other tenant's row (nor its
    standing)."""
    status = TenantStatus.SUSPENDED if suspended else TenantStatus.ACTIVE
    if tenant.status is status:
        raise Refused(_("%(name)s is suspended already.", name=tenant.name) if suspended
                      else _("%(name)s is active already.", name=tenant.name))
    with tenant_context(tenant):
        tenant.status = status
        partner_record(tenant).suspended_reason = reason if suspended else None
        db.session.flush()
    record(operator, "tenant.suspend" if suspended else "tenant.reactivate", tenant.slug, reason=reason)


def set_sponsored(tenant: Tenant, sponsored: bool, operator: str, reason: str) -> None:
    """Mark a tenant sponsored (no charge, every feature: a government, an NGO...) or not, with the reason."""
    plans.set_sponsored(tenant, sponsored, reason)
    record(operator, "tenant.sponsor" if sponsored else "tenant.unsponsor", tenant.slug, reason=reason)


# --- Operators --------------------------------------------------------------------------------------------------

def add_operator(email: str, name: str | None = None, password: str | None = None) -> tuple[Operator, str | None]:
    """Add an operator (or change one's break-glass credentials); with a password, a new TOTP secret is returned
    (shown once). New credentials end the operator's sessions."""
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise Refused(_("The password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH))
    email = canonical_email(email)
    operator = db.session.scalar(select(Operator).where(Operator.email == email))
    if operator is None:
        operator = Operator(email=email, failed_sign_ins=0, session_version=0, active=True)
        db.session.add(operator)
    operator.name = name or operator.name
    operator.active = True
    secret = None
    if password is not None:
        secret = pyotp.random_base32()
        operator.password_hash = generate_password_hash(password)
        operator.totp_secret = crypto.encrypt(secret)
        operator.failed_sign_ins, operator.locked_until, operator.totp_last_step = 0, None, None
        operator.session_version = (operator.session_version or 0) + 1
    db.session.flush()
    record(None, "operator.add", email, break_glass=password is not None)
    return operator, secret


def remove_operator(email: str) -> bool:
    """Stop an operator from signing in, ending their sessions; False when there is no such operator."""
    operator = db.session.scalar(select(Operator).where(Operator.email == canonical_email(email)))
    if operator is None:
        return False
    operator.active, operator.password_hash, operator.totp_secret = False, None, None
    operator.session_version += 1
    db.session.flush()
    record(None, "operator.remove", operator.email)
    return True


def operator_by_email(email: str) -> Operator | None:
    """The active operator with this address (as the team's identity provider vouched for it)."""
    return db.session.scalar(select(Operator).where(Operator.email == canonical_email(email), Operator.active))


def session_operator(operator_id: int, version: int) -> Operator | None:
    """The operator a session names, if it was made under their current credentials and they are still one."""
    return db.session.scalar(select(Operator).where(Operator.id == operator_id, Operator.active,
                                                    Operator.session_version == version))


def verify_break_glass(email: str, password: str, code: str) -> Operator | None:
    """The operator these credentials prove, or None (wrong, locked, or a code used before). As the tenants'
    break-glass: each try is counted before the password is checked, five wrong ones lock for fifteen minutes, a
    code's time step is used once."""
    operator = db.session.scalar(select(Operator).where(Operator.email == canonical_email(email), Operator.active,
                                                        Operator.password_hash.is_not(None)))
    if operator is None:
        generate_password_hash(password)  # as slow as a real check: no hint that the address is unknown
        return None
    now = utcnow()
    tries = db.session.scalar(
        update(Operator).where(Operator.id == operator.id, Operator.failed_sign_ins < MAX_FAILURES,
                               or_(Operator.locked_until.is_(None), Operator.locked_until <= now))
        .values(failed_sign_ins=Operator.failed_sign_ins + 1).returning(Operator.failed_sign_ins)
        .execution_options(synchronize_session=False))
    if tries is None:
        generate_password_hash(password)
        return None
    step = matching_step(operator.totp_secret, code)
    if check_password_hash(operator.password_hash, password) and step is not None and _use_step(operator, step):
        _update(operator, failed_sign_ins=0, locked_until=None)
        return operator
    if tries >= MAX_FAILURES:
        _update(operator, failed_sign_ins=0, locked_until=now + LOCK_TIME)
    return None


def _use_step(operator: Operator, step: int) -> bool:
    used = db.session.execute(
        update(Operator).where(Operator.id == operator.id,
                               or_(Operator.totp_last_step.is_(None), Operator.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    return used.rowcount == 1


def _update(operator: Operator, **values) -> None:
    db.session.execute(update(Operator).where(Operator.id == operator.id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.expire(operator)
