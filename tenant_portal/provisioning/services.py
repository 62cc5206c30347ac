"""The SCIM token (made, revoked, recognised) and the roster the identity provider writes through it.

scim2-server speaks the protocol (filters, PATCH, ETags); ``RosterStorage`` is where it reads and writes: the
tenant's rows, loaded for the request, and written back as each operation ends. A user keeps only what links it
to a member and a unit and counts it (``KEPT_USER``). Plain functions; they flush and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask_login import current_user
from scim2_models import EnterpriseUser, Group, Resource, ResourceType, User
from scim2_server.memory import InMemoryStorage
from sqlalchemy import delete, func, select
from uuid6 import uuid7

from core.extensions import db
from core.rollup.services import as_utc
from core.tenancy import current_tenant_id
from tenant_portal.api.services import LAST_USED_PRECISION
from tenant_portal.provisioning.models import ScimGroup, ScimGroupMember, ScimToken, ScimUser
from tenant_portal.services import record
from tenants.models import Member, Role, Tenant, Unit, utcnow
from tenants.services.members import canonical_email

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


def _kept(data: dict, names: tuple[str, ...]) -> dict:
    kept = {name: value for name, value in data.items() if name in names}
    if isinstance(kept.get(ENTERPRISE), dict):
        kept[ENTERPRISE] = {name: value for name, value in kept[ENTERPRISE].items() if name in KEPT_ENTERPRISE}
    return kept


def _unit_named(department: str | None) -> Unit | None:
    """The unit a provider's ``department`` names: by the unit's key first, then by its name."""
    if not department:
        return None
    return (db.session.scalars(select(Unit).where(Unit.external_key == department)).first()
            or db.session.scalars(select(Unit).where(Unit.name == department)).first())


def _recount(unit_ids: set) -> None:
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


class RosterStorage(InMemoryStorage):
    """The tenant's roster for one request: read from its rows, each write written back to them."""

    def __init__(self) -> None:
        super().__init__(clock=utcnow)
        users = {user.id: user for user in db.session.scalars(select(ScimUser))}
        members: dict[str, list[dict]] = {}
        for link in db.session.scalars(select(ScimGroupMember)):
            members.setdefault(link.group_id, []).append(
                {"value": link.user_id, "$ref": f"Users/{link.user_id}", "type": "User"})
        resources: list[Resource[Any]] = [User[EnterpriseUser].model_validate(user.resource)
                                          for user in users.values()]
        for group in db.session.scalars(select(ScimGroup)):
            resources.append(Group.model_validate({**group.resource, "members": members.get(group.id) or None}))
        self.resources = resources

    def generate_id(self, resource_type: ResourceType, resource: Resource[Any]) -> str:
        return uuid7().hex

    def next_version(self) -> str:
        return f'W/"{secrets.token_hex(8)}"'

    def create(self, resource_type, resource):
        stored = super().create(resource_type, self._trimmed(resource))
        self._write(stored)
        return stored

    def update(self, resource_type, resource, *, expected_version=None):
        stored = super().update(resource_type, self._trimmed(resource), expected_version=expected_version)
        self._write(stored)
        return stored

    def delete(self, resource_type, resource_id, *, expected_version=None):
        super().delete(resource_type, resource_id, expected_version=expected_version)
        if resource_type.name == "User":
            user = db.session.scalars(select(ScimUser).where(ScimUser.id == resource_id)).one()
            if user.active:
                deprovision(user)
            unit_id = user.unit_id
            db.session.delete(user)
            db.session.flush()
            _recount({unit_id})
        else:
            db.session.execute(delete(ScimGroup).where(ScimGroup.id == resource_id))

    @staticmethod
    def _trimmed(resource: Resource[Any]) -> Resource[Any]:
        """The resource with only the kept attributes (and a group's members)."""
        data = resource.model_dump(mode="json")
        if isinstance(resource, Group):
            members = [{name: value for name, value in member.items() if name in KEPT_MEMBER}
                       for member in data.get("members") or [] if member.get("value")]
            return Group.model_validate({**_kept(data, KEPT_GROUP), "members": members or None})
        return type(resource).model_validate(_kept(data, KEPT_USER))

    def _write(self, resource: Resource[Any]) -> None:
        data = resource.model_dump(mode="json")
        data.get("meta", {}).pop("location", None)
        if isinstance(resource, Group):
            self._write_group(resource, data)
        else:
            self._write_user(resource, data)
        db.session.flush()

    def _write_user(self, resource: Resource[Any], data: dict) -> None:
        user = db.session.scalars(select(ScimUser).where(ScimUser.id == resource.id)).one_or_none()
        was_active = user is not None and user.active
        before_unit = user.unit_id if user is not None else None
        unit = _unit_named((data.get(ENTERPRISE) or {}).get("department"))
        member = db.session.scalars(select(Member).where(
            Member.email_canonical == canonical_email(resource.user_name))).one_or_none()
        if user is None:
            user = ScimUser(id=resource.id)
            db.session.add(user)
        user.user_name, user.external_id = resource.user_name, resource.external_id
        user.active = resource.active is not False
        user.eligible = (resource.user_type or "").strip().lower() not in NOT_ELIGIBLE_TYPES
        user.unit_id, user.member_id = unit.id if unit else None, member.id if member else None
        user.version, user.resource = resource.meta.version, data
        db.session.flush()
        if was_active and not user.active:
            deprovision(user)
        _recount({before_unit, user.unit_id})

    def _write_group(self, resource: Group, data: dict) -> None:
        group = db.session.scalars(select(ScimGroup).where(ScimGroup.id == resource.id)).one_or_none()
        group = group or ScimGroup(id=resource.id)
        group.display_name, group.external_id = resource.display_name, resource.external_id
        group.version, group.resource = resource.meta.version, {k: v for k, v in data.items() if k != "members"}
        db.session.add(group)
        db.session.flush()
        db.session.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == group.id))
        wanted = {member["value"] for member in data.get("members") or []}
        known = set(db.session.scalars(select(ScimUser.id).where(ScimUser.id.in_(wanted)))) if wanted else set()
        db.session.add_all(ScimGroupMember(group_id=group.id, user_id=user_id) for user_id in sorted(known))
