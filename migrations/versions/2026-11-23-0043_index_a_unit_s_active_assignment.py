"""index a unit's active assignment

The units page joins each duty unit to its active assignment; with an index on unit_id alone
that read every past assignment of the unit (about 1,400 each at city scale).

Revision ID: 86fec1715442
Revises: bd248ea99458
Create Date: 2026-11-23 00:43:04.772551+00:00
"""

from __future__ import annotations

from alembic import op

revision = '86fec1715442'
down_revision = 'bd248ea99458'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_unit_id'))
        batch_op.create_index('ix_assignment_unit_active', ['unit_id', 'active'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_unit_active')
        batch_op.create_index(batch_op.f('ix_assignment_unit_id'), ['unit_id'], unique=False)
