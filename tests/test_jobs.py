"""Scheduled jobs (issue 14, decision 0018): declared by the modules, run once per deployment by
the job worker (``pingan worker``), never by a web worker."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SAMPLE = "tests._sample_module"


@pytest.fixture
def sample_installed(monkeypatch):
    """The sample module installed after the others; its job's records cleared."""
    from pingan import modules
    from tests._sample_module import lifecycle

    monkeypatch.setattr(modules, "INSTALLED", (*modules.INSTALLED, SAMPLE))
    lifecycle.steps.clear()
    lifecycle.due_ids[:] = []
    for flag in (lifecycle.failing, lifecycle.hold, lifecycle.in_due, lifecycle.release_hold, lifecycle.job_ran):
        flag.clear()
    yield lifecycle
    lifecycle.release_hold.set()


def test_the_worker_runs_the_jobs_every_installed_module_declares(sample_installed):
    from pingan.registry import installed, scheduled_jobs
    from pingan.worker import Worker

    declared = [job.name for module in installed() for job in module.jobs]
    assert {"escalation", "clocks.flag"} <= set(declared) and declared[-1] == "sample"  # the list's order
    assert [job.name for job in scheduled_jobs()] == declared
    assert list(Worker().jobs) == declared


def test_two_jobs_of_one_name_are_refused(monkeypatch):
    from pingan import registry
    from pingan.registry import Job, Module

    twins = (Module("a", ("甲", "a"), jobs=(Job("same", due="x:y", run="x:z", interval_seconds=lambda: 1.0),)),
             Module("b", ("乙", "b"), jobs=(Job("same", due="x:y", run="x:z", interval_seconds=lambda: 1.0),)))
    monkeypatch.setattr(registry, "installed", lambda names=None: twins)
    with pytest.raises(ValueError, match="share a name"):
        registry.scheduled_jobs()


def test_a_job_gets_its_due_ids_a_batch_at_a_time_each_step_in_its_own_unit_of_work(db, sample_installed, tmp_path):
    from pingan.worker import Worker, read_status

    sample_installed.due_ids[:] = [1, 2, 3, 4, 5]
    worker = Worker(status_path=tmp_path / "worker.json", pause=0)
    assert worker.tick("sample") == "ok"
    assert sample_installed.steps == [("due", "job:sample", None), ("run", "job:sample", [1, 2]),
                                      ("run", "job:sample", [3, 4]), ("run", "job:sample", [5])]
    status = {job["name"]: job for job in read_status(tmp_path / "worker.json")["jobs"]}["sample"]
    assert (status["runs"], status["failures"], status["outcome"], status["due"], status["done"]) == (1, 0, "ok", 5, 3)
    assert status["error"] is None and status["started_at"] and status["seconds"] is not None
    assert os.stat(tmp_path / "worker.json").st_mode & 0o777 == 0o600


def test_a_job_with_nothing_due_runs_no_batch(db, sample_installed):
    from pingan.worker import Worker

    assert Worker(pause=0).tick("sample") == "ok"
    assert sample_installed.steps == [("due", "job:sample", None)]


def test_a_failing_job_is_logged_and_runs_again_at_its_next_tick(db, sample_installed, tmp_path, caplog):
    from pingan.worker import Worker, read_status

    worker = Worker(status_path=tmp_path / "worker.json", pause=0)
    sample_installed.failing.set()
    with caplog.at_level(logging.ERROR, logger="pingan.worker"):
        assert worker.tick("sample") == "failed"
    assert "job sample failed" in caplog.text and "the sample job fails" in caplog.text
    status = read_status(tmp_path / "worker.json")["jobs"][-1]
    assert (status["outcome"], status["failures"], status["error"]) == ("failed", 1,
                                                                        "RuntimeError: the sample job fails")
    sample_installed.failing.clear()
    sample_installed.due_ids[:] = [7]
    assert worker.tick("sample") == "ok"
    status = read_status(tmp_path / "worker.json")["jobs"][-1]
    assert (status["outcome"], status["runs"], status["failures"], status["done"]) == ("ok", 2, 1, 1)


def test_a_job_still_running_is_not_started_again(db, sample_installed, caplog):
    from pingan.worker import Worker

    worker = Worker(pause=0)
    sample_installed.hold.set()
    first = threading.Thread(target=worker.tick, args=("sample",))
    first.start()
    assert sample_installed.in_due.wait(60)
    assert worker.status["sample"].outcome == "running"
    with caplog.at_level(logging.WARNING, logger="pingan.worker"):
        assert worker.tick("sample") == "skipped"
    assert "still running" in caplog.text
    sample_installed.release_hold.set()
    first.join(60)
    assert [step for step, _, _ in sample_installed.steps] == ["due"]  # the skipped tick did not begin
    assert worker.status["sample"].runs == 1


def test_the_worker_runs_each_job_on_a_thread_of_its_own_until_stopped(db, monkeypatch, sample_installed):
    from pingan import modules
    from pingan.worker import Worker

    monkeypatch.setattr(modules, "INSTALLED", (SAMPLE,))
    sample_installed.due_ids[:] = [1]
    worker = Worker(pause=0)
    worker.start()
    try:
        assert sample_installed.job_ran.wait(60)
    finally:
        worker.stop()
    assert not any(t.name == "job:sample" and t.is_alive() for t in threading.enumerate())
    assert worker.status["sample"].runs >= 1


def test_one_worker_per_var_dir(tmp_path):
    from pingan.worker import AlreadyRunning, hold_lock, lock_held

    path = tmp_path / "var" / "worker.lock"
    assert not lock_held(path)
    held = hold_lock(path)
    assert lock_held(path)
    with pytest.raises(AlreadyRunning):
        hold_lock(path)
    held.close()
    assert not lock_held(path)


def test_the_status_reads_as_text(db, sample_installed, tmp_path):
    from pingan.worker import Worker, print_status, read_status

    assert read_status(tmp_path / "none.json") is None
    assert print_status(None) == "no job worker has run in this var dir yet"
    sample_installed.due_ids[:] = [1, 2]
    worker = Worker(status_path=tmp_path / "worker.json", pause=0)
    worker.tick("sample")
    text = print_status(read_status(tmp_path / "worker.json"))
    assert "escalation: every 5 s, 0 runs, 0 failed; last not yet run" in text
    assert "sample: every 0 s, 1 runs, 0 failed; last ok at " in text and ", 2 due, 1 done" in text


# --- the web app runs none ------------------------------------------------------------------------


def test_a_web_app_never_runs_a_job(db, monkeypatch, sample_installed):
    """With its background work on, the web app starts the modules' warm-ups and no job."""
    from fastapi.testclient import TestClient

    from pingan import modules
    from pingan.app import create_app

    monkeypatch.setattr(modules, "INSTALLED", (SAMPLE,))
    sample_installed.events.clear()
    with TestClient(create_app(background_jobs=True), base_url="http://testserver") as client:
        assert client.get("/healthz").status_code == 200
        assert sample_installed.events == ["start"]
    assert sample_installed.steps == []
    assert not any(t.name.startswith("job:") for t in threading.enumerate())
    source = (Path(__file__).parents[1] / "src" / "pingan" / "app.py").read_text(encoding="utf-8")
    assert ".jobs" not in source and "scheduled_jobs" not in source


# --- the process ------------------------------------------------------------------------------------


def _wait_for(condition, what: str, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.1)
    return value


def _status(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "worker.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _escalation_ran(folder: Path) -> dict | None:
    status = _status(folder)
    jobs = {job["name"]: job for job in (status or {}).get("jobs", [])}
    return status if jobs.get("escalation", {}).get("outcome") == "ok" else None


def test_pingan_worker_runs_the_jobs_once_per_var_dir_and_stops_on_sigterm(engine, tmp_path):
    env = {**os.environ, "PINGAN_VAR_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "pingan.worker"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        status = _wait_for(lambda: _escalation_ran(tmp_path), "the escalation job ran")
        assert status["pid"] == proc.pid
        second = subprocess.run([sys.executable, "-m", "pingan.worker"], env=env, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode != 0 and "a job worker already runs" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "worker: stopped" in err


def test_pingan_serve_keeps_one_worker_running(engine, tmp_path):
    """``pingan serve``'s child: started, restarted when it dies, stopped with the server."""
    from pingan.worker import WorkerProcess, lock_held

    child = WorkerProcess(env={**os.environ, "PINGAN_VAR_DIR": str(tmp_path)}, folder=tmp_path)
    child.start()
    try:
        first = _wait_for(lambda: _escalation_ran(tmp_path), "the worker ran")["pid"]
        assert first == child.proc.pid
        os.kill(first, signal.SIGKILL)
        _wait_for(lambda: (_escalation_ran(tmp_path) or {}).get("pid") not in (None, first), "a new worker ran")
        other = WorkerProcess(env={**os.environ, "PINGAN_VAR_DIR": str(tmp_path)}, folder=tmp_path)
        other.start()  # one runs already: none started
        assert other.proc is None
    finally:
        child.stop()
    assert child.proc.poll() is not None
    assert not lock_held(tmp_path / "worker.lock")
