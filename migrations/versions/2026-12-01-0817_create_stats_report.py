"""create stats report

An issued work summary (工作综述) is a record: the .docx bytes and their SHA-256, every figure
in it with the period as counted and the KPI definitions as they were, and the ids and
fingerprints of the records counted (to detect amendments later). See stats.models.

Revision ID: 3d8daecfe41a
Revises: 5c3e2a9d7f10
Create Date: 2026-12-01 08:17:11.529527+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pingan.db.types

revision = '3d8daecfe41a'
down_revision = '5c3e2a9d7f10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stats_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=False),
        sa.Column('org_name', sa.String(length=80), nullable=False),
        sa.Column('period_label', sa.String(length=30), nullable=False),
        sa.Column('span', sa.String(length=80), nullable=False),
        sa.Column('counted_from', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('counted_until', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('to_date', sa.Boolean(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('issued_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('issued_by_name', sa.String(length=80), nullable=False),
        sa.Column('data_as_of', pingan.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('figure_count', sa.Integer(), nullable=False),
        sa.Column('record_count', sa.Integer(), nullable=False),
        sa.Column('docx_sha256', sa.String(length=64), nullable=False),
        sa.Column('docx_size', sa.Integer(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('definitions', sa.JSON(), nullable=False),
        sa.Column('docx', sa.LargeBinary(), nullable=False),
        sa.Column('records', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['issued_by_id'], ['app_user.id'], name=op.f('fk_stats_report_issued_by_id_app_user')),
        sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_stats_report_org_unit_id_org_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_report')),
    )
    with op.batch_alter_table('stats_report', schema=None) as batch_op:
        batch_op.create_index('ix_stats_report_org_issued', ['org_unit_id', 'issued_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stats_report', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_report_org_issued')
    op.drop_table('stats_report')
