"""statistics rollups: tasks per viewing department and clues per owning department, by day and group

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_stat_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('viewer', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('issuer_department_id', sa.Integer(), nullable=False),
    sa.Column('receiver_department_id', sa.Integer(), nullable=True),
    sa.Column('type_code', sa.String(length=60), nullable=False),
    sa.Column('level_code', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tasks', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_task_stat_rollup_read', 'task_stat_rollup', ['viewer', 'receiver_department_id', 'day'])
    op.create_table('clue_stat_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('warning_type', sa.String(length=60), nullable=False),
    sa.Column('type_code', sa.String(length=60), nullable=False),
    sa.Column('level_code', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('clues', sa.Integer(), nullable=False),
    sa.Column('dept_path', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_clue_stat_rollup_dept_path', 'clue_stat_rollup', ['dept_path'],
                    postgresql_ops={'dept_path': 'varchar_pattern_ops'}, postgresql_include=['id'])
    op.create_index('ix_clue_stat_rollup_read', 'clue_stat_rollup', ['day', 'dept_path'],
                    postgresql_ops={'dept_path': 'varchar_pattern_ops'})


def downgrade() -> None:
    op.drop_index('ix_clue_stat_rollup_read', table_name='clue_stat_rollup')
    op.drop_index('ix_clue_stat_rollup_dept_path', table_name='clue_stat_rollup')
    op.drop_table('clue_stat_rollup')
    op.drop_index('ix_task_stat_rollup_read', table_name='task_stat_rollup')
    op.drop_table('task_stat_rollup')
