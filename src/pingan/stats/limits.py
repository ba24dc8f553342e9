"""Bounds on a statistics request (统计请求的限度): what one web request may ask of the engine.

Every route and page that runs the engine takes its store from :func:`statistics_store` (issuing
a report from :func:`report_store`), which

- lets at most ``PINGAN_STATS_CONCURRENCY_PER_USER`` (4) statistics requests of one user run at
  once in a worker process (``IN_FLIGHT``); beyond that, 429 (统计请求过多) with ``Retry-After``.
  A dashboard sends its page and then three parts at once (the trend, the breakdowns, the map's
  values), so four lets it load while one client cannot take a worker's threads for itself;
- gives the request a time budget, ``PINGAN_STATS_REQUEST_TIMEOUT_SECONDS`` (10 s; 0: none):
  every statement it sends carries what is left of it, the statistics process interrupts a
  statement still running when it is spent, and the request gets a 503 (统计查询超时,
  ``Retry-After``) — no request holds a worker, nor the statistics process's CPU, longer. The CLI
  and issuing a report (minutes at a province's scale) have no budget.

What a request names is bounded too (:func:`distinct`): repeated KPIs, cuts and filters count
once; at most ``PINGAN_STATS_MAX_KPIS`` (30) KPIs, ``PINGAN_STATS_MAX_CUTS`` (3) cuts (``by``)
and ``PINGAN_STATS_MAX_FILTERS`` (10) filters — 422 naming the field and the first one beyond.
The pages ask for one cut and at most two filters, the work summary for one cut; 21 KPIs are
declared today, and a client naming each of them is within bounds. The period itself is bounded
by ``stats.period`` (years 1971–2999, a custom range under ten years).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Hashable, Iterable, Iterator
from contextlib import contextmanager

from fastapi import Depends

from pingan.auth.actor import Actor
from pingan.config import get_settings
from pingan.errors import TooManyRequests, ValidationFailed
from pingan.stats.store import Store, deadline_var, get_store
from pingan.web.deps import current_actor

BUSY_RETRY_AFTER = 2  # seconds: a dashboard's parts take well under that


def current_store() -> Store:
    """The statistics store — in a web worker, the client of the statistics process, whose
    absence is a 503 (``errors.Unavailable``) — as a dependency, so that tests can give their own."""
    return get_store()


class InFlight:
    """How many requests of each key (a user) run at once in this process, at most ``limit``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Hashable, int] = {}

    @contextmanager
    def hold(self, key: Hashable, limit: int) -> Iterator[None]:
        """One of ``key``'s places for the block; 429 when all ``limit`` of them are taken."""
        with self._lock:
            running = self._running.get(key, 0)
            if running >= limit:
                raise _busy(limit)
            self._running[key] = running + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[key] - 1
                if left:
                    self._running[key] = left
                else:
                    del self._running[key]

    def running(self, key: Hashable) -> int:
        with self._lock:
            return self._running.get(key, 0)


IN_FLIGHT = InFlight()


def _busy(limit: int) -> TooManyRequests:
    error = TooManyRequests(f"统计请求过多：同一用户最多同时进行 {limit} 个统计请求，请等当前的完成后重试",
                            f"Too many statistics requests at once (at most {limit} per user); "
                            "wait for the running ones to finish and try again")
    error.retry_after = BUSY_RETRY_AFTER
    return error


def actor_key(actor: Actor) -> Hashable:
    return actor.user_id if actor.user_id is not None else actor.username


@contextmanager
def bounded(actor: Actor, *, budget: float | None) -> Iterator[None]:
    """The block as one statistics request of ``actor``: a place among theirs (``IN_FLIGHT``) and,
    when ``budget`` (seconds) is given, a deadline for the statistics it reads."""
    with IN_FLIGHT.hold(actor_key(actor), get_settings().stats_concurrency_per_user):
        previous = deadline_var.get()
        if budget:
            deadline_var.set(time.monotonic() + budget)
        try:
            yield
        finally:
            deadline_var.set(previous)


async def statistics_store(store: Store = Depends(current_store),
                           actor: Actor = Depends(current_actor)) -> AsyncIterator[Store]:
    """The store for a web request that runs the engine, within the request's bounds (see the
    module docstring). Async: taking a place costs no thread hop, and the deadline it sets is in
    the request's context, which the handler's thread copies."""
    with bounded(actor, budget=get_settings().stats_request_timeout_seconds):
        yield store


async def report_store(store: Store = Depends(current_store),
                       actor: Actor = Depends(current_actor)) -> AsyncIterator[Store]:
    """The store for issuing a report: a place among the user's, and no time budget."""
    with bounded(actor, budget=None):
        yield store


# Released as the handler returns (not after the response is sent): "function" scope.
STATISTICS_STORE = Depends(statistics_store, scope="function")
REPORT_STORE = Depends(report_store, scope="function")


# --- what a request names -------------------------------------------------------------------------


def distinct(values: Iterable[str], *, field: str, limit: int, zh: str, en: str) -> list[str]:
    """``values`` without repeats (first occurrence kept), at most ``limit`` of them: 422 naming
    ``field`` and the first value beyond (``zh`` / ``en``: what they are, e.g. 指标 / KPIs)."""
    wanted = list(dict.fromkeys(values))
    if len(wanted) > limit:
        beyond = wanted[limit][:40]
        raise ValidationFailed(f"{field}：一次最多 {limit} 个{zh}，「{beyond}」是第 {limit + 1} 个",
                               f"{field}: at most {limit} {en} per request; {beyond!r} is number {limit + 1}",
                               field=field)
    return wanted


def kpi_slugs(values: Iterable[str]) -> list[str]:
    return distinct(values, field="kpi", limit=get_settings().stats_max_kpis, zh="指标", en="KPIs")


def cut_names(values: Iterable[str]) -> list[str]:
    return distinct(values, field="by", limit=get_settings().stats_max_cuts, zh="维度", en="cuts")


def filter_texts(values: Iterable[str]) -> list[str]:
    return distinct(values, field="filter", limit=get_settings().stats_max_filters, zh="筛选条件", en="filters")
