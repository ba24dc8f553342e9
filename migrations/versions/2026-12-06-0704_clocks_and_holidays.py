"""clocks and holidays

The deadlines module (issue 15, decision 0022): the official holiday table (holidays and make-up
working days, seeded from chinese-calendar by `db upgrade`, edited by the bureau admin) and one
clock per deadline of any module, with its pauses and extensions. Two partial indexes serve the
flagging job: running clocks by their warning time, running or due-soon clocks by their due time.

Revision ID: 491835d37377
Revises: 3b8d1f6a2c57
Create Date: 2026-12-06 07:04:26.794951+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pingan.db.types

revision = '491835d37377'
down_revision = '3b8d1f6a2c57'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('holiday',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('holiday', 'workday', name='daykind', native_enum=False, length=24), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday')),
    sa.UniqueConstraint('day', name=op.f('uq_holiday_day'))
    )
    op.create_table('clock',
    sa.Column('owner_module', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('clock_type', sa.String(length=48), nullable=False),
    sa.Column('started_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Enum('minutes', 'hours', 'days', 'working_days', 'months', name='unit', native_enum=False, length=24), nullable=False),
    sa.Column('legal', sa.Boolean(), nullable=False),
    sa.Column('in_custody', sa.Boolean(), nullable=False),
    sa.Column('calendar_dependent', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('running', 'due_soon', 'overdue', 'paused', 'met', 'met_late', 'superseded', name='clockstate', native_enum=False, length=24), nullable=False),
    sa.Column('due_at', pingan.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('warn_at', pingan.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('explanation_zh', sa.String(length=1000), nullable=False),
    sa.Column('explanation_en', sa.String(length=1000), nullable=False),
    sa.Column('met_at', pingan.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_clock_org_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['clock.id'], name=op.f('fk_clock_superseded_by_id_clock')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock'))
    )
    with op.batch_alter_table('clock', schema=None) as batch_op:
        batch_op.create_index('ix_clock_open_due', ['due_at'], unique=False, sqlite_where=sa.text("state IN ('running', 'due_soon')"), postgresql_where=sa.text("state IN ('running', 'due_soon')"))
        batch_op.create_index('ix_clock_open_warn', ['warn_at'], unique=False, sqlite_where=sa.text("state = 'running'"), postgresql_where=sa.text("state = 'running'"))
        batch_op.create_index(batch_op.f('ix_clock_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index('ix_clock_owner', ['owner_module', 'entity', 'entity_id'], unique=False)

    op.create_table('clock_extension',
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Enum('minutes', 'hours', 'days', 'working_days', 'months', name='unit', native_enum=False, length=24), nullable=False),
    sa.Column('approver', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('basis', sa.String(length=200), nullable=False),
    sa.Column('approved_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clock_id'], ['clock.id'], name=op.f('fk_clock_extension_clock_id_clock')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_extension'))
    )
    with op.batch_alter_table('clock_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_extension_clock_id'), ['clock_id'], unique=False)

    op.create_table('clock_pause',
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('started_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', pingan.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clock_id'], ['clock.id'], name=op.f('fk_clock_pause_clock_id_clock')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_pause'))
    )
    with op.batch_alter_table('clock_pause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_pause_clock_id'), ['clock_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('clock_pause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_pause_clock_id'))

    op.drop_table('clock_pause')
    with op.batch_alter_table('clock_extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_extension_clock_id'))

    op.drop_table('clock_extension')
    with op.batch_alter_table('clock', schema=None) as batch_op:
        batch_op.drop_index('ix_clock_owner')
        batch_op.drop_index(batch_op.f('ix_clock_org_unit_id'))
        batch_op.drop_index('ix_clock_open_warn', sqlite_where=sa.text("state = 'running'"), postgresql_where=sa.text("state = 'running'"))
        batch_op.drop_index('ix_clock_open_due', sqlite_where=sa.text("state IN ('running', 'due_soon')"), postgresql_where=sa.text("state IN ('running', 'due_soon')"))

    op.drop_table('clock')
    op.drop_table('holiday')
