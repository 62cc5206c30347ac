"""Alembic environment: migrations run as the table owner (``MIGRATION_DATABASE_URL``).

On PostgreSQL, after upgrading, the app role (``DATABASE_APP_ROLE``) is granted what it needs and no
more: it reads and writes rows, under row-level security, and owns nothing.
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


def _grant_app_role(connection) -> None:
    role = current_app.config.get("DATABASE_APP_ROLE")
    if connection.dialect.name != "postgresql" or not role:
        return
    quoted = connection.dialect.identifier_preparer.quote(role)
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
    connection.execute(text(f"REVOKE ALL ON alembic_version FROM {quoted}"))


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
