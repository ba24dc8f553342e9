"""Incident intake over HTTP on loopback (接警吞吐).

Starts the real server (``uvicorn pingan.asgi:app``) on a fresh, seeded database —
PostgreSQL ``pingan_bench_*`` by default, ``--db sqlite`` for the embedded one — and drives
``POST /api/v1/incidents`` from many keep-alive connections for a bounded time. In the same run,
a bare FastAPI endpoint that inserts one row into a one-table database on the same backend
(``bench/_server.py``) is driven the same way: the ratio says what the whole intake path
(auth, validation, address matching, grid lookup, incident + call + stage event + audit rows)
costs against the least a FastAPI write can do.

The load comes from ``wrk`` when it is installed (Debian package ``wrk``), else from the Python
client in ``_server.drive`` (``--client``). Rounds alternate between the two servers, so that a
change in the machine's load touches both sides of the ratio alike. For each side it reports the
CPU per request of the server's processes, of the PostgreSQL backends serving its database, and
of the load generator: on a shared machine throughput moves with the neighbours' load, CPU per
request much less, and ``2 cores / (server + database + client CPU per request)`` is the rate the
machine would reach alone.

Prints JSON lines: throughput (median of the rounds), p50/p99 latency (medians of the rounds'),
CPU per request, the baseline's, ratios. Target: ≥ 500 incidents/s with p99 < 50 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


class Side:
    """One server under load (the intake or the baseline) and how to drive it."""

    def __init__(self, label: str, port: int, proc, database: srv.Database, path: str, bodies, headers: dict,
                 args, key_prefix: str = ""):
        self.label, self.port, self.proc, self.database, self.args = label, port, proc, database, args
        self.path, self.bodies, self.headers = path, bodies, headers
        self.rounds: list[dict] = []
        if args.client == "wrk":
            self.script = srv.wrk_script(path, [bodies(i) for i in range(args.distinct_bodies)], headers,
                                         key_prefix=key_prefix)

    def _drive(self, seconds: float):
        if self.args.client == "wrk":
            return srv.drive_wrk(self.port, self.script, concurrency=self.args.concurrency, seconds=seconds)

        def make_request(i: int) -> bytes:
            return srv.http_request("POST", self.path, self.bodies(i), self.headers)

        result = asyncio.run(srv.drive(self.port, make_request, concurrency=self.args.concurrency,
                                       seconds=seconds, warmup=0))
        result.p50_ms = statistics.median(result.latencies_ms) if result.latencies_ms else float("nan")
        result.p99_ms = srv.percentile(result.latencies_ms, 99)
        return result

    def round(self) -> None:
        """One round of closed-loop load after an unmeasured warm-up, with CPU per request."""
        self._drive(self.args.warmup)
        server, database, client = srv.cpu_seconds(self.proc), srv.database_cpu_seconds(self.database), \
            srv.own_cpu_seconds()
        result = self._drive(self.args.seconds)
        server = srv.cpu_seconds(self.proc) - server
        database = srv.database_cpu_seconds(self.database) - database
        client = srv.own_cpu_seconds() - client
        n = result.completed or float("nan")
        self.rounds.append({"rate": result.per_second, "p50": result.p50_ms, "p99": result.p99_ms,
                            "statuses": result.statuses, "errors": result.errors, "server_ms": server * 1000 / n,
                            "database_ms": database * 1000 / n, "client_ms": client * 1000 / n})

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.rounds)

    def report(self, **extra) -> None:
        label = self.label
        rounds = self.rounds
        srv.emit(BENCH, f"{label}_throughput", round(self.median("rate"), 1), "requests/s",
                 rounds=[round(r["rate"], 1) for r in rounds], loadavg=srv.loadavg(), **extra)
        srv.emit(BENCH, f"{label}_latency_p50", round(self.median("p50"), 2), "ms",
                 rounds=[round(r["p50"], 2) for r in rounds], **extra)
        srv.emit(BENCH, f"{label}_latency_p99", round(self.median("p99"), 2), "ms",
                 rounds=[round(r["p99"], 2) for r in rounds], **extra)
        for part in ("server", "database", "client"):
            srv.emit(BENCH, f"{label}_{part}_cpu_per_request", round(self.median(f"{part}_ms"), 3), "ms",
                     rounds=[round(r[f"{part}_ms"], 3) for r in rounds], **extra)
        total = self.median("server_ms") + self.median("database_ms") + self.median("client_ms")
        srv.emit(BENCH, f"{label}_idle_machine_estimate", round(self.args.cores * 1000 / total, 1), "requests/s",
                 cores=self.args.cores, cpu_ms_per_request=round(total, 3),
                 note="cores / (server + database + client CPU per request): the rate with the machine to itself",
                 **extra)
        statuses: dict = {}
        for r in rounds:
            for k, v in r["statuses"].items():
                statuses[str(k)] = statuses.get(str(k), 0) + v
        srv.emit(BENCH, f"{label}_statuses", statuses, "count", errors=sum(r["errors"] for r in rounds), **extra)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8,
                        help="keep-alive connections, each a caller waiting for its answer (closed loop). 8 keeps "
                             "both workers busy; at 16 the queue alone is 32 ms at 500 calls/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each round")
    parser.add_argument("--idempotency-keys", action="store_true", help="send an idempotency key with every call")
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk" if srv.wrk_available() else "python",
                        help="load generator (default: wrk when installed)")
    parser.add_argument("--distinct-bodies", type=int, default=2000, help="wrk: request bodies to cycle through")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="for the idle-machine estimate")
    parser.add_argument("--stats-sync", action="store_true",
                        help="let the server's statistics sync loop run during the rounds (by default it runs "
                             "once at start-up: it belongs to a process of its own, not to intake)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    rng = random.Random(20261122)
    extra = {"backend": args.db, "workers": args.workers, "concurrency": args.concurrency, "client": args.client}

    database = srv.new_database(args.db)
    baseline_db = srv.new_database(args.db, prefix="pingan_bench_baseline")
    procs = []
    try:
        seed = srv.seed_city(database.url)
        port, bport = srv.free_port(), srv.free_port()
        env = {} if args.stats_sync else {"PINGAN_STATS_SYNC_SECONDS": "86400"}
        server = srv.start_pingan(database.url, port, workers=args.workers, env=env)
        baseline = srv.start_baseline(baseline_db.url, bport, workers=args.workers)
        procs += [server, baseline]
        srv.wait_ready(port, proc=server)
        srv.wait_ready(bport, proc=baseline)
        token = srv.login(port, seed.username)
        settled = srv.wait_settled(server)
        srv.wait_settled(baseline)
        texts = [t for _, t in seed.addresses]
        # with wrk, keys travel in the Idempotency-Key header, one per request
        intake = Side("incident", port, server, database, "/api/v1/incidents",
                      call_bodies(seed, rng, args.idempotency_keys and args.client == "python"),
                      {"Authorization": f"Bearer {token}"}, args,
                      key_prefix=f"bench-{uuid.uuid4().hex[:8]}-" if args.idempotency_keys else "")
        base = Side("baseline_insert", bport, baseline, baseline_db, "/items",
                    lambda i: {"text": texts[i % len(texts)], "priority": 1 + i % 4}, {}, args)
        for _ in range(args.rounds):
            intake.round()
            base.round()

        intake.report(idempotency_keys=args.idempotency_keys, start_up_seconds=round(settled, 1), **extra)
        base.report(**extra)
        rate, brate = intake.median("rate"), base.median("rate")
        srv.emit(BENCH, "throughput_ratio_incident_to_baseline", round(rate / brate, 3) if brate else None, "ratio",
                 **extra)
        srv.emit(BENCH, "p50_ratio_incident_to_baseline", round(intake.median("p50") / base.median("p50"), 3),
                 "ratio", **extra)
        srv.emit(BENCH, "cpu_ratio_incident_to_baseline",
                 round(intake.median("server_ms") / base.median("server_ms"), 3), "ratio", **extra)
        ok = rate >= 500 and intake.median("p99") < 50
        srv.emit(BENCH, "target_500_per_s_p99_under_50ms", ok, "bool", **extra)
        bad = sum(v for r in intake.rounds for k, v in r["statuses"].items() if int(k) not in (200, 201))
        return 0 if bad == 0 else 1
    finally:
        for p in procs:
            srv.stop(p)
        if not args.keep_db:
            database.drop()
            baseline_db.drop()


if __name__ == "__main__":
    sys.exit(main())
