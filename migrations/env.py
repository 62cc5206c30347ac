"""Alembic environment: migrations run as the table owner (``MIGRATION_DATABASE_URL``).

On PostgreSQL, after upgrading (or downgrading), the app role (``DATABASE_APP_ROLE``) is granted what
it needs and no more, from scratch each time: it reads and writes the rows of the tables under forced
row-level security (their policies decide which), has on the other tables exactly what
``APP_ROLE_PRIVILEGES`` lists, and owns nothing. A new table that is neither is closed to the app until
its migration's author adds it here.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import create_engine, text

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_metadata = current_app.extensions["migrate"].db.metadata


def _skip_empty_autogenerate(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


# Tables without forced row-level security: what the app role may do on each, by column where it matters.
APP_ROLE_PRIVILEGES = {
    # Read by the host lookup and the global page; added by `flask tenants create` and the operator console. Its
    # policies let an UPDATE reach only the current tenant's row, and only the settings its admins, commands and
    # the console change: never its id, slug, name, kind or creation time. ``status`` (suspend, reactivate) is the
    # console's, written as the tenant (0025): a column grant limited by the row policy reaches one tenant at a
    # time, where a function running as the owner would reach every tenant.
    "tenants": {"SELECT": None, "INSERT": None, "UPDATE": (
        "default_language", "enabled_languages", "primary_color", "accent_color", "logo", "logo_mime",
        "logo_version", "favicon", "favicon_mime", "favicon_version", "hero", "hero_mime", "hero_version", "listed",
        "map_visibility", "privacy_k",
        "eligible_men", "eligible_total", "break_glass_enabled", "ask_age", "attack_mode", "email_confirmation",
        "ask_pillar", "reminder_days", "status", "pages_version")},
    # Written only through add_to_global_tallies() and rebuild_global_tallies() (migrations 0008, 0017).
    "global_tallies": {"SELECT": None},
    # Each person once, by a keyed hash of their address: written only by the same two functions (0017); the
    # recount reads it.
    "people": {"SELECT": None},
    # Mail for every tenant: queued by requests, claimed and marked sent by the mail worker (which runs as
    # the app role too); rows are kept (without their text) as the record of what was sent, except a job
    # that turns out to have nothing to send (a sign-in link asked for an address nobody has), deleted.
    "mail_outbox": {"SELECT": None, "INSERT": None, "UPDATE": None, "DELETE": None},
    # The signed daily snapshots and the keys that signed them: published history, added to, never rewritten.
    "snapshots": {"SELECT": None, "INSERT": None},
    "snapshot_keys": {"SELECT": None, "INSERT": None},
    # The movement's breakdowns as last released, and its release mark (core/rollup/steps.py): replaced only by
    # release_global_tallies() (0019), from the global tallies as they are, never written by the app itself.
    "global_released_tallies": {"SELECT": None},
    "global_releases": {"SELECT": None},
    # The operator console's global tables (0025; each tenant's standing, partner_records, is under forced
    # row-level security). Applications come from the public form and only their decision changes; operators are
    # added by `flask operator add` and keep their sign-in counters; the operators' audit log is added to and
    # read, never changed.
    "partner_applications": {"SELECT": None, "INSERT": None, "UPDATE": (
        "status", "decided_at", "decided_by", "rejection_reason")},
    "operators": {"SELECT": None, "INSERT": None, "UPDATE": (
        "name", "active", "password_hash", "totp_secret", "totp_last_step", "failed_sign_ins", "locked_until",
        "session_version")},
    "operator_audit": {"SELECT": None, "INSERT": None},
    # Stripe's events (0041_billing), received on the global host and handled by the worker: kept by id (so one sent
    # again is not handled twice), their payload dropped once handled.
    "stripe_events": {"SELECT": None, "INSERT": None, "UPDATE": (
        "payload", "attempts", "next_attempt_at", "claimed_at", "handled_at", "last_error")},
    # Attack mode's spent proofs of work (core/attack_mode.py), deleted once expired, skipping rows another
    # sign-up holds (SELECT ... FOR UPDATE SKIP LOCKED, which PostgreSQL allows only with UPDATE on a column).
    "spent_challenges": {"SELECT": None, "INSERT": None, "DELETE": None, "UPDATE": ("expires_at",)},
    # The operator's action kits and their texts (0042): read on every site, written by the operator console; a
    # translation emptied there is deleted (the kit then falls back to English). Kits are unpublished, not deleted.
    "kits": {"SELECT": None, "INSERT": None, "UPDATE": ("audience", "pillar", "published")},
    "kit_translations": {"SELECT": None, "INSERT": None, "UPDATE": ("title", "summary", "body", "updated_at"),
                         "DELETE": None},
}
APP_ROLE_FUNCTIONS = ("add_to_global_tallies", "rebuild_global_tallies", "release_global_tallies")


def _grant_app_role(connection) -> None:
    role = current_app.config.get("DATABASE_APP_ROLE")
    if connection.dialect.name != "postgresql" or not role:
        return
    quoted = connection.dialect.identifier_preparer.quote(role)
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}"))  # columns' too
    connection.execute(text(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {quoted}"))
    tables = dict(connection.execute(text(
        "SELECT c.relname, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")).all())
    for table, forced in tables.items():
        if forced:
            connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {quoted}"))
    for table, privileges in APP_ROLE_PRIVILEGES.items():
        if table not in tables:
            continue  # a downgrade went back before it
        columns = {name for name, in connection.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t"),
            {"t": table})}
        for privilege, only in privileges.items():
            on = "" if only is None else f" ({', '.join(c for c in only if c in columns)})"
            connection.execute(text(f"GRANT {privilege}{on} ON {table} TO {quoted}"))
    for function, arguments in connection.execute(text(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proname = ANY(:names)"),
            {"names": list(APP_ROLE_FUNCTIONS)}):
        connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function}({arguments}) TO {quoted}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))


def run_migrations_offline() -> None:
    context.configure(url=current_app.config["MIGRATION_DATABASE_URL"], target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", _skip_empty_autogenerate)
    engine = create_engine(current_app.config["MIGRATION_DATABASE_URL"])
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
            _grant_app_role(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
