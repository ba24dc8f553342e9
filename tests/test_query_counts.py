"""How many SQL statements each page and API read sends, against baselines (NetBox's
query_counts.json): a page that starts issuing more statements fails here.

Every GET case of every installed module's matrix fragment (tests/<module>/test_matrix.py) that
answers 200 is rendered in the matrix's world (tests/matrix.py) by the first role of the matrix
that may open it, on side 'a' — so a module's list and detail pages are counted as soon as its
fragment has them. Each is requested once to warm what a process keeps (the address and grid
indexes, category names) and counted the second time, with the remembered sessions forgotten
(so authenticating is counted every time) and the statistics' dashboard cache emptied. The
savepoints of the harness are not counted.

The baselines are in tests/query_counts.json, per dialect (SQLite and PostgreSQL differ a little).
More statements than recorded fails; fewer passes with a warning, so that the file can be
lowered. ``PINGAN_UPDATE_QUERY_COUNTS=1`` writes what was counted into the file instead.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from tests._db import statements_during
from tests.matrix import ROLES, Case, fragments

BASELINES = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("PINGAN_UPDATE_QUERY_COUNTS") == "1"
HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def counted_cases() -> list[Case]:
    from pingan import modules

    return [case for items in fragments(modules.INSTALLED).values() for case in items
            if case.method == "GET" and case.ok == 200]


def reader(case: Case) -> str | None:
    """The role a page is counted for: the first that gets the page itself; None without credentials."""
    if case.public and not case.credentials:
        return None
    return next(role for role in ROLES if case.expected(role, "a") == 200)


@pytest.fixture(scope="module")
def counted(matrix):
    """{case key: statements} of this run, written to the file at the end when updating."""
    from pingan.geo import matcher, spatial

    patch = pytest.MonkeyPatch()
    for index in (matcher, spatial):  # built once from this world, then never re-checked during a count
        index.invalidate()
        patch.setattr(index, "CHECK_INTERVAL_SECONDS", float("inf"))
    found: dict[str, int] = {}
    yield found
    patch.undo()
    matcher.invalidate()
    spatial.invalidate()
    if UPDATE and found:
        dialect = matrix.connection.dialect.name
        everything = json.loads(BASELINES.read_text(encoding="utf-8")) if BASELINES.exists() else {}
        keys = {f"{c.method} {c.path}" for c in counted_cases()}  # a page gone leaves no baseline behind
        kept = {k: v for k, v in everything.get(dialect, {}).items() if k in keys}
        everything[dialect] = dict(sorted({**kept, **found}.items()))
        BASELINES.write_text(json.dumps(dict(sorted(everything.items())), ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")


def count(matrix, case: Case) -> int:
    from pingan.auth import recent
    from pingan.stats import dashboard

    matrix.prepare(case.needs)
    role = reader(case)
    warm = matrix.send(case, "a", role)
    assert warm.status_code == 200, (case.key, role, warm.status_code)
    recent.forget_all()
    dashboard.clear_cache()
    statements, resp = statements_during(matrix.connection.engine, lambda: matrix.send(case, "a", role))
    assert resp.status_code == 200, (case.key, role, resp.status_code)
    return sum(1 for s in statements if not s.lstrip().upper().startswith(HARNESS))


@pytest.mark.parametrize("case", counted_cases(), ids=lambda c: f"{c.method} {c.path}")
def test_a_page_sends_no_more_statements_than_its_baseline(case, matrix, counted):
    key = f"{case.method} {case.path}"
    now = count(matrix, case)
    counted[key] = now
    if UPDATE:
        return
    baselines = json.loads(BASELINES.read_text(encoding="utf-8")) if BASELINES.exists() else {}
    recorded = baselines.get(matrix.connection.dialect.name, {}).get(key)
    how = "PINGAN_UPDATE_QUERY_COUNTS=1 pytest tests/test_query_counts.py rewrites tests/query_counts.json"
    assert recorded is not None, f"{key} has no baseline ({now} statements now): {how}"
    assert now <= recorded, f"{key} sends {now} SQL statements, {recorded} before; if that is right, {how}"
    if now < recorded:
        warnings.warn(f"{key} sends {now} SQL statements, fewer than the {recorded} recorded: {how}", stacklevel=1)


def test_every_baseline_is_a_page_that_is_counted(engine):
    """A page renamed or removed leaves no baseline behind."""
    if UPDATE:
        pytest.skip("the baselines are being written")
    recorded = json.loads(BASELINES.read_text(encoding="utf-8")).get(engine.dialect.name, {})
    keys = {f"{c.method} {c.path}" for c in counted_cases()}
    assert recorded.keys() <= keys, f"baselines of pages that are not counted: {sorted(recorded.keys() - keys)}"
