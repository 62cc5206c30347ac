"""The SCIM token and the roster: only what links a person to a member and a unit, and counts them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKeyConstraint, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import utcnow


class ScimToken(TenantScoped, db.Model):
    """The bearer token an identity provider sends to ``/scim/v2``; only the SHA-256 of it is kept."""

    __tablename__ = "scim_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ScimUser(TenantScoped, db.Model):
    """One person of the roster. ``resource`` holds the kept attributes only (``services.KEPT_USER``)."""

    __tablename__ = "scim_users"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"], ondelete="SET NULL"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"], ondelete="SET NULL"),
        Index("ix_scim_users_unit", "tenant_id", "unit_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(320))
    external_id: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    version: Mapped[str] = mapped_column(String(64))
    resource: Mapped[dict] = mapped_column(JSON)


class ScimGroup(TenantScoped, db.Model):
    """A group the identity provider pushes: its name and its members (``scim_group_members``)."""

    __tablename__ = "scim_groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    resource: Mapped[dict] = mapped_column(JSON)


class ScimGroupMember(TenantScoped, db.Model):
    """A user in a group; both go when either does."""

    __tablename__ = "scim_group_members"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "group_id"], ["scim_groups.tenant_id", "scim_groups.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["scim_users.tenant_id", "scim_users.id"], ondelete="CASCADE"),
    )

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
