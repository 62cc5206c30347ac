"""Everything inside one partner organisation: its registry entry, units, members, commitments and sign-up page."""

from sqlalchemy import event
from sqlalchemy.orm import Session


def init_app(app):
    """Register the tenant-facing pages, operator commands, and the host cache's reactions to changed tenants."""
    from tenants import cli, sso, views
    from tenants.services import hosts

    app.register_blueprint(views.bp)
    cli.init_app(app)
    sso.init_app(app)
    # A tenant changed through this process is forgotten by the host cache as soon as the change is committed.
    _listen_once(Session, "after_flush", hosts.note_changed_tenants)
    _listen_once(Session, "after_commit", hosts.forget_changed_tenants)
    _listen_once(Session, "after_soft_rollback", hosts.discard_changed_tenants)


def _listen_once(target, name: str, listener) -> None:
    """Listen to a session event once per process: the Session class is shared by every app (tests build many)."""
    if not event.contains(target, name, listener):
        event.listen(target, name, listener)
