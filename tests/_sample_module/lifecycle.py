"""What the server's lifespan and ``db upgrade`` do with the sample's job, warm-up, shutdown and
reference data: recorded here."""

import threading

events: list[str] = []
job_ran = threading.Event()


def start() -> None:
    events.append("start")


def job() -> None:
    job_ran.set()


def stop() -> None:
    events.append("stop")


def release() -> None:
    events.append("release")


def sync_reference(*, db) -> None:
    events.append(f"sync in {type(db).__name__}")
