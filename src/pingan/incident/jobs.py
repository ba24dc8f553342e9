"""Background jobs of the incident domain. Jobs open their own unit of work."""

from __future__ import annotations

import time

# Between two batches the job sleeps this long, so that the calls this worker is taking get the
# interpreter between them (the job runs in the same process, on a thread of its own).
BATCH_PAUSE_SECONDS = 0.02


def run_escalation() -> list[int]:
    """Flag priority incidents not accepted within their target, a batch per transaction
    (``service.ESCALATION_BATCH``), until none is left. Returns the flagged ids."""
    from pingan.db.types import utcnow
    from pingan.db.unit_of_work import unit_of_work
    from pingan.incident import service

    flagged: list[int] = []
    while True:
        with unit_of_work(request_id="job:escalation") as db:
            batch = service.escalate_overdue(db=db, now=utcnow())
        flagged += batch
        if len(batch) < service.ESCALATION_BATCH:
            return flagged
        time.sleep(BATCH_PAUSE_SECONDS)
