"""Every installed module's tables on one metadata (``pingan.modules``), so that Alembic and
create_all see them all."""

from pingan.db.base import Base  # noqa: F401
from pingan.registry import import_models

import_models()
