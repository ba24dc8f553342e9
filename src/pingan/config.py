"""Settings read from the environment (PINGAN_*), one place for every knob."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pingan.files import write_private_once

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("PINGAN_VAR_DIR", PROJECT_ROOT / "var"))


def _secret_key() -> str:
    """The signing key: from PINGAN_SECRET_KEY, else generated once into var/ (never in the repo),
    0600 in a 0700 var dir, the same for every process of the deployment (``pingan.files``)."""
    env = os.environ.get("PINGAN_SECRET_KEY")
    if env:
        return env
    return write_private_once(VAR_DIR / "secret_key", secrets.token_urlsafe(48))


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    tile_url: str = ""
    timezone: str = "Asia/Shanghai"
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # 'development' or 'production'; production refuses the demo's shared password (auth.policy)
    env: str = "development"
    # proxies whose X-Forwarded-For is believed (IPs or CIDRs); empty: the socket peer is the client
    trusted_proxies: tuple[str, ...] = ()
    # the last-resort account lock (auth.throttle): this many failures for one username from at
    # least this many addresses within the window lock it for everyone without a known device
    login_account_lock_failures: int = 50
    login_account_lock_ips: int = 5
    login_account_lock_minutes: int = 60
    # a session authenticated within this many seconds is not read again (auth.recent); 0: off
    auth_cache_seconds: float = 5.0
    cookie_secure: bool = False
    # who sees the API docs page /api/docs: login (signed-in users), public, or off (no page and
    # no /openapi.json)
    api_docs: str = "login"
    # seconds within which an incident must be accepted (签收), by priority
    accept_target_seconds: dict[int, int] = field(
        default_factory=lambda: {1: 30, 2: 60, 3: 120, 4: 300}
    )
    escalation_interval_seconds: float = 5.0
    # calls a worker takes at once (the rest queue on its event loop; see incident.routes)
    intake_concurrency: int = 2
    city_code: str = "410700"
    # The statistics store (统计库): one DuckDB file per deployment, its memory cap and threads,
    # and how often the statistics process brings it up to date from the operational database.
    stats_path: str = str(VAR_DIR / "stats.duckdb")
    stats_memory_limit: str = "128MB"
    stats_threads: int = 2
    stats_sync_interval_seconds: float = 30.0
    # The statistics process (统计服务, `pingan stats serve`) owns that file and answers on a Unix
    # socket. Where a process reads statistics from (``stats.store.get_store``):
    #   auto     — the statistics process when its socket answers, else the file in this process
    #              (the CLI, tests, a one-process setup);
    #   required — always the statistics process; unreachable → 503 (every web worker);
    #   local    — always the file in this process.
    stats_socket: str = str(VAR_DIR / "stats.sock")
    stats_service: str = "auto"
    stats_query_timeout_seconds: float = 120.0
    # The statistics process runs at this nice value (0: normal priority), so that its full load
    # yields the CPU to the web workers building their address index at start-up.
    stats_nice: int = 10
    # Bounds on one statistics request from the web (stats.limits): its time budget in the
    # statistics process (after it: 503, the statement interrupted; 0: none), how many run at
    # once per user in a worker (a dashboard loads its page, then three parts at once), and
    # how many distinct KPIs, cuts (``by``) and filters one request may name (422 beyond).
    stats_request_timeout_seconds: float = 10.0
    stats_concurrency_per_user: int = 4
    stats_max_kpis: int = 30
    stats_max_cuts: int = 3
    stats_max_filters: int = 10


@lru_cache
def get_settings() -> Settings:
    url = os.environ.get("PINGAN_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'pingan.db'}"
    return Settings(
        database_url=url,
        secret_key=_secret_key(),
        tile_url=os.environ.get("PINGAN_TILE_URL", ""),
        cookie_secure=os.environ.get("PINGAN_COOKIE_SECURE", "") == "1",
        api_docs=_choice("PINGAN_API_DOCS", ("login", "public", "off")),
        env=_choice("PINGAN_ENV", ("development", "production")),
        trusted_proxies=tuple(p.strip() for p in os.environ.get("PINGAN_TRUSTED_PROXIES", "").split(",") if p.strip()),
        auth_cache_seconds=max(0.0, float(os.environ.get("PINGAN_AUTH_CACHE_SECONDS", "5"))),
        city_code=os.environ.get("PINGAN_CITY_CODE", "410700"),
        intake_concurrency=max(1, int(os.environ.get("PINGAN_INTAKE_CONCURRENCY", "2"))),
        stats_path=os.environ.get("PINGAN_STATS_PATH") or str(VAR_DIR / "stats.duckdb"),
        stats_memory_limit=os.environ.get("PINGAN_STATS_MEMORY_LIMIT", "128MB"),
        stats_threads=int(os.environ.get("PINGAN_STATS_THREADS", "2")),
        stats_sync_interval_seconds=float(os.environ.get("PINGAN_STATS_SYNC_SECONDS", "30")),
        stats_socket=os.environ.get("PINGAN_STATS_SOCKET") or str(VAR_DIR / "stats.sock"),
        stats_service=_choice("PINGAN_STATS_SERVICE", ("auto", "required", "local")),
        stats_query_timeout_seconds=float(os.environ.get("PINGAN_STATS_QUERY_TIMEOUT", "120")),
        stats_nice=int(os.environ.get("PINGAN_STATS_NICE", "10")),
        stats_request_timeout_seconds=max(0.0, float(os.environ.get("PINGAN_STATS_REQUEST_TIMEOUT_SECONDS", "10"))),
        stats_concurrency_per_user=max(1, int(os.environ.get("PINGAN_STATS_CONCURRENCY_PER_USER", "4"))),
        stats_max_kpis=max(1, int(os.environ.get("PINGAN_STATS_MAX_KPIS", "30"))),
        stats_max_cuts=max(1, int(os.environ.get("PINGAN_STATS_MAX_CUTS", "3"))),
        stats_max_filters=max(1, int(os.environ.get("PINGAN_STATS_MAX_FILTERS", "10"))),
    )


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    """An environment setting that must be one of ``allowed`` (the first is the default)."""
    value = os.environ.get(name, "").strip().lower() or allowed[0]
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value
