"""Background jobs of the incident domain. Jobs open their own unit of work."""

from __future__ import annotations


def run_escalation() -> list[int]:
    """Flag priority incidents not accepted within their target. Returns the flagged ids."""
    from pingan.db.types import utcnow
    from pingan.db.unit_of_work import unit_of_work
    from pingan.incident import service

    with unit_of_work(request_id="job:escalation") as db:
        return service.escalate_overdue(db=db, now=utcnow())
