"""list and search indexes: the form keys of an inbox, the characters of clue and task titles (PostgreSQL)

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TITLED = ("clue", "task")


def upgrade() -> None:
    op.create_index("ix_work_item_inbox_form", "work_item", ["department_id", "state", "form_key"])
    if op.get_bind().dialect.name != "postgresql":
        return    # SQLite searches titles with LIKE alone
    for table in TITLED:
        op.execute(f"CREATE INDEX ix_{table}_title_chars ON {table} USING gin (string_to_array(title, NULL))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TITLED:
            op.drop_index(f"ix_{table}_title_chars", table_name=table)
    op.drop_index("ix_work_item_inbox_form", table_name="work_item")
