"""audit log: the client's own request id

A client's ``X-Request-ID`` is kept beside ours, never instead of it (issue 12, item 8): the
audit row's ``request_id`` is always the server's, ``client_request_id`` the client's (at most 64
printable ASCII characters, else not kept).

Revision ID: 5c1e7a9d3b20
Revises: ad2de23e2a24
Create Date: 2026-12-06 02:30:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5c1e7a9d3b20'
down_revision = 'ad2de23e2a24'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_log', sa.Column('client_request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('client_request_id')
