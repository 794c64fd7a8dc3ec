"""security: audit hash chain and checkpoints, SM2 request signatures, signed releases, encrypted mobile, personal index

Revision ID: 0006
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mac', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint('uq_audit_event_seq', ['seq'])
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('mac', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO audit_chain_head (id, seq) VALUES (1, 0)")
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('mac', sa.String(length=80), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('signer_id', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.String(length=140), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq')
    )
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.String(length=140), nullable=True))
        batch_op.add_column(sa.Column('signer_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('require_signature', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('request_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'nonce')
    )
    with op.batch_alter_table('request_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_nonce_seen_at'), ['seen_at'], unique=False)
    with op.batch_alter_table('definition_release', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manifest', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signature', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signer_id', sa.String(length=64), nullable=True))
    op.create_table('personal_index',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value_index', sa.String(length=48), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('personal_index', schema=None) as batch_op:
        batch_op.create_index('ix_personal_index_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_index_value_index'), ['value_index'], unique=False)
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.alter_column('mobile', existing_type=sa.String(length=64), type_=sa.String(length=128),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('mobile_index', sa.String(length=48), nullable=True))
        batch_op.create_index(batch_op.f('ix_ab_user_mobile_index'), ['mobile_index'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ab_user_mobile_index'))
        batch_op.drop_column('mobile_index')
        batch_op.alter_column('mobile', existing_type=sa.String(length=128), type_=sa.String(length=64),
                              existing_nullable=True)
    op.drop_table('personal_index')
    with op.batch_alter_table('definition_release', schema=None) as batch_op:
        batch_op.drop_column('signer_id')
        batch_op.drop_column('signature')
        batch_op.drop_column('manifest')
    op.drop_table('request_nonce')
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.drop_column('require_signature')
        batch_op.drop_column('signer_id')
        batch_op.drop_column('public_key')
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_event_seq', type_='unique')
        batch_op.drop_column('mac')
        batch_op.drop_column('seq')
