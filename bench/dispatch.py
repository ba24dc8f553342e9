"""Dispatch recommendation among 10,000 duty units (警力推荐).

Seeds a fresh database with 10,000 units spread over the city (most available, some assigned
or off duty), then asks ``recommend_units`` for the 5 best units at random points, as a
bureau-wide dispatcher, timing every call. Baseline in the same run: the naive way — load every
available unit of the jurisdiction on each call and rank them all in Python. Both must give the
same answer (checked on every call).

Prints JSON lines per backend: p50 / p99 / mean per call of each, and the ratio.
Target: p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

import _server as srv

BENCH = "dispatch"
LAT0, LAT1, LON0, LON1 = 35.10, 35.50, 113.60, 114.20  # the city and its suburbs


def seed_units(url: str, n_units: int, stations: int, rng: random.Random) -> tuple[int, str]:
    from pingan.db.migrate import upgrade
    from pingan.db.session import make_engine
    from pingan.db.unit_of_work import unit_of_work_on
    from pingan.org import service as org_service
    from pingan.org.models import DutyUnit, OrgKind, UnitKind, UnitStatus

    engine = make_engine(url)
    upgrade(engine)
    kinds = [UnitKind.PATROL_CAR] * 6 + [UnitKind.MOTORCYCLE] * 2 + [UnitKind.FOOT_PATROL] * 3 + [UnitKind.MOUNTED]
    statuses = [UnitStatus.AVAILABLE] * 17 + [UnitStatus.ASSIGNED] * 2 + [UnitStatus.OFF_DUTY]
    with unit_of_work_on(engine, request_id="bench:dispatch-seed") as db:
        bureau = org_service.create_org_unit(db=db, code="410700000000", name="新乡市公安局", kind=OrgKind.BUREAU,
                                             parent=None)
        station_ids = []
        for s in range(stations):
            branch = org_service.create_org_unit(db=db, code=f"41079{s:03d}0000", name=f"分局{s}",
                                                 kind=OrgKind.BRANCH, parent=bureau)
            station = org_service.create_org_unit(db=db, code=f"41078{s:03d}0000", name=f"派出所{s}",
                                                  kind=OrgKind.STATION, parent=branch)
            station_ids.append(station.id)
        db.add_all([
            DutyUnit(call_sign=f"U{i:05d}", kind=rng.choice(kinds), status=rng.choice(statuses),
                     org_unit_id=rng.choice(station_ids), lat=LAT0 + rng.random() * (LAT1 - LAT0),
                     lon=LON0 + rng.random() * (LON1 - LON0), version=1)
            for i in range(n_units)
        ])
        db.flush()
        root = (bureau.id, bureau.path)
    engine.dispose()
    return root


def naive_recommend(db, actor, lat: float, lon: float, limit: int = 5) -> list[int]:
    """The baseline: every available unit of the jurisdiction, ranked in Python."""
    from pingan.incident import dispatch
    from pingan.org import repository

    rows = repository.available_units_in_box(db=db, actor=actor, min_lat=-90, max_lat=90, min_lon=-180, max_lon=180)
    ranked = sorted(
        (srv_haversine(lat, lon, r.lat, r.lon) * dispatch.ROAD_FACTOR / dispatch.speed_mps(r.kind),
         srv_haversine(lat, lon, r.lat, r.lon), r.id) for r in rows)
    return [t[2] for t in ranked[:limit]]


def srv_haversine(lat1, lon1, lat2, lon2) -> float:
    from pingan.geo.spatial import haversine_m

    return haversine_m(lat1, lon1, lat2, lon2)


def run_backend(backend: str, args) -> None:
    rng = random.Random(7)
    database = srv.new_database(backend)
    try:
        root_id, root_path = seed_units(database.url, args.units, args.stations, rng)
        from pingan.auth.actor import Actor
        from pingan.db.session import make_engine
        from pingan.incident import dispatch

        engine = make_engine(database.url)
        actor = Actor.system(root_id, root_path, name="bench-dispatcher")
        fast, naive = [], []
        mismatches = 0
        from sqlalchemy.orm import Session

        with Session(bind=engine) as db:
            points = [(LAT0 + 0.05 + rng.random() * (LAT1 - LAT0 - 0.1), LON0 + 0.05 + rng.random() * (LON1 - LON0 - 0.1))
                      for _ in range(args.calls)]
            for lat, lon in points[:50]:  # warm caches and prepared statements
                dispatch.recommend_units(db=db, actor=actor, lat=lat, lon=lon)
                naive_recommend(db, actor, lat, lon)
            for lat, lon in points:
                t0 = time.perf_counter()
                recs = dispatch.recommend_units(db=db, actor=actor, lat=lat, lon=lon, limit=5)
                t1 = time.perf_counter()
                fast.append((t1 - t0) * 1000)
            for lat, lon in points[: args.baseline_calls]:
                t0 = time.perf_counter()
                ids = naive_recommend(db, actor, lat, lon)
                t1 = time.perf_counter()
                naive.append((t1 - t0) * 1000)
                if ids != [r.unit_id for r in dispatch.recommend_units(db=db, actor=actor, lat=lat, lon=lon)]:
                    mismatches += 1
            assert recs
        engine.dispose()
        extra = {"backend": backend, "units": args.units, "calls": len(fast), "loadavg": srv.loadavg()}
        srv.emit(BENCH, "recommend_p50", round(statistics.median(fast), 3), "ms", **extra)
        srv.emit(BENCH, "recommend_p99", round(srv.percentile(fast, 99), 3), "ms", **extra)
        srv.emit(BENCH, "recommend_mean", round(statistics.fmean(fast), 3), "ms", **extra)
        extra["calls"] = len(naive)
        srv.emit(BENCH, "baseline_full_scan_p50", round(statistics.median(naive), 3), "ms", **extra)
        srv.emit(BENCH, "baseline_full_scan_p99", round(srv.percentile(naive, 99), 3), "ms", **extra)
        srv.emit(BENCH, "speedup_p50_vs_full_scan", round(statistics.median(naive) / statistics.median(fast), 1),
                 "ratio", **extra)
        srv.emit(BENCH, "answers_differing_from_full_scan", mismatches, "count", **extra)
        srv.emit(BENCH, "target_p99_under_5ms", srv.percentile(fast, 99) < 5.0, "bool", **extra)
        if mismatches:
            raise SystemExit(f"{mismatches} recommendations differ from the full scan")
    finally:
        database.drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--baseline-calls", type=int, default=50)
    args = parser.parse_args()
    for backend in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        run_backend(backend, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
