"""The clocks' scheduled job, run by the job worker (``pingan.worker``): flag the open clocks
turning due soon (their type's lead time before the due time) or overdue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session


def turning(*, db: Session, now: datetime) -> list[int]:
    """``due``: the ids of the open clocks whose state should change at ``now``."""
    from pingan.clocks import system

    return system.turning_ids_unscoped(db=db, now=now)


def flag(*, db: Session, ids: Sequence[int], now: datetime) -> list[int]:
    """``run``: move those of ``ids`` still turning to due soon / overdue (two UPDATEs)."""
    from pingan.clocks import service

    return service.flag_turning(db=db, ids=ids, now=now)
