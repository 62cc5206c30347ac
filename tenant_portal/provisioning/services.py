"""The SCIM token (made, revoked, recognised) and what the roster the identity provider writes through it does to
members and units (``protocol.RosterStorage`` reads and writes the roster itself). A user keeps only what links it to
a member and a unit and counts it (``KEPT_USER``). Plain functions; they flush and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask_login import current_user
from sqlalchemy import func, select

from core.extensions import db
from core.rollup.services import as_utc
from core.tenancy import current_tenant_id
from tenant_portal.api.services import LAST_USED_PRECISION
from tenant_portal.provisioning.models import ScimToken, ScimUser
from tenant_portal.services import record
from tenants.models import Member, Role, Tenant, Unit, utcnow

#: Every token starts so: secret scanners and people can tell what leaked.
TOKEN_PREFIX = "hfs_scim_"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#: The attributes of a user that are kept: the rest of what a provider sends is dropped on arrival.
KEPT_USER = ("schemas", "id", "externalId", "meta", "userName", "userType", "active", ENTERPRISE)
KEPT_ENTERPRISE = ("department",)
KEPT_GROUP = ("schemas", "id", "externalId", "meta", "displayName")
KEPT_MEMBER = ("value", "$ref", "type")
#: ``userType`` values of people who are not staff or students (Entra's guests): on the roster, never counted.
NOT_ELIGIBLE_TYPES = frozenset({"guest", "contractor", "external", "vendor"})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token() -> tuple[ScimToken, str]:
    """A new token for the current tenant, and its secret: the one time the secret exists outside the caller."""
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}{prefix}.{secrets.token_urlsafe(32)}"
    token = ScimToken(prefix=prefix, secret_hash=_hash(secret),
                      created_by=current_user.email if current_user and current_user.is_authenticated else None)
    db.session.add(token)
    db.session.flush()
    record("provisioning.token_create", prefix, token_id=str(token.id))
    return token, secret


def tokens() -> list[ScimToken]:
    """The current tenant's tokens in force, newest first."""
    return list(db.session.scalars(select(ScimToken).where(ScimToken.revoked_at.is_(None))
                                   .order_by(ScimToken.created_at.desc(), ScimToken.id.desc())))


def find_token(token_id) -> ScimToken | None:
    return db.session.scalars(select(ScimToken).where(ScimToken.id == token_id,
                                                      ScimToken.revoked_at.is_(None))).one_or_none()


def revoke_token(token: ScimToken) -> None:
    """Revoke a token: the next request that carries it is refused."""
    token.revoked_at = utcnow()
    db.session.flush()
    record("provisioning.token_revoke", token.prefix, token_id=str(token.id))


def authenticate(secret: str) -> ScimToken | None:
    """The current tenant's token in force that ``secret`` is, or None (another tenant's is not found at all)."""
    if not secret.startswith(TOKEN_PREFIX) or "." not in secret:
        return None
    prefix = secret[len(TOKEN_PREFIX):].split(".", 1)[0]
    token = db.session.scalars(select(ScimToken).where(ScimToken.prefix == prefix)).one_or_none()
    if token is None or token.revoked_at is not None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    now = utcnow()
    if token.last_used_at is None or now - as_utc(token.last_used_at) > LAST_USED_PRECISION:
        token.last_used_at = now
        db.session.flush()
    return token


def lock_roster() -> None:
    """Wait for the tenant's other roster writes to end: each request checks uniqueness and versions against the
    roster it read, so two writes at once must not both read the same one (PostgreSQL; SQLite writes one at a
    time anyway)."""
    db.session.execute(select(Tenant.id).where(Tenant.id == current_tenant_id()).with_for_update())


def roster_size() -> tuple[int, int]:
    """How many people the roster holds, and how many of them are counted (active and eligible)."""
    total = db.session.scalar(select(func.count(ScimUser.id))) or 0
    counted = db.session.scalar(select(func.count(ScimUser.id)).where(ScimUser.active, ScimUser.eligible)) or 0
    return total, counted


def unit_named(department: str | None) -> Unit | None:
    """The unit a provider's ``department`` names: by the unit's key first, then by its name."""
    if not department:
        return None
    return (db.session.scalars(select(Unit).where(Unit.external_key == department)).first()
            or db.session.scalars(select(Unit).where(Unit.name == department)).first())


def recount_units(unit_ids: set) -> None:
    """The eligible headcount of each unit, from the roster: its active, eligible people."""
    for unit_id in unit_ids - {None}:
        unit = db.session.scalars(select(Unit).where(Unit.id == unit_id)).one_or_none()
        if unit is None:
            continue
        unit.eligible_total = db.session.scalar(select(func.count(ScimUser.id)).where(
            ScimUser.unit_id == unit_id, ScimUser.active, ScimUser.eligible)) or 0
        if unit.eligible_men is not None and unit.eligible_men > unit.eligible_total:
            unit.eligible_men = unit.eligible_total
    db.session.flush()


def deprovision(user: ScimUser) -> None:
    """The person left (``active`` false, or deleted): their portal role goes at once; a commitment stays."""
    member = db.session.scalars(select(Member).where(Member.id == user.member_id)).one_or_none() \
        if user.member_id else None
    previous = None
    if member is not None and member.role is not Role.MEMBER:
        previous = member.role.value
        member.role = Role.MEMBER
        member.end_sessions()
    record("provisioning.user_deprovision", user.user_name, user_id=user.id, previous_role=previous)
