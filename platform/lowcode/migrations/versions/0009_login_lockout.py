"""login lockout: ab_user.locked_until

Revision ID: 0009
Revises: 0011
Create Date: 2026-11-21 20:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ab_user') as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ab_user') as batch_op:
        batch_op.drop_column('locked_until')
