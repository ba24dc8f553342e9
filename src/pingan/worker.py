"""The job worker (作业进程): every installed module's scheduled jobs, run once per deployment.

``pingan worker`` (or ``python -m pingan.worker``) runs each job of ``registry.scheduled_jobs()``
on a thread of its own: every ``interval_seconds()`` it asks the job's ``due`` step for ids and
hands them to its ``run`` step ``batch`` at a time, each step in its own unit of work (request id
``job:<name>``), pausing ``BATCH_PAUSE_SECONDS`` between batches so that calls being taken are not
held up behind a long backlog (on SQLite a transaction holds the write lock). Web workers never
run jobs (decision 0018).

- A job runs once at start, then ``interval_seconds()`` after the start of its previous run; a
  run longer than the interval delays the next one, never overlaps it (one thread per job, and
  :meth:`Worker.tick` skips a job still running).
- A failing run is logged with its traceback and the job runs again at its next tick.
- Once per deployment: the worker holds an exclusive lock on ``worker.lock`` in the var dir for
  its lifetime; a second worker of the same var dir refuses to start, and ``pingan serve`` does
  not start one while another holds it.
- Each run's outcome is logged and written to ``worker.json`` in the var dir (0600): per job its
  interval, runs, failures, and the last run's start, seconds, outcome (ok / failed / running),
  error, due and done counts. ``pingan worker --status`` prints it.

``pingan serve`` starts this process as a child (:class:`WorkerProcess`), restarts it when it
dies (1 s, doubling to 30 s while it keeps dying) and stops it on exit; the child also stops
when its parent is gone. ``pingan serve --no-worker`` leaves it to a unit of its own.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pingan.registry import Job, resolve, scheduled_jobs

log = logging.getLogger("pingan.worker")

BATCH_PAUSE_SECONDS = 0.02
LOCK_NAME = "worker.lock"
STATUS_NAME = "worker.json"


def var_dir() -> Path:
    from pingan.config import VAR_DIR

    return Path(VAR_DIR)


# --- one run of a job -----------------------------------------------------------------------------


def run_job(job: Job, *, pause: float = BATCH_PAUSE_SECONDS) -> tuple[int, int]:
    """Run ``job`` once: its ``due`` step, then its ``run`` step on the ids ``job.batch`` at a time,
    each step in its own unit of work (request id ``job:<name>``). Returns (ids due, ids done)."""
    from pingan.db.types import utcnow
    from pingan.db.unit_of_work import unit_of_work

    due, run = resolve(job.due), resolve(job.run)
    request_id = f"job:{job.name}"
    with unit_of_work(request_id=request_id) as db:
        ids = list(due(db=db, now=utcnow()))
    done = 0
    for start in range(0, len(ids), job.batch):
        if start:
            time.sleep(pause)
        with unit_of_work(request_id=request_id) as db:
            done += len(run(db=db, ids=ids[start:start + job.batch], now=utcnow()))
    return len(ids), done


@dataclass
class JobStatus:
    """What the worker knows of one job (written to ``worker.json``)."""

    name: str
    interval_seconds: float
    runs: int = 0
    failures: int = 0
    outcome: str | None = None  # ok, failed, running; None before the first run
    started_at: str | None = None
    seconds: float | None = None
    error: str | None = None
    due: int | None = None
    done: int | None = None


class Worker:
    """The scheduled jobs of this process: a thread per job (:meth:`start`), or one run at a
    time (:meth:`tick`); ``status_path`` gets the jobs' status after every run (None: log only)."""

    def __init__(self, jobs: Iterable[Job] | None = None, *, status_path: Path | None = None,
                 pause: float = BATCH_PAUSE_SECONDS):
        self.jobs = {job.name: job for job in (scheduled_jobs() if jobs is None else jobs)}
        self.status = {name: JobStatus(name, job.interval_seconds()) for name, job in self.jobs.items()}
        self.status_path = status_path
        self.pause = pause
        self.started_at = datetime.now(UTC)
        self._running = {name: threading.Lock() for name in self.jobs}
        self._status_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def tick(self, name: str) -> str:
        """Run job ``name`` once unless it is still running; returns its outcome (``skipped`` when
        it was running). An error is logged and recorded, not raised."""
        job, status = self.jobs[name], self.status[name]
        if not self._running[name].acquire(blocking=False):
            log.warning("job %s: still running; this tick is skipped", name)
            return "skipped"
        try:
            started = time.monotonic()
            with self._status_lock:
                status.outcome, status.started_at = "running", datetime.now(UTC).isoformat(timespec="seconds")
            self._write_status()
            try:
                due, done = run_job(job, pause=self.pause)
            except Exception as exc:  # retried at the next tick
                log.exception("job %s failed", name)
                with self._status_lock:
                    status.runs, status.failures = status.runs + 1, status.failures + 1
                    status.outcome, status.error = "failed", f"{type(exc).__name__}: {exc}"
                    status.seconds, status.due, status.done = round(time.monotonic() - started, 3), None, None
            else:
                seconds = time.monotonic() - started
                (log.info if done else log.debug)("job %s: %d due, %d done in %.3f s", name, due, done, seconds)
                with self._status_lock:
                    status.runs += 1
                    status.outcome, status.error = "ok", None
                    status.seconds, status.due, status.done = round(seconds, 3), due, done
            self._write_status()
            return status.outcome
        finally:
            self._running[name].release()

    def _loop(self, name: str) -> None:
        interval = self.status[name].interval_seconds
        while not self._stop.is_set():
            started = time.monotonic()
            self.tick(name)
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def start(self) -> None:
        for name in self.jobs:
            thread = threading.Thread(target=self._loop, args=(name,), name=f"job:{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker: running %s (pid %s)", ", ".join(self.jobs) or "no jobs", os.getpid())

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop the loops; a run in progress finishes (up to ``timeout``)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _write_status(self) -> None:
        if self.status_path is None:
            return
        with self._status_lock:
            document = {"pid": os.getpid(), "started_at": self.started_at.isoformat(timespec="seconds"),
                        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "jobs": [asdict(s) for s in self.status.values()]}
            temporary = self.status_path.with_name(f".{self.status_path.name}.{os.getpid()}")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, ensure_ascii=False, indent=1)
            os.replace(temporary, self.status_path)


def read_status(path: Path | None = None) -> dict | None:
    """The last status a worker wrote (``worker.json``), or None when there is none."""
    try:
        return json.loads((path or var_dir() / STATUS_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


# --- once per deployment --------------------------------------------------------------------------


class AlreadyRunning(Exception):
    """Another job worker holds the lock of this var dir."""


def hold_lock(path: Path) -> IO:
    """Take the worker lock ``path`` (exclusive, released when the returned file is closed or the
    process ends, however it ends) or raise :class:`AlreadyRunning`."""
    from pingan.files import private_dir

    private_dir(path.parent)
    handle = open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(f"a job worker already runs for {path.parent} (it holds {path})") from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def lock_held(path: Path) -> bool:
    """Whether a job worker holds the lock ``path`` now."""
    try:
        handle = hold_lock(path)
    except AlreadyRunning:
        return True
    handle.close()
    return False


# --- the process ----------------------------------------------------------------------------------


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    """When the process that started this one is gone (killed, say), stop too."""
    while not stop.wait(1.0):
        if os.getppid() != parent_pid:
            log.warning("worker: parent process %s is gone; stopping", parent_pid)
            stop.set()


def serve(*, parent_pid: int | None = None, folder: Path | None = None) -> None:
    """Run the job worker in the foreground until SIGTERM / SIGINT (see the module docstring)."""
    folder = folder or var_dir()
    try:
        lock = hold_lock(folder / LOCK_NAME)
    except AlreadyRunning as exc:
        raise SystemExit(str(exc)) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if parent_pid:
        threading.Thread(target=_watch_parent, args=(parent_pid, stop), name="worker-parent", daemon=True).start()
    worker = Worker(status_path=folder / STATUS_NAME)
    worker.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        worker.stop()
        lock.close()
        log.info("worker: stopped")


class WorkerProcess:
    """The job worker as a child of ``pingan serve``: started before the web workers, restarted
    when it dies (after 1 s, doubling to 30 s while it keeps dying), stopped on exit. When a job
    worker of this var dir already runs (its own unit), none is started."""

    def __init__(self, *, env: dict[str, str] | None = None, folder: Path | None = None):
        self.env = dict(os.environ if env is None else env)
        self.folder = folder or var_dir()
        self.proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and a stop do not cross

    def _spawn(self) -> subprocess.Popen:
        # A session of its own: a Ctrl-C in the terminal reaches `pingan serve`, which stops it.
        return subprocess.Popen([sys.executable, "-m", "pingan.worker", "--parent-pid", str(os.getpid())],
                                env=self.env, start_new_session=True)

    def start(self) -> None:
        if lock_held(self.folder / LOCK_NAME):
            log.warning("worker: a job worker already runs for %s; not starting another", self.folder)
            return
        self.proc = self._spawn()
        threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()

    def _watch(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, 30.0)
            log.warning("worker: the job worker exited with code %s; restarting in %.0f s", code, backoff)
            if self._stopping.wait(backoff):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.proc = self._spawn()

    def stop(self, *, timeout: float = 35.0) -> None:
        self._stopping.set()
        with self._lock:
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def print_status(status: dict | None) -> str:
    """``worker.json`` as lines of text (``pingan worker --status``)."""
    if status is None:
        return "no job worker has run in this var dir yet"
    lines = [f"worker pid {status['pid']}, started {status['started_at']}, status written {status['written_at']}"]
    for job in status["jobs"]:
        line = (f"{job['name']}: every {job['interval_seconds']:g} s, {job['runs']} runs, {job['failures']} failed; "
                f"last {job['outcome'] or 'not yet run'}")
        if job["started_at"]:
            line += f" at {job['started_at']}"
        if job["seconds"] is not None:
            line += f" in {job['seconds']:g} s"
        if job["due"] is not None:
            line += f", {job['due']} due, {job['done']} done"
        if job["error"]:
            line += f" — {job['error']}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pingan.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when this parent process is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    serve(parent_pid=args.parent_pid)


if __name__ == "__main__":
    main()
