"""scope indexes cover the ids they select on PostgreSQL (a dispatch's also its task id)

Revision ID: 0012
Revises: 0006
"""
from alembic import op

revision = '0012'
down_revision = '0006'
branch_labels = None
depends_on = None

SCOPED = ("audit_event", "clue", "task", "form_submission", "form_draft", "attachment", "ab_user", "work_item")
PATTERN = {"dept_path": "varchar_pattern_ops"}


def _recreate(include_task_id: bool, include_id: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return    # SQLite's plain index stays as it is
    for table in (*SCOPED, "dispatch"):
        include = (["id"] if include_id else []) + (["task_id"] if include_task_id and table == "dispatch" else [])
        op.drop_index(f"ix_{table}_dept_path", table_name=table)
        op.create_index(f"ix_{table}_dept_path", table, ["dept_path"], postgresql_ops=PATTERN,
                        postgresql_include=include)


def upgrade() -> None:
    _recreate(include_task_id=True, include_id=True)


def downgrade() -> None:
    _recreate(include_task_id=False, include_id=False)
