"""Migrations and models agree, and every migration can be undone."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from core.extensions import db


def _differences(app) -> list:
    engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    engine.dispose()
    return differences


def test_models_and_migrations_agree(app):
    with app.app_context():
        assert _differences(app) == []


def test_every_migration_has_a_working_downgrade(app):
    with app.app_context():
        db.engine.dispose()
        downgrade(revision="base")
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade()
        assert _differences(app) == []
