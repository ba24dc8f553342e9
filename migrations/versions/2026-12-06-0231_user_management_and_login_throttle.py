"""user management and the login throttle

app_user: must_change_password (a reset password must be changed at the next login),
password_changed_at, disabled_at. login_attempt.device: the known-device cookie an attempt
presented. login_lock: the last-resort account lock, visible to and liftable by the admin.

Revision ID: 7a41c2e9b5d3
Revises: 5c1e7a9d3b20
Create Date: 2026-12-06 02:30:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pingan.db.types

revision = '7a41c2e9b5d3'
down_revision = '5c1e7a9d3b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('password_changed_at', pingan.db.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('disabled_at', pingan.db.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_login_attempt_device'), ['device'], unique=False)
    op.create_table('login_lock',
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('created_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('addresses', sa.Integer(), nullable=False),
    sa.Column('lifted_at', pingan.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['app_user.id'], name=op.f('fk_login_lock_lifted_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_lock'))
    )
    with op.batch_alter_table('login_lock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_lock_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_lock_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_lock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_lock_expires_at'))
        batch_op.drop_index(batch_op.f('ix_login_lock_username'))
    op.drop_table('login_lock')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempt_device'))
        batch_op.drop_column('device')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('must_change_password')
