"""``pingan demo``: generates into PINGAN_DATABASE_URL, prints the accounts, refuses to overwrite
an existing bureau without --reset (or keeps it with --if-empty), and rejects a bad city code
before touching anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.db.session import reset_engine_cache


@pytest.fixture
def cli(fresh_url, monkeypatch):
    monkeypatch.setenv("PINGAN_DATABASE_URL", fresh_url)
    reset_engine_cache()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    reset_engine_cache()


def org_unit_count() -> int:
    from pingan.db.session import get_engine
    from pingan.org.models import OrgUnit

    with get_engine().connect() as conn:
        return conn.scalar(select(func.count()).select_from(OrgUnit))


def test_demo_generates_refuses_to_overwrite_and_resets(cli):
    first = cli("demo", "--scale", "tiny", "--seed", "3")
    assert first.exit_code == 0, first.output
    for username in ("admin", "dispatcher", "chief", "patrol", "community", "auditor"):
        assert username in first.output
    assert "pingan-demo" in first.output and "新乡市" in first.output
    units = org_unit_count()
    assert units > 10

    again = cli("demo", "--scale", "tiny", "--seed", "3")
    assert again.exit_code == 2
    assert "--reset" in again.output
    assert org_unit_count() == units

    kept = cli("demo", "--scale", "tiny", "--if-empty")  # `make demo` a second time
    assert kept.exit_code == 0, kept.output
    assert "保留现有数据" in kept.output and "dispatcher" in kept.output and "pingan-demo" in kept.output
    assert org_unit_count() == units

    reset = cli("demo", "--scale", "tiny", "--seed", "3", "--reset")
    assert reset.exit_code == 0, reset.output
    assert org_unit_count() == units  # the same seed builds the same bureau again


def test_a_bad_city_code_is_refused_before_anything_is_written(cli):
    result = cli("demo", "--scale", "tiny", "--city", "999999", "--reset")
    assert result.exit_code == 2
    assert "不是地级市" in result.output and "not a prefecture-level city" in result.output
    no_counties = cli("demo", "--scale", "tiny", "--city", "441900")  # 东莞市: townships straight under the city
    assert no_counties.exit_code == 2 and "441900" in no_counties.output
