"""Incident intake over HTTP on loopback (接警吞吐).

Starts the real server (``uvicorn pingan.asgi:app``) on a fresh, seeded database —
PostgreSQL ``pingan_bench_*`` by default, ``--db sqlite`` for the embedded one — and drives
``POST /api/v1/incidents`` from many keep-alive connections for a bounded time. In the same run,
a bare FastAPI endpoint that inserts one row into a one-table database on the same backend
(``bench/_server.py``) is driven the same way: the ratio says what the whole intake path
(auth, validation, address matching, grid lookup, incident + call + stage event + audit rows)
costs against the least a FastAPI write can do.

Prints JSON lines: throughput (median of the rounds), p50/p99 latency, the baseline's, ratios.
Target: ≥ 500 incidents/s with p99 < 50 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import uuid

import _server as srv

BENCH = "intake"
CATEGORIES = ["1001", "1002", "1004", "2001", "2002", "2004", "3001", "4001", "5001", "5003", "6001", "6002", "9001"]


def call_bodies(seed: srv.Seed, rng: random.Random, with_keys: bool):
    """Call-taker requests: a known address (half the time chosen from the live match, so its id
    is sent; otherwise text only, which the server matches), category, priority, caller."""
    run = uuid.uuid4().hex[:8]

    def body(i: int) -> dict:
        address_id, text = rng.choice(seed.addresses)
        data = {"caller_phone": f"13{rng.randrange(3, 10)}{rng.randrange(10**8):08d}", "caller_name": "王先生",
                "location_text": text.removeprefix("河南省新乡市"), "category_code": rng.choice(CATEGORIES),
                "priority": rng.choice((1, 2, 2, 3, 3, 3, 4)), "description": "群众报警，请速处置"}
        if i % 2 == 0:
            data["address_id"] = address_id
        if with_keys:
            data["idempotency_key"] = f"bench-{run}-{i}"
        return data

    return body


def measured_round(port: int, proc, make_request, args) -> tuple[srv.LoadResult, float]:
    """One round of closed-loop load; returns it with the server's CPU milliseconds per request."""
    asyncio.run(srv.drive(port, make_request, concurrency=args.concurrency, seconds=args.warmup, warmup=0))
    before = srv.cpu_seconds(proc)
    result = asyncio.run(srv.drive(port, make_request, concurrency=args.concurrency, seconds=args.seconds,
                                   warmup=0))
    used = srv.cpu_seconds(proc) - before
    return result, (used * 1000 / result.completed if result.completed else float("nan"))


def report(label: str, results: list[srv.LoadResult], cpu_ms: list[float], **extra) -> tuple[float, float, float]:
    rates = [r.per_second for r in results]
    latencies = [x for r in results for x in r.latencies_ms]
    rate = statistics.median(rates)
    p50 = statistics.median(latencies)
    p99 = srv.percentile(latencies, 99)
    statuses: dict = {}
    for r in results:
        for k, v in r.statuses.items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
    errors = sum(r.errors for r in results)
    srv.emit(BENCH, f"{label}_throughput", round(rate, 1), "requests/s", rounds=[round(x, 1) for x in rates],
             loadavg=srv.loadavg(), **extra)
    srv.emit(BENCH, f"{label}_latency_p50", round(p50, 2), "ms", **extra)
    srv.emit(BENCH, f"{label}_latency_p99", round(p99, 2), "ms", **extra)
    srv.emit(BENCH, f"{label}_server_cpu_per_request", round(statistics.median(cpu_ms), 3), "ms",
             rounds=[round(x, 3) for x in cpu_ms], **extra)
    srv.emit(BENCH, f"{label}_statuses", statuses, "count", errors=errors, **extra)
    return rate, p50, p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each round")
    parser.add_argument("--idempotency-keys", action="store_true", help="send an idempotency key with every call")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    rng = random.Random(20261122)
    extra = {"backend": args.db, "workers": args.workers, "concurrency": args.concurrency}

    database = srv.new_database(args.db)
    baseline_db = srv.new_database(args.db, prefix="pingan_bench_baseline")
    procs = []
    try:
        seed = srv.seed_city(database.url)
        port, bport = srv.free_port(), srv.free_port()
        server = srv.start_pingan(database.url, port, workers=args.workers)
        baseline = srv.start_baseline(baseline_db.url, bport, workers=args.workers)
        procs += [server, baseline]
        srv.wait_ready(port, proc=server)
        srv.wait_ready(bport, proc=baseline)
        token = srv.login(port, seed.username)
        headers = {"Authorization": f"Bearer {token}"}
        body = call_bodies(seed, rng, args.idempotency_keys)
        texts = [t for _, t in seed.addresses]

        def take_call(i: int) -> bytes:
            return srv.http_request("POST", "/api/v1/incidents", body(i), headers)

        def insert_item(i: int) -> bytes:
            return srv.http_request("POST", "/items", {"text": texts[i % len(texts)], "priority": 1 + i % 4})

        # Rounds alternate between the two servers (both up, the idle one costs nothing), so
        # that a change in the machine's load touches both sides of the ratio alike.
        intake, base, intake_cpu, base_cpu = [], [], [], []
        for _ in range(args.rounds):
            result, cpu = measured_round(port, server, take_call, args)
            intake.append(result)
            intake_cpu.append(cpu)
            result, cpu = measured_round(bport, baseline, insert_item, args)
            base.append(result)
            base_cpu.append(cpu)

        rate, p50, p99 = report("incident", intake, intake_cpu, idempotency_keys=args.idempotency_keys, **extra)
        brate, bp50, bp99 = report("baseline_insert", base, base_cpu, **extra)
        srv.emit(BENCH, "throughput_ratio_incident_to_baseline", round(rate / brate, 3) if brate else None, "ratio",
                 **extra)
        srv.emit(BENCH, "p50_ratio_incident_to_baseline", round(p50 / bp50, 3) if bp50 else None, "ratio", **extra)
        srv.emit(BENCH, "cpu_ratio_incident_to_baseline",
                 round(statistics.median(intake_cpu) / statistics.median(base_cpu), 3), "ratio", **extra)
        ok = rate >= 500 and p99 < 50
        srv.emit(BENCH, "target_500_per_s_p99_under_50ms", ok, "bool", **extra)
        bad = sum(v for r in intake for k, v in r.statuses.items() if k != 201)
        return 0 if bad == 0 else 1
    finally:
        for p in procs:
            srv.stop(p)
        if not args.keep_db:
            database.drop()
            baseline_db.drop()


if __name__ == "__main__":
    sys.exit(main())
