"""Alembic migrations build the schema on SQLite and PostgreSQL and match the models exactly."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model
from sqlalchemy import create_engine, inspect

import lowcode.models  # noqa: F401
from lowcode import migrate

EXPECTED_TABLES = {"ab_user", "ab_role", "ab_permission_view", "department", "audit_event", "alembic_version"}


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database_url):
    url = empty_database_url()
    migrate.upgrade(url)
    engine = create_engine(url)
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    migrate.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_agree(empty_database_url):
    url = empty_database_url()
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Model.metadata)
    engine.dispose()
    assert differences == [], "a model changed without a migration: " + repr(differences)
