"""index the open incidents

The dispatcher's board reads the incidents not yet closed, newest first: a few hundred, however
many the bureau has taken. The (stage, received_at) index serves that only while the planner
has no statistics: SQLite's ANALYZE records six stages over a million rows, not that all but a
few hundred are closed, and the board then walked the whole table (7 ms → 0.7–8 s on the city
demo). A partial index holds the open incidents alone, and its own row count tells the planner.

Revision ID: ad2de23e2a24
Revises: 3d8daecfe41a
Create Date: 2026-12-01 12:45:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'ad2de23e2a24'
down_revision = '3d8daecfe41a'
branch_labels = None
depends_on = None

OPEN = sa.text("stage != 'closed'")


def upgrade() -> None:
    op.create_index('ix_incident_open', 'incident', ['received_at'], unique=False,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_incident_open', table_name='incident')
