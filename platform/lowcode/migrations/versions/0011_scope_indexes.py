"""scope indexes with pattern ops on PostgreSQL: the scoping filter is a prefix LIKE

Revision ID: 0011
Revises: 0008
"""
from alembic import op

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None

SCOPED = ("audit_event", "clue", "task", "dispatch", "form_submission", "form_draft", "attachment", "ab_user", "work_item")


def _recreate(ops: dict) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return    # SQLite's plain index already serves a prefix LIKE
    for table in SCOPED:
        op.drop_index(f"ix_{table}_dept_path", table_name=table)
        op.create_index(f"ix_{table}_dept_path", table, ["dept_path"], postgresql_ops=ops)


def upgrade() -> None:
    _recreate({"dept_path": "varchar_pattern_ops"})


def downgrade() -> None:
    _recreate({})
