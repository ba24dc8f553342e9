"""What the server's lifespan, the job worker and ``db upgrade`` do with the sample's warm-up,
shutdown, job and reference data: recorded here."""

import threading

events: list[str] = []
job_ran = threading.Event()


def start() -> None:
    events.append("start")


# The sample job: the ids its ``due`` step names, and each step it took (step, request id, ids).
due_ids: list[int] = []
steps: list[tuple[str, str, list[int] | None]] = []
failing = threading.Event()  # set: the due step raises
hold = threading.Event()  # set: the due step says it is in (``in_due``) and waits for ``release_hold``
in_due = threading.Event()
release_hold = threading.Event()


def due(*, db, now) -> list[int]:
    steps.append(("due", db.info["request_id"], None))
    if failing.is_set():
        raise RuntimeError("the sample job fails")
    if hold.is_set():
        in_due.set()
        release_hold.wait(60)
    return list(due_ids)


def run(*, db, ids, now) -> list[int]:
    steps.append(("run", db.info["request_id"], list(ids)))
    job_ran.set()
    return [i for i in ids if i % 2]  # acts on the odd ones only


def stop() -> None:
    events.append("stop")


def release() -> None:
    events.append("release")


def sync_reference(*, db) -> None:
    events.append(f"sync in {type(db).__name__}")
