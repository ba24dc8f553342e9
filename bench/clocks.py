"""Clocks (期限, issue 15): recomputing every open clock after a holiday-table change (< 10 s for
200,000) and the flagging job over 200,000 open clocks (< 2 s a run).

For each backend, on a fresh seeded database (the holiday table seeded by ``db upgrade``):
write ``--clocks`` open clocks through SQLAlchemy Core, a mix of the shipped types (working-day
service limits, administrative cases, detentions, summonses) started over the autumn of 2026 at
the bureau's stations, and compute their due times once (not timed). Then, ``--runs`` times:

- *recompute*: an admin declares a day of October a holiday, or removes it again
  (``service.set_holiday`` / ``remove_holiday``, in one unit of work, which recomputes every
  open clock depending on the calendar and writes those that changed);
- *flag*: the job's ``due`` step, then its ``run`` step in the job's batches, each in a unit of
  work of its own (as the job worker runs it): first the backlog (every clock turned by a moment
  when half of them have: the first run after the worker was down, reported, not bounded), then
  a run at each following midnight, when a day's periods run out together (the busiest run of a
  day; the bound's runs).

Prints JSON lines (each run, and the medians); exits non-zero if a median exceeds its bound.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

import _server as srv

BENCH = "clocks"
RECOMPUTE_BOUND, FLAG_BOUND = 10.0, 2.0
TYPES = ("service_limit", "administrative_case", "criminal_detention", "summons")


def populate(url: str, count: int) -> None:
    from sqlalchemy import insert, select

    from pingan.clocks import service
    from pingan.clocks.models import Clock, ClockState
    from pingan.clocks.types import clock_type
    from pingan.db.session import make_engine
    from pingan.db.unit_of_work import unit_of_work_on
    from pingan.org.models import OrgUnit

    engine = make_engine(url)
    with engine.begin() as conn:
        units = list(conn.scalars(select(OrgUnit.id)))
    start = datetime(2026, 9, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        kind = clock_type(TYPES[n % len(TYPES)])
        rows.append({"owner_module": "case", "entity": "case", "entity_id": n + 1, "org_unit_id": units[n % len(units)],
                     "clock_type": kind.name, "started_at": start + timedelta(minutes=37 * (n % 3000)),
                     "amount": kind.rule.amount, "unit": kind.rule.unit.value, "legal": kind.rule.legal,
                     "in_custody": kind.rule.in_custody, "calendar_dependent": kind.rule.depends_on_calendar(),
                     "state": ClockState.RUNNING.value, "provisional": False, "explanation_zh": "",
                     "explanation_en": ""})
    with engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(Clock.__table__), rows[i:i + 20_000])
    with unit_of_work_on(engine) as db:  # every due time once (the ones not depending on the calendar too)
        service.recompute_open_clocks(db=db, now=start, calendar_only=False)
    engine.dispose()


def recompute_once(url: str, n: int) -> tuple[float, int]:
    from pingan.auth.actor import Actor
    from pingan.clocks import service
    from pingan.clocks.rules import DayKind
    from pingan.db.session import make_engine
    from pingan.db.unit_of_work import unit_of_work_on

    engine = make_engine(url)
    admin = Actor.system(org_unit_id=1, org_path="/")
    day = date(2026, 10, 13)
    calls = []
    original = service.recompute_open_clocks

    def counted(**kw):
        changed = original(**kw)
        calls.append(changed)
        return changed

    service.recompute_open_clocks = counted
    try:
        t0 = time.perf_counter()
        with unit_of_work_on(engine) as db:
            if n % 2 == 0:
                service.set_holiday(db=db, actor=admin, day=day, kind=DayKind.HOLIDAY, name="基准测试假日")
            else:
                service.remove_holiday(db=db, actor=admin, day=day)
        elapsed = time.perf_counter() - t0
    finally:
        service.recompute_open_clocks = original
    engine.dispose()
    return elapsed, calls[0]


def flag_runs(url: str, batch: int, runs: int) -> tuple[tuple[float, int], list[tuple[float, int]]]:
    """The backlog (every clock turned by ``now``: the first run after the worker was down), then
    ``runs`` runs at the following midnights, when the periods counted in days run out together
    (the busiest run of a day): (seconds, flagged) each."""
    from sqlalchemy import update

    from pingan.clocks import jobs
    from pingan.clocks.models import OPEN_STATES, Clock, ClockState
    from pingan.db.session import make_engine
    from pingan.db.unit_of_work import unit_of_work_on

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(update(Clock).where(Clock.state.in_(OPEN_STATES)).values(state=ClockState.RUNNING))

    def one(now: datetime) -> tuple[float, int]:
        t0 = time.perf_counter()
        with unit_of_work_on(engine) as db:
            ids = jobs.turning(db=db, now=now)
        done = 0
        for i in range(0, len(ids), batch):
            with unit_of_work_on(engine) as db:
                done += len(jobs.flag(db=db, ids=ids[i:i + batch], now=now))
        return time.perf_counter() - t0, done

    now = datetime(2026, 10, 20, tzinfo=UTC)
    backlog = one(now)
    steady = [one(now + timedelta(days=n + 1)) for n in range(runs)]
    engine.dispose()
    return backlog, steady


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"], help="default: both")
    parser.add_argument("--clocks", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from pingan.registry import scheduled_jobs

    job = next(j for j in scheduled_jobs() if j.name == "clocks.flag")
    batch = job.batch
    failed = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        database = srv.new_database(backend)
        try:
            srv.seed_city(database.url)
            populate(database.url, args.clocks)
            common = {"backend": backend, "clocks": args.clocks}
            recompute, flag = [], []
            for n in range(args.runs):
                seconds, changed = recompute_once(database.url, n)
                recompute.append(seconds)
                srv.emit(BENCH, "recompute_after_holiday_change", round(seconds, 3), "s", run=n, changed=changed,
                         load=srv.loadavg(), **common)
            (seconds, done), steady = flag_runs(database.url, batch, max(args.runs, 5))
            srv.emit(BENCH, "flag_job_backlog", round(seconds, 3), "s", flagged=done, load=srv.loadavg(), **common)
            for n, (seconds, done) in enumerate(steady):
                flag.append(seconds)
                srv.emit(BENCH, "flag_job_run", round(seconds, 3), "s", run=n, flagged=done,
                         load=srv.loadavg(), **common)
            for metric, values, bound in (("recompute_after_holiday_change_median", recompute, RECOMPUTE_BOUND),
                                          ("flag_job_run_median", flag, FLAG_BOUND)):
                median = statistics.median(values)
                srv.emit(BENCH, metric, round(median, 3), "s", bound=bound, **common)
                if median > bound:
                    failed.append(f"{backend} {metric} {median:.2f} s > {bound} s")
        finally:
            database.drop()
    if failed:
        sys.exit("; ".join(failed))


if __name__ == "__main__":
    main()
