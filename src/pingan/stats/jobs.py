"""Background job of the statistics module: keep the store current (增量同步)."""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pingan.stats.store import Progress, SyncReport

log = logging.getLogger("pingan.stats")


@lru_cache
def _reader_engine(url: str) -> Engine:
    """An engine that only reads, each statement on its own: on SQLite the application's engine
    takes the write lock at BEGIN, which a sync must not hold while DuckDB loads for seconds."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"check_same_thread": False,
                                                                              "timeout": 30})
    from pingan.db.session import get_engine

    return get_engine()


def run_sync(*, full: bool = False, progress: Progress | None = None) -> SyncReport:
    """One sync of this process's store from the operational database (read only: nothing is
    written to the operational database)."""
    from pingan.config import get_settings
    from pingan.stats.store import get_store

    url = get_settings().database_url
    with Session(bind=_reader_engine(url)) as db:
        return get_store().sync(db=db, full=full, scan_url=url, progress=progress)


async def stats_sync_loop(interval: float) -> None:
    """Sync at start-up, then every ``interval`` seconds; an error is logged and the loop goes on."""
    while True:
        try:
            report = await asyncio.to_thread(run_sync)
            if any(mode == "full" for mode in report.mode.values()):
                log.info("stats: full sync %s in %.1f s", report.rows, report.seconds)
        except Exception:  # keep the loop alive; the error is logged
            log.exception("stats sync failed")
        await asyncio.sleep(interval)
