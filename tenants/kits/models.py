"""Action kits: the operator's kits (global, one text per language), each tenant's choice of them, and a tenant's own
kits (tenant-scoped: written by its admins, in one language, with local contacts)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship
from uuid6 import uuid7

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import utcnow


class Kit(db.Model):
    """A kit the HeForShe team publishes for everyone: its audience and pillar (``vocabulary``), its texts by
    language. Global: every site may show it."""

    __tablename__ = "kits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    audience: Mapped[str] = mapped_column(String(16))
    pillar: Mapped[str] = mapped_column(String(16))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    translations: Mapped[list[KitTranslation]] = relationship(
        back_populates="kit", cascade="all, delete-orphan", lazy="selectin", order_by="KitTranslation.language")

    def text(self, language: str) -> KitTranslation | None:
        """The kit's text in ``language``, if it has one."""
        return next((t for t in self.translations if t.language == language), None)


class KitTranslation(db.Model):
    """A kit's text in one language: title, one-line summary, and body in Markdown. ``updated_at`` moves only when
    the text changes, so a translation older than the English one may be out of date."""

    __tablename__ = "kit_translations"

    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    kit: Mapped[Kit] = relationship(back_populates="translations")


class KitChoice(TenantScoped, db.Model):
    """Whether a tenant's pages list one of the operator's kits; a kit without a row follows the default
    (``services.shown_by_default``)."""

    __tablename__ = "kit_choices"

    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id", ondelete="CASCADE"), primary_key=True)
    shown: Mapped[bool] = mapped_column(Boolean)


class TenantKit(TenantScoped, db.Model):
    """A kit a tenant's admins wrote for their own people, in one language, with local contacts (where to get help,
    whom to tell); shown, in the tenant's brand, on the tenant's pages only, and only once published."""

    __tablename__ = "tenant_kits"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    slug: Mapped[str] = mapped_column(String(80))
    audience: Mapped[str] = mapped_column(String(16))
    pillar: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    contacts: Mapped[str | None] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
