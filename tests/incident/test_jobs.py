"""The escalation job (超时未签收预警), run by the job worker: its due step, its run step by ids,
each in a unit of work of its own named after the job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pingan.audit.models import AuditAction, AuditLog
from pingan.db.types import utcnow
from pingan.incident import jobs, service
from pingan.incident.models import StageEvent


def _escalation():
    from pingan.registry import scheduled_jobs

    return next(job for job in scheduled_jobs() if job.name == "escalation")


def _received_ago(db, incident, seconds: float):
    incident.received_at = utcnow() - timedelta(seconds=seconds)
    db.flush()
    return incident


def test_the_escalation_job_is_the_incident_modules_and_runs_every_escalation_interval():
    from pingan.config import get_settings

    job = _escalation()
    assert (job.due, job.run) == ("pingan.incident.jobs:overdue", "pingan.incident.jobs:escalate")
    assert job.interval_seconds() == get_settings().escalation_interval_seconds <= 10


def test_the_worker_flags_overdue_priority_incidents_once_each_in_batches(db, actors, make_incident):
    from pingan.worker import Worker

    overdue = [_received_ago(db, make_incident("a", priority=1), 3600) for _ in range(3)]
    overdue.append(_received_ago(db, make_incident("b", priority=2), 3600))
    not_yet = _received_ago(db, make_incident("a", priority=2), 10)  # its target is 60 s
    routine = _received_ago(db, make_incident("a", priority=3), 3600)  # routine priorities never escalate
    accepted = _received_ago(db, make_incident("a", priority=1), 3600)
    service.accept(db=db, actor=actors["dispatcher"], incident_id=accepted.id)
    db.flush()

    worker = Worker(jobs=[_escalation()], pause=0)
    assert worker.tick("escalation") == "ok"
    status = worker.status["escalation"]
    assert (status.due, status.done) == (4, 4)
    for incident in (*overdue, not_yet, routine, accepted):
        db.refresh(incident)
    assert all(i.escalated_at is not None for i in overdue)
    assert not_yet.escalated_at is None and routine.escalated_at is None and accepted.escalated_at is None
    events = db.execute(select(StageEvent.incident_id).where(StageEvent.stage == "escalated")).scalars().all()
    assert sorted(events) == sorted(i.id for i in overdue)
    by_job = db.execute(select(AuditLog.entity_id).where(
        AuditLog.entity == "incident", AuditLog.action == AuditAction.UPDATE,
        AuditLog.request_id == "job:escalation")).scalars().all()
    assert sorted(by_job) == sorted(str(i.id) for i in overdue)  # the audit rows name the job

    assert worker.tick("escalation") == "ok"  # flagged once: nothing due any more
    assert (worker.status["escalation"].due, worker.status["escalation"].done) == (0, 0)


def test_the_run_step_flags_only_those_of_its_ids_still_overdue(db, actors, make_incident):
    """Between ``due`` and ``run`` an incident may be accepted: the run step checks again."""
    first, second, third = (_received_ago(db, make_incident("a", priority=1), 3600) for _ in range(3))
    now = utcnow()
    assert jobs.overdue(db=db, now=now) == [first.id, second.id, third.id]
    service.accept(db=db, actor=actors["dispatcher"], incident_id=second.id)
    assert jobs.escalate(db=db, ids=[first.id, second.id], now=now) == [first.id]
    assert jobs.escalate(db=db, ids=[first.id], now=now) == []  # once
    assert jobs.overdue(db=db, now=now) == [third.id]
