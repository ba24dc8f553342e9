"""Keeping the statistics store current (增量同步): the sync the statistics process runs.

``sync_store`` syncs a DuckDB store of this process from the operational database (read only);
the statistics process (``stats.server``) calls it from its sync thread and on request.
``run_sync`` is what a command asks for: the statistics process syncs its own store when this
process reads through it, otherwise the store is synced here.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pingan.stats.store import Progress, StatsStore, SyncReport

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


def sync_store(store: StatsStore, *, full: bool = False, progress: Progress | None = None) -> SyncReport:
    """One sync of ``store`` from the operational database (nothing is written to that database)."""
    from pingan.config import get_settings

    url = get_settings().database_url
    with Session(bind=_reader_engine(url)) as db:
        return store.sync(db=db, full=full, scan_url=url, progress=progress)


def run_sync(*, full: bool = False, progress: Progress | None = None) -> SyncReport:
    """One sync of this process's store (``stats.store.get_store``): asked of the statistics
    process when that is where this process reads (``progress`` is then not reported), else here."""
    from pingan.stats.client import StatsClient
    from pingan.stats.store import get_store

    store = get_store()
    if isinstance(store, StatsClient):
        return store.sync(full=full)
    return sync_store(store, full=full, progress=progress)
