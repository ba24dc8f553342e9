"""Scheduled jobs of the incident domain, run by the job worker (``pingan.worker``), which opens
a unit of work for each step (request id ``job:<name>``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session


def overdue(*, db: Session, now: datetime) -> list[int]:
    """The escalation job's ``due`` step: priority incidents not accepted within their target at ``now``."""
    from pingan.incident import repository, service

    return repository.unaccepted_overdue_ids_unscoped(db=db, cutoffs=service.escalation_cutoffs(now))


def escalate(*, db: Session, ids: Sequence[int], now: datetime) -> list[int]:
    """The escalation job's ``run`` step: flag those of ``ids`` still overdue (超时未签收预警), in one
    UPDATE with their audit rows and ``escalated`` events. Returns the ids flagged."""
    from pingan.incident import service

    return service.escalate_overdue(db=db, now=now, ids=ids)
