"""The snapshots' tables: one signed body per day, and every public key that ever signed one."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db


class SnapshotKey(db.Model):
    """A public key that signs (or signed) snapshots. Kept for good, so that days signed before a key was rotated
    can still be checked; published at ``/snapshots/keys.json``."""

    __tablename__ = "snapshot_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the raw 32-byte public key
    public_key: Mapped[str] = mapped_column(Text)  # PEM (SubjectPublicKeyInfo)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when it first signed a snapshot


class Snapshot(db.Model):
    """One day's snapshot of the released counts: the canonical body exactly as signed, its SHA-256 and signature.

    Written once (the app's database role may not update or delete rows); the primary key keeps it one per day.
    """

    __tablename__ = "snapshots"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # UTC
    body: Mapped[str] = mapped_column(Text)  # canonical JSON (services.canonical)
    sha256: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the body's UTF-8 bytes
    signature: Mapped[str] = mapped_column(String(88))  # base64 of the Ed25519 signature of those bytes
    key_id: Mapped[str] = mapped_column(ForeignKey("snapshot_keys.key_id"))
