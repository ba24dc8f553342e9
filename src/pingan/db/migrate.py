"""Schema upgrades (Alembic) followed by the code tables every installation needs."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from pingan.config import PROJECT_ROOT


def alembic_config() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Migrate to head, then upsert every installed module's reference data (idempotent)."""
    from pingan.db.unit_of_work import unit_of_work_on
    from pingan.registry import sync_reference_data

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with unit_of_work_on(engine) as db:
        sync_reference_data(db)
