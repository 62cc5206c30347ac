"""The worker's task that notices targets reached (``services.note_reached``), each tenant at most once every
``TARGET_CHECK_SECONDS``: counts move in released steps, so looking more often would find nothing new."""

from __future__ import annotations

import threading
import time

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from tenant_portal.targets import services
from tenants.models import Tenant
from tenants.services import hosts

_last_check = {"at": float("-inf")}


def check(stop: threading.Event | None = None) -> int:
    """Look at every tenant's running targets, if the last look is old enough; commits per tenant."""
    if time.monotonic() - _last_check["at"] < current_app.config["TARGET_CHECK_SECONDS"]:
        return 0
    _last_check["at"] = time.monotonic()
    tenants = list(db.session.scalars(select(Tenant)))
    db.session.rollback()
    reached = 0
    for tenant in tenants:
        if stop is not None and stop.is_set():
            break
        with hosts.on_site(tenant):
            reached += services.note_reached(tenant)
            db.session.commit()
    return reached
