"""Benchmark: standard-address matching throughput and top-1 accuracy on noisy caller text.

Builds its own registry in a temporary SQLite database (default 50,000 addresses over the real
townships of 新乡市 410700, seeded), generates noisy caller texts whose truth is known, and
prints JSON lines: matches per second through ``geo.service.match_address`` (median of several
runs), top-1 accuracy, the division parser alone, index build time and memory, and as a same-run
baseline a naive ``difflib`` scan over every full address text on a sample, with the ratio.

    .venv/bin/python bench/address_match.py [--addresses 50000] [--queries 6000] [--runs 5]
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

_TMP = tempfile.mkdtemp(prefix="pingan-bench-address-")
os.environ["PINGAN_VAR_DIR"] = _TMP
os.environ["PINGAN_DATABASE_URL"] = f"sqlite:///{_TMP}/bench.db"


def emit(metric: str, value, unit: str, **extra) -> None:
    print(json.dumps({"bench": "address_match", "metric": metric, "value": value, "unit": unit, **extra},
                     ensure_ascii=False), flush=True)


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def build_database(target: int):
    from sqlalchemy import insert

    from _noise import RegistryGenerator
    from pingan.db.migrate import upgrade
    from pingan.db.session import get_engine
    from pingan.db.unit_of_work import unit_of_work
    from pingan.geo.models import Address, Division, DivisionLevel, Grid, ZoneClass
    from pingan.org import service as org_service
    from pingan.org.models import OrgKind

    engine = get_engine()
    upgrade(engine)
    gen = RegistryGenerator(target=target)
    addresses = gen.generate()
    with unit_of_work(request_id="bench:address-match") as db:
        bureau = org_service.create_org_unit(db=db, code=gen.city.code + "000000", name=gen.city.name + "公安局",
                                             kind=OrgKind.BUREAU, parent=None, division_code=gen.city.code)
        stations = {}
        for county in gen.counties:
            stations[county.code] = org_service.create_org_unit(
                db=db, code=county.code + "010000", name=county.name + "派出所", kind=OrgKind.STATION,
                parent=bureau, division_code=county.code)
        db.add(Division(code=gen.city.code, name=gen.city.name, level=DivisionLevel.CITY,
                        parent_code=gen.province.code))
        for county in gen.counties:
            db.add(Division(code=county.code, name=county.name, level=DivisionLevel.COUNTY, parent_code=gen.city.code))
            for town in gen.townships[county.code]:
                db.add(Division(code=town.code, name=town.name, level=DivisionLevel.TOWNSHIP,
                                parent_code=county.code))
        grid_of = {}
        for i, comm in enumerate(gen.communities):
            db.add(Division(code=comm.code, name=comm.name, level=DivisionLevel.COMMUNITY,
                            parent_code=comm.township_code))
            lon, lat, size = comm.lon, comm.lat, 0.005
            polygon = {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                                           [lon, lat + size], [lon, lat]]]}
            grid = Grid(code=f"G{comm.code}", name=f"{comm.name}网格", zone_class=ZoneClass.URBAN if comm.urban
                        else ZoneClass.SUBURBAN, org_unit_id=stations[comm.county_code].id, division_code=comm.code,
                        polygon=json.dumps(polygon), min_lon=lon, min_lat=lat, max_lon=lon + size,
                        max_lat=lat + size, centroid_lon=lon + size / 2, centroid_lat=lat + size / 2)
            db.add(grid)
            grid_of[comm.code] = grid
        db.flush()
        rows = [{
            "code": a.code, "full_text": a.full_text, "county_code": a.county_code, "division_code": a.division_code,
            "road": a.road, "house_no": a.house_no, "place_name": a.place_name, "building": a.building,
            "unit_no": a.unit_no, "room": a.room, "lat": a.lat, "lon": a.lon,
            "grid_id": grid_of[a.division_code].id, "level": a.level,
        } for a in addresses]
        for start in range(0, len(rows), 5000):
            db.execute(insert(Address), rows[start:start + 5000])
        root = (bureau.id, bureau.path)
    return gen, addresses, root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=6_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-sample", type=int, default=12)
    args = parser.parse_args()

    from _noise import NoiseGenerator
    from sqlalchemy import select

    from pingan.auth.actor import Actor
    from pingan.db.session import get_sessionmaker
    from pingan.geo import service
    from pingan.geo.divisions import get_index, parse_division
    from pingan.geo.matcher import get_address_index, normalize
    from pingan.geo.models import Address

    started = time.perf_counter()
    get_index()
    gen, addresses, (root_id, root_path) = build_database(args.addresses)
    emit("registry_addresses", len(addresses), "addresses", communities=len(gen.communities),
         setup_s=round(time.perf_counter() - started, 1))

    db = get_sessionmaker()()
    actor = Actor.system(root_id, root_path, name="bench")
    code_to_id = dict(db.execute(select(Address.code, Address.id)).all())

    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    index = get_address_index(db)
    build_s = time.perf_counter() - t0
    gc.collect()
    emit("index_build", round(build_s, 2), "s", rows=index.n)
    emit("index_memory", round(rss_mb() - before, 1), "MB", rows=index.n,
         note="RSS growth while building the address index")

    noise = NoiseGenerator(gen.province.name, gen.city.name)
    pick = noise.rng
    sample = [pick.choice(addresses) for _ in range(args.queries)]
    queries = [(noise.text(a), code_to_id[a.code]) for a in sample]

    # Accuracy (one pass) and throughput (median of several passes) through the service.
    wrong = []
    accepted = 0
    for text, truth in queries:
        results = service.match_address(db=db, actor=actor, text=text, limit=5)
        if results and results[0].address_id == truth:
            accepted += results[0].score >= service.ACCEPT_SCORE
        else:
            wrong.append((text, truth, results[0].full_text if results else None))
    accuracy = 1 - len(wrong) / len(queries)
    emit("top1_accuracy", round(accuracy, 4), "ratio", queries=len(queries), wrong=len(wrong))
    emit("accepted_share", round(accepted / len(queries), 4), "ratio",
         note="top-1 right and score >= 0.6 (taken as the location by locate)")
    for text, truth, got in wrong[:5]:
        emit("example_miss", text, "text", truth=db.get(Address, truth).full_text, got=got)

    rates, cpu_rates = [], []
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        for text, _truth in queries:
            service.match_address(db=db, actor=actor, text=text, limit=5)
        rates.append(len(queries) / (time.perf_counter() - t))
        cpu_rates.append(len(queries) / (time.process_time() - c))
    ours = statistics.median(rates)
    emit("throughput", round(ours), "addresses/s", runs=args.runs, min=round(min(rates)), max=round(max(rates)),
         load_average=round(os.getloadavg()[0], 2))
    emit("throughput_per_cpu_second", round(statistics.median(cpu_rates)), "addresses/cpu-s", runs=args.runs,
         note="queries per second of this process's CPU time: less sensitive to other load on the machine")

    t = time.perf_counter()
    for text, _truth in queries:
        parse_division(text)
    emit("division_parse_throughput", round(len(queries) / (time.perf_counter() - t)), "texts/s")

    # Baseline: a naive scan — difflib's closest full text among all addresses, on a sample.
    texts = [a.full_text for a in addresses]
    ids = [code_to_id[a.code] for a in addresses]
    by_text = dict(zip(texts, ids, strict=True))
    base_sample = queries[: args.baseline_sample]
    base_right = 0
    t = time.perf_counter()
    for text, truth in base_sample:
        best = difflib.get_close_matches(normalize(text), texts, n=1, cutoff=0.0)
        base_right += bool(best) and by_text[best[0]] == truth
    base_rate = len(base_sample) / (time.perf_counter() - t)
    emit("baseline_throughput", round(base_rate, 2), "addresses/s", method="difflib.get_close_matches over all",
         sample=len(base_sample))
    emit("baseline_top1_accuracy", round(base_right / len(base_sample), 3), "ratio", sample=len(base_sample))
    emit("throughput_ratio", round(ours / base_rate), "x", note="matcher / difflib baseline, same run")
    emit("process_rss", round(rss_mb(), 1), "MB")
    db.close()


if __name__ == "__main__":
    main()
