"""the incident's idempotency hash

An Idempotency-Key sent again with a different request body must be refused (422), not answered
with the incident of the first request as if it were this one. The SHA-256 of the first
request's validated body is kept beside its key; rows taken before this column have none and
are answered as before.

Revision ID: 7c1e5a0b9d42
Revises: 7a41c2e9b5d3
Create Date: 2026-12-06 02:30:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '7c1e5a0b9d42'
down_revision = '7a41c2e9b5d3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident') as batch:
        batch.add_column(sa.Column('idempotency_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incident') as batch:
        batch.drop_column('idempotency_hash')
