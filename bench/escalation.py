"""Escalation latency: from the moment a priority incident breaches its acceptance target to the
moment the job worker flags it (超时未签收预警, issue 14: ≤ 10 s).

For each backend, on a fresh seeded database: start the real job worker (``python -m
pingan.worker``, the process ``pingan serve`` supervises), take priority-1 calls through the
service, and set each one's reception time so that its 30 s target runs out at a chosen moment,
spread at random over a few escalation intervals (so that breaches fall at every phase of the
worker's tick). The latency of one incident is its ``escalated_at`` (stamped by the job's run
step) less its breach. Prints the median, p95 and maximum as JSON lines; exits non-zero if any
latency exceeds the 10 s bound or an incident is never flagged.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

import _server as srv

BENCH = "escalation"
BOUND_SECONDS = 10.0


def take_calls(url: str, seed: srv.Seed, count: int) -> list[int]:
    """``count`` priority-1 calls taken by the seeded dispatcher; their ids."""
    from sqlalchemy import select

    from pingan.auth.actor import Actor
    from pingan.db.session import make_engine
    from pingan.db.unit_of_work import unit_of_work_on
    from pingan.incident import service
    from pingan.incident.schemas import IncidentCreate
    from pingan.org.models import User
    from pingan.org.repository import org_path_of

    engine = make_engine(url)
    ids = []
    with unit_of_work_on(engine) as db:
        user = db.scalar(select(User).where(User.username == seed.username))
        actor = Actor.for_user(user, org_path_of(db=db, org_unit_id=user.org_unit_id))
        for n in range(count):
            address_id, text = seed.addresses[n % len(seed.addresses)]
            incident, _ = service.create_incident(db=db, actor=actor, data=IncidentCreate(
                caller_phone="13900000000", location_text=text, address_id=address_id, category_code="2001",
                priority=1, description="超时预警测试"))
            ids.append(incident.id)
    engine.dispose()
    return ids


def run(backend: str, samples: int, interval: float) -> list[float]:
    from sqlalchemy import select, update

    from pingan.config import get_settings
    from pingan.db.session import make_engine
    from pingan.db.types import utcnow
    from pingan.incident.models import Incident

    database = srv.new_database(backend)
    worker = None
    try:
        seed = srv.seed_city(database.url)
        ids = take_calls(database.url, seed, samples)
        target = get_settings().accept_target_seconds[1]
        var = tempfile.mkdtemp(prefix="pingan-bench-worker-")
        env = {**os.environ, "PINGAN_DATABASE_URL": database.url, "PINGAN_VAR_DIR": var}
        worker = subprocess.Popen([sys.executable, "-m", "pingan.worker"], env=env, stderr=subprocess.DEVNULL)
        engine = make_engine(database.url)
        rng = random.Random(7)
        # breaches 2 s from now onwards, spread over three intervals
        start = utcnow() + timedelta(seconds=2)
        breaches = {i: start + timedelta(seconds=rng.uniform(0, 3 * interval)) for i in ids}
        with engine.begin() as conn:
            for incident_id, breach in breaches.items():
                conn.execute(update(Incident).where(Incident.id == incident_id)
                             .values(received_at=breach - timedelta(seconds=target)))
        deadline = time.monotonic() + 2 + 3 * interval + 3 * BOUND_SECONDS
        flagged: dict[int, object] = {}
        while len(flagged) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
            with engine.connect() as conn:
                flagged = dict(conn.execute(select(Incident.id, Incident.escalated_at)
                                            .where(Incident.id.in_(ids), Incident.escalated_at.is_not(None))).all())
        engine.dispose()
        if len(flagged) < len(ids):
            raise SystemExit(f"{len(ids) - len(flagged)} incidents were never flagged")
        return [(flagged[i] - breaches[i]).total_seconds() for i in ids]
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
        database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"],
                        help="default: both")
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    from pingan.config import get_settings

    interval = get_settings().escalation_interval_seconds  # the escalation job's interval
    worst = 0.0
    for backend in args.backend or ["sqlite", "postgresql"]:
        latencies = run(backend, args.samples, interval)
        worst = max(worst, max(latencies))
        common = {"backend": backend, "samples": len(latencies), "interval_s": interval, "load": srv.loadavg()}
        srv.emit(BENCH, "breach_to_escalated_p50", round(srv.percentile(latencies, 50), 3), "s", **common)
        srv.emit(BENCH, "breach_to_escalated_p95", round(srv.percentile(latencies, 95), 3), "s", **common)
        srv.emit(BENCH, "breach_to_escalated_max", round(max(latencies), 3), "s", **common)
    if worst > BOUND_SECONDS:
        sys.exit(f"an escalation came {worst:.1f} s after its breach (bound {BOUND_SECONDS:.0f} s)")


if __name__ == "__main__":
    main()
