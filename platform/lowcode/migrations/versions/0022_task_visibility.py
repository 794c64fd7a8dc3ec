"""task visibility: the department paths a task is seen at, walked newest first by the task lists

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

BATCH = 5000


def _prefixes(path):
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def upgrade() -> None:
    visibility = op.create_table('task_visibility',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'path')
    )
    op.create_index('ix_task_visibility_walk', 'task_visibility', ['path', 'created_at', 'task_id'])
    # The existing tasks: their issuers' paths and their dispatches' receivers', with every prefix.
    connection = op.get_bind()
    seen = connection.execute(sa.text(
        "SELECT id, dept_path, created_at FROM task UNION ALL "
        "SELECT dispatch.task_id, dispatch.dept_path, task.created_at FROM dispatch JOIN task ON task.id = dispatch.task_id "
        "ORDER BY 1"))
    rows, last = {}, None
    for task_id, path, created_at in seen:
        if task_id != last and len(rows) >= BATCH:
            connection.execute(visibility.insert(), list(rows.values()))
            rows = {}
        last = task_id
        for prefix in _prefixes(path):
            rows[task_id, prefix] = {"task_id": task_id, "path": prefix, "created_at": created_at}
    if rows:
        connection.execute(visibility.insert(), list(rows.values()))


def downgrade() -> None:
    op.drop_index('ix_task_visibility_walk', table_name='task_visibility')
    op.drop_table('task_visibility')
