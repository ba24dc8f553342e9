"""index incident.updated_at

The statistics store (stats.store) is kept current incrementally: each sync reads the incidents
whose updated_at is past its watermark. Without an index that read scanned every incident.

Revision ID: 5c3e2a9d7f10
Revises: 86fec1715442
Create Date: 2026-11-23 07:00:00.000000+00:00
"""

from __future__ import annotations

from alembic import op

revision = '5c3e2a9d7f10'
down_revision = '86fec1715442'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_updated_at')
