"""The portal's own logic: the audit log. (Each area's logic lives in its package's services.py.)

Plain functions; they flush and never commit.
"""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from core.extensions import db
from tenant_portal.models import AuditEntry


def record(action: str, target: str | None = None, **details) -> AuditEntry:
    """Note in the audit log that the signed-in person did ``action`` (like ``branding.colors``) to ``target``."""
    actor = current_user if current_user and current_user.is_authenticated else None
    entry = AuditEntry(action=action, target=(target or "")[:200] or None, details=details,
                       actor_id=actor.id if actor else None, actor_email=actor.email if actor else None)
    db.session.add(entry)
    db.session.flush()
    return entry


def audit_log(page: int = 1, per_page: int = 50) -> tuple[list[AuditEntry], bool]:
    """One page of the audit log, newest first, and whether an older page exists."""
    entries = list(db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)))
    return entries[:per_page], len(entries) > per_page
