"""The roll-up's tables, and the vocabulary counts are kept by (gender, how a commitment came in).

Both tally tables hold counts only, never a person: the tenant's own counts commitments by country, unit, gender,
day, place and source; the global one counts people by country, gender and day, and each partner's commitments
(``tenant``). Same columns, each row one shard of one key, so that concurrent sign-ups rarely wait on the same row
lock; a read sums the shards. ``people`` knows each person only by a keyed hash of their address: how many
counted commitments they have, and what they were counted under in the global tallies.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, LargeBinary, String
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
    """The columns both tally tables share: one shard of one key's running count, of the men in it, and of
    those two that are verified (their address confirmed, or vouched for by their organisation's sign-in)."""

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    men: Mapped[int] = mapped_column(Integer, default=0)
    verified: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verified_men: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class TenantTally(TenantScoped, Tally, db.Model):
    """Running counts of one tenant's commitments by dimension (country, day, gender, source, unit, the unit in a
    country, and place).

    Each sign-up adds to one of ``ROLLUP_SHARDS`` rows per key, so that a launch day at one
    tenant does not queue every sign-up behind a single row lock; reads sum the shards.
    """

    __tablename__ = "tenant_tallies"


class GlobalTally(Tally, db.Model):
    """Running counts across all tenants: people by country, gender and day, and each partner's commitments
    (``tenant``).

    Kept in step with every commitment in the same transaction as the tenant's own tallies; sharded
    like them so that no single row is a hot spot. A person committed at several partners counts once
    here (see ``Person``).
    """

    __tablename__ = "global_tallies"


class Person(db.Model):
    """One person across all tenants, known only by ``HMAC-SHA256(PEOPLE_PEPPER, canonical address)``.

    ``commitments`` is how many of their commitments count now (anywhere), ``verified_commitments`` how many of
    those are verified. The global tallies count them once: from when ``commitments`` goes 0 -> 1 to when it goes
    1 -> 0, under the facts stored here (those of the commitment that made them count), verified while
    ``verified_commitments`` is above 0. Written only through ``services.record`` (on PostgreSQL, only by the
    function ``add_to_global_tallies``).
    """

    __tablename__ = "people"

    person_key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    commitments: Mapped[int] = mapped_column(Integer, default=0)
    verified_commitments: Mapped[int] = mapped_column(Integer, default=0)
    gender: Mapped[str] = mapped_column(String(24))
    country_code: Mapped[str] = mapped_column(String(2))
    day: Mapped[str] = mapped_column(String(10))  # the tally key: YYYY-MM-DD, UTC
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class ReleasedFigures:
    """One key of a released copy: its figures as they were when the copy was released (see ``steps.py``)."""

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    men: Mapped[int] = mapped_column(Integer)
    verified: Mapped[int] = mapped_column(Integer)
    verified_men: Mapped[int] = mapped_column(Integer)
    # The verified figures as released, before being brought within a cell people have left since
    # (``steps.fitted``): what the next step is measured against.
    released_verified: Mapped[int] = mapped_column(Integer)
    released_verified_men: Mapped[int] = mapped_column(Integer)


class TenantReleasedTally(TenantScoped, ReleasedFigures, db.Model):
    """The tenant's breakdowns as last released: what its pages, maps, dashboard and files show."""

    __tablename__ = "tenant_released_tallies"


class GlobalReleasedTally(ReleasedFigures, db.Model):
    """The movement's breakdowns as last released: what the global pages, map, ``stats.json`` and the daily
    snapshots show."""

    __tablename__ = "global_released_tallies"


class ReleaseMark:
    """How many copies a site has released, and when the last one was; a new copy replaces the old one only
    where the number is still the one its taker read (so two takers at once release one copy, not two)."""

    number: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    # When the copy's verified figures were released: ``released_at``, or earlier where they were held (steps.py).
    verified_released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class TenantRelease(TenantScoped, ReleaseMark, db.Model):
    __tablename__ = "tenant_releases"


class GlobalRelease(ReleaseMark, db.Model):
    __tablename__ = "global_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: the movement's one mark
