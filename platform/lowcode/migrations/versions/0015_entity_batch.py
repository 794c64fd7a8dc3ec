"""entity sync batches, stored verbatim

Revision ID: 0015
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entity_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('pack', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=True),
    sa.Column('rejected', sa.Integer(), nullable=True),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id')
    )
    with op.batch_alter_table('entity_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entity_batch_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entity_batch_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('entity_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entity_batch_received_at'))
        batch_op.drop_index(batch_op.f('ix_entity_batch_client_id'))
    op.drop_table('entity_batch')
