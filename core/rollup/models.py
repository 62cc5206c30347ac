"""The roll-up's tables, and the vocabulary counts are kept by (gender, how a commitment came in).

Both tally tables hold counts only, never a person: the tenant's own by country, unit, gender, day, place and
source; the global one by country, gender, day and partner (``tenant``). Same columns, each row one shard of one
key, so that concurrent sign-ups rarely wait on the same row lock; a read sums the shards.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.tenancy import TenantScoped


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Gender(enum.Enum):
    MAN = "man"
    WOMAN = "woman"
    NON_BINARY = "non_binary"
    SELF_DESCRIBED = "self_described"
    UNDISCLOSED = "undisclosed"


class Source(enum.Enum):
    WEB = "web"
    SSO = "sso"
    REGISTRATION = "registration"
    API = "api"
    IMPORT = "import"


class Tally:
    """The columns both tally tables share: one shard of one key's running count of people, and of men."""

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    men: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class TenantTally(TenantScoped, Tally, db.Model):
    """Running counts of one tenant's commitments by dimension (country, day, gender, source, unit, the unit in a
    country, and place).

    Each sign-up adds to one of ``ROLLUP_SHARDS`` rows per key, so that a launch day at one
    tenant does not queue every sign-up behind a single row lock; reads sum the shards.
    """

    __tablename__ = "tenant_tallies"


class GlobalTally(Tally, db.Model):
    """Running counts across all tenants by dimension: country, gender, day, and partner (``tenant``).

    Kept in step with every commitment in the same transaction as the tenant's own tallies; sharded
    like them so that no single row is a hot spot.
    """

    __tablename__ = "global_tallies"
