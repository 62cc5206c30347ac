"""The core's own table: the global roll-up, which holds counts only and no tenant's internal detail."""

from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db


class GlobalTally(db.Model):
    """Running counts across all tenants by dimension: country, gender, day, and partner (``tenant``).

    Kept in step with every commitment in the same transaction as the tenant's own tallies; sharded
    like them so that no single row is a hot spot.
    """

    __tablename__ = "global_tallies"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    men: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc))
