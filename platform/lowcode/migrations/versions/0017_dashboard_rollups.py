"""dashboard rollups: pre-aggregated panel figures and their refresh times

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dashboard_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel', sa.String(length=160), nullable=False),
    sa.Column('spec', sa.String(length=64), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('district_code', sa.String(length=12), nullable=False),
    sa.Column('group_key', sa.String(length=200), nullable=False),
    sa.Column('x', sa.Integer(), nullable=False),
    sa.Column('y', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_dashboard_rollup_read', 'dashboard_rollup', ['panel', 'spec', 'bucket', 'district_code'])
    op.create_table('dashboard_refresh',
    sa.Column('panel', sa.String(length=160), nullable=False),
    sa.Column('spec', sa.String(length=64), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('panel')
    )


def downgrade() -> None:
    op.drop_table('dashboard_refresh')
    op.drop_index('ix_dashboard_rollup_read', table_name='dashboard_rollup')
    op.drop_table('dashboard_rollup')
