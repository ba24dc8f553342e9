"""Browser-test fixtures: a real server on its own fresh database, and headless Chromium.

The server is ``uvicorn pingan.asgi:app`` in a subprocess on a free loopback port, with the
background jobs on, and the statistics process next to it (``stats.server.StatsProcess``, as
``pingan serve`` starts it). Its database is new for the run (an SQLite file, or a fresh PostgreSQL
database when PINGAN_TEST_DATABASE_URL is set: tests/_db.py), migrated with the real migrations and seeded
with ``tests.factories.build_world`` in one committed unit of work. Chromium is Debian's
(/usr/bin/chromium) driven by Playwright.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests._db import fresh_database, migrated_engine

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SERVER_LOG = Path(tempfile.gettempdir()) / "pingan-browser-server.log"


@dataclass
class LiveServer:
    url: str
    engine: Engine
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(engine: Engine) -> None:
    """The test world plus a second dispatcher, committed."""
    from pingan.db.unit_of_work import unit_of_work_on
    from pingan.org import service as org_service
    from pingan.org.models import Role
    from tests.factories import PASSWORD, build_world

    with unit_of_work_on(engine) as db:
        world = build_world(db)
        org_service.create_user(db=db, username="dispatcher2", password=PASSWORD, display_name="dispatcher2",
                                role=Role.DISPATCHER, org_unit_id=world.org["command"].id)


def _wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {SERVER_LOG}:\n{SERVER_LOG.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {seconds} s; see {SERVER_LOG}")


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    workdir = tempfile.mkdtemp(prefix="pingan-browser-")
    url, drop = fresh_database("pingan_test_browser")
    engine = migrated_engine(url)
    _seed(engine)
    port = _free_port()
    env = {**os.environ, "PINGAN_DATABASE_URL": url, "PINGAN_BACKGROUND_JOBS": "1", "PINGAN_STATS_SYNC_SECONDS": "1",
           "PINGAN_VAR_DIR": workdir, "PINGAN_SECRET_KEY": os.environ.get("PINGAN_SECRET_KEY", uuid.uuid4().hex)}
    from pingan.stats.server import StatsProcess

    stats = StatsProcess(socket_path=os.path.join(workdir, "stats.sock"), env=env)
    stats.start()
    log = SERVER_LOG.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "pingan.asgi:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--timeout-graceful-shutdown", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc)
        yield LiveServer(url=base, engine=engine, log=SERVER_LOG)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stats.stop()
        log.close()
        engine.dispose()
        drop()


def wait_until(page, expression: str, timeout_ms: float = 20_000) -> None:
    """Until ``expression`` is truthy in the page. ``page.wait_for_function`` compiles a string
    with eval inside the page, which the Content-Security-Policy (no 'unsafe-eval') refuses;
    ``page.evaluate`` goes through the DevTools protocol, which the policy does not govern."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_ms} ms: {expression}")
        page.wait_for_timeout(100)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Chromium for one test module. Playwright's sync API keeps an event loop running in the main
    thread while it is open, so it is closed after each module: open for the whole session, it broke
    every async (anyio) test that ran after the browser tests."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (scripts/system_deps.sh)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
