"""security stamp: a version moved by triggers on every change of roles, permissions and officers' roles

Revision ID: 0020
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None

ALL = ("INSERT", "UPDATE", "DELETE")

# What an officer may do follows from these tables alone (their department and active flag are
# read with the officer on every request): any write to them moves the version, and so does
# removing an officer (a later one may be given the same id on SQLite).
TABLES = {"ab_role": ALL, "ab_permission": ALL, "ab_view_menu": ALL, "ab_permission_view": ALL,
          "ab_permission_view_role": ALL, "ab_user_role": ALL, "ab_group": ALL, "ab_user_group": ALL,
          "ab_group_role": ALL, "ab_user": ("DELETE",)}
BUMP = "UPDATE security_stamp SET version = version + 1"


def upgrade() -> None:
    op.create_table('security_stamp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO security_stamp (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION bump_security_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {BUMP}; "
                   "RETURN NULL; END $$")
        for table, events in TABLES.items():
            op.execute(f"CREATE TRIGGER security_stamp_{table} AFTER {' OR '.join(events + ('TRUNCATE',))} ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION bump_security_stamp()")
        return
    for table, events in TABLES.items():
        for event in events:
            op.execute(f"CREATE TRIGGER security_stamp_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"BEGIN {BUMP}; END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, events in TABLES.items():
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS security_stamp_{table} ON {table}")
        else:
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS security_stamp_{table}_{event.lower()}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS bump_security_stamp()")
    op.drop_table('security_stamp')
