"""``kill -9`` during an intake burst loses no acknowledged incident (崩溃不丢已确认警情).

For each backend (SQLite and PostgreSQL by default), on a fresh seeded database: start the real
server on 127.0.0.1, drive ``POST /api/v1/incidents`` from many connections, each call with its
own idempotency key, and ``kill -9`` the server's whole process group mid-burst. Restart it and
check that every incident that was answered 201 is in the database under its key and id. Then
retry every call that was sent but not answered with the same key: each comes back either 200
(it had been committed just before the crash) or 201 (it had not), never twice. Every
acknowledged call is retried too (a client whose 201 was lost on the wire does exactly that): it
must come back 200 with the id it was first given.

Rows are counted per key, not looked up by key, so a duplicate would show even if the unique
index on ``incident.idempotency_key`` were dropped.

Prints acknowledged / lost counts per round as JSON lines; exits non-zero if any acknowledged
incident is lost or a retry duplicated one. Bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import uuid

import _server as srv
from intake import CATEGORIES

BENCH = "kill9"


def body_for(seed: srv.Seed, rng: random.Random, key: str) -> dict:
    address_id, text = rng.choice(seed.addresses)
    return {"caller_phone": f"139{rng.randrange(10**8):08d}", "location_text": text.removeprefix("河南省新乡市"),
            "address_id": address_id, "category_code": rng.choice(CATEGORIES), "priority": rng.randint(1, 4),
            "description": "崩溃测试", "idempotency_key": key}


def stored(url: str, keys: list[str]) -> dict[str, list[int]]:
    """key → ids of every incident stored under it (read directly, not through the app).

    A list, not one id: a dict of key → id would hide a duplicate, and a duplicate is what
    this benchmark is looking for.
    """
    from sqlalchemy import create_engine, select

    from pingan.incident.models import Incident

    engine = create_engine(url)
    found: dict[str, list[int]] = {}
    try:
        with engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                for key, incident_id in conn.execute(select(Incident.idempotency_key, Incident.id)
                                                     .where(Incident.idempotency_key.in_(chunk))
                                                     .order_by(Incident.id)):
                    found.setdefault(key, []).append(incident_id)
    finally:
        engine.dispose()
    return found


async def burst_and_kill(port: int, server, make_request, keys: dict[int, str], acked: dict[str, int],
                         *, concurrency: int, kill_after: float, seconds: float) -> None:
    stop_event = asyncio.Event()

    def on_response(i: int, status: int, body: bytes) -> None:
        if status == 201:
            acked[keys[i]] = json.loads(body)["id"]

    async def killer() -> None:
        # mid-burst: some time after the first acknowledgement (the server is warm and busy)
        while not acked:
            await asyncio.sleep(0.01)
        await asyncio.sleep(kill_after)
        os.killpg(server.pid, signal.SIGKILL)
        stop_event.set()

    kill_task = asyncio.create_task(killer())
    await srv.drive(port, make_request, concurrency=concurrency, seconds=seconds, warmup=0.0,
                    on_response=on_response, stop_event=stop_event)
    await kill_task


def run_round(database: srv.Database, seed: srv.Seed, token: str | None, args, rnd: int,
              rng: random.Random) -> tuple[dict, str]:
    port = srv.free_port()
    server = srv.start_pingan(database.url, port, workers=args.workers, jobs=False)
    try:
        srv.wait_ready(port, proc=server)
        token = token or srv.login(port, seed.username)
        headers = {"Authorization": f"Bearer {token}"}
        run = uuid.uuid4().hex[:8]
        keys: dict[int, str] = {}
        bodies: dict[str, dict] = {}

        def make_request(i: int) -> bytes:
            key = f"k9-{run}-{i}"
            keys[i] = key
            bodies[key] = body_for(seed, rng, key)
            return srv.http_request("POST", "/api/v1/incidents", bodies[key], headers)

        acked: dict[str, int] = {}
        kill_after = args.kill_after or rng.uniform(0.5, 2.0)
        asyncio.run(burst_and_kill(port, server, make_request, keys, acked, concurrency=args.concurrency,
                                   kill_after=kill_after, seconds=args.seconds))
        server.wait(timeout=15)
    finally:
        srv.stop(server, signal.SIGKILL)

    # restart on the same database and look for every acknowledged incident
    port = srv.free_port()
    server = srv.start_pingan(database.url, port, workers=args.workers, jobs=False)
    try:
        srv.wait_ready(port, proc=server)
        found = stored(database.url, list(acked))
        lost = sorted(k for k, incident_id in acked.items() if found.get(k) != [incident_id])
        # retry every call that was sent but not acknowledged, then every acknowledged one, each with its own key
        unanswered = [k for k in bodies if k not in acked]
        retried = unanswered + list(acked)
        outcome = {"committed_before_crash": 0, "created_on_retry": 0, "other": 0}
        acked_outcome = {"same_id": 0, "other": 0}
        answered: dict[str, int] = {}  # key → id the retry was answered with

        def retry_request(i: int) -> bytes:
            return srv.http_request("POST", "/api/v1/incidents", bodies[retried[i]], headers)

        def on_retry(i: int, status: int, body: bytes) -> None:
            key = retried[i]
            if status in (200, 201):
                answered[key] = json.loads(body)["id"]
            if key in acked:
                same = status == 200 and answered[key] == acked[key]
                acked_outcome["same_id" if same else "other"] += 1
            else:
                outcome[{200: "committed_before_crash", 201: "created_on_retry"}.get(status, "other")] += 1

        if retried:
            asyncio.run(_retry_all(port, retry_request, on_retry, len(retried)))
        after = stored(database.url, list(bodies))
        duplicates = sorted(k for k, ids in after.items() if len(ids) > 1)
        # every key sent is in the database exactly once, under the id its last answer gave
        stored_rows = sum(len(ids) for ids in after.values())
        mismatched = sorted(k for k, incident_id in answered.items() if after.get(k) != [incident_id])
        consistent = (stored_rows == len(bodies) == len(after) and not duplicates and not mismatched
                      and acked_outcome["other"] == 0)
    finally:
        srv.stop(server)
    result = {"acknowledged": len(acked), "lost": len(lost), "sent": len(bodies), "kill_after_s": round(kill_after, 2),
              "unanswered_retried": len(unanswered), **outcome, "acknowledged_retried": len(acked),
              "acknowledged_retry_same_id": acked_outcome["same_id"], "stored": stored_rows,
              "duplicates": len(duplicates), "id_mismatches": len(mismatched), "consistent": consistent,
              "lost_keys": lost[:10], "duplicate_keys": duplicates[:10]}
    return result, token


async def _retry_all(port: int, make_request, on_response, n: int) -> None:
    """Send each retry once (resending it only if the connection broke before an answer)."""
    import itertools

    counter = itertools.count()

    async def worker() -> None:
        reader = writer = None
        while (i := next(counter)) < n:
            for attempt in range(5):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(srv.HOST, port)
                    status, body = await srv._exchange(reader, writer, make_request(i))
                    on_response(i, status, body)
                    break
                except (OSError, asyncio.IncompleteReadError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    await asyncio.sleep(0.2 * (attempt + 1))
            else:
                on_response(i, 0, b"")
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(min(8, n))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--rounds", type=int, default=3, help="kills per backend")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="upper bound of one burst")
    parser.add_argument("--kill-after", type=float, default=0.0, help="seconds after the first 201 (random 0.5–2 s if 0)")
    args = parser.parse_args()
    rng = random.Random(9)
    failed = False
    for backend in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        database = srv.new_database(backend)
        totals = {"acknowledged": 0, "lost": 0, "duplicates": 0}
        try:
            seed = srv.seed_city(database.url, stations=2, grids_per_station=3, addresses_per_grid=30)
            token = None
            for rnd in range(args.rounds):
                result, token = run_round(database, seed, token, args, rnd, rng)
                totals["acknowledged"] += result["acknowledged"]
                totals["lost"] += result["lost"]
                totals["duplicates"] += result["duplicates"]
                srv.emit(BENCH, "round", result, "counts", backend=backend, round=rnd + 1, workers=args.workers,
                         concurrency=args.concurrency)
                if result["lost"] or not result["consistent"] or result["other"]:
                    failed = True
        finally:
            database.drop()
        srv.emit(BENCH, "acknowledged", totals["acknowledged"], "incidents", backend=backend, rounds=args.rounds)
        srv.emit(BENCH, "lost", totals["lost"], "incidents", backend=backend, rounds=args.rounds)
        srv.emit(BENCH, "duplicates", totals["duplicates"], "incidents", backend=backend, rounds=args.rounds)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
