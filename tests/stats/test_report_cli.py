"""``pingan report``: issues (freezes) a work summary and writes it; ``--id`` writes an issued one
again, byte for byte; a bad org unit, period or option is a bilingual error with exit code 2."""

from __future__ import annotations

import hashlib

import docx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.stats.models import StatsReport
from tests.stats.conftest import make_incident


@pytest.fixture
def cli(db, world, store, monkeypatch):
    """The CLI on the test's transaction (its unit of work joins it) and the test's store."""
    monkeypatch.setattr("pingan.stats.store.get_store", lambda: store)
    make_incident(db, world, at="2025-07-10 09:00:00", side="a", accept=20, arrive=150)
    make_incident(db, world, at="2025-07-11 09:00:00", side="b", accept=40, arrive=300)
    make_incident(db, world, at="2024-07-11 09:00:00", side="b", accept=40, arrive=300)
    store.sync(db=db)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["report", "--no-sync", *args])


def test_issue_then_write_the_issued_report_again(cli, db, tmp_path):
    out = tmp_path / "卫滨分局.docx"
    result = cli("--org", "410703000000", "--period", "2025-Q3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "已签发 / issued" in result.output and "卫滨分局2025年第三季度工作综述" in result.output
    row = db.scalars(select(StatsReport)).one()
    assert row.issued_by_name == "cli:report" and row.issued_by_id is None
    data = out.read_bytes()
    assert hashlib.sha256(data).hexdigest() == row.docx_sha256
    texts = [p.text for p in docx.Document(str(out)).paragraphs if p.text.strip()]
    # 卫滨分局: one incident in Q3 2025 against one in Q3 2024
    assert texts[0] == "卫滨分局2025年第三季度工作综述"
    assert any(t.startswith("全分局接警总数 1 起，同比持平") for t in texts)

    again = tmp_path / "again.docx"
    result = cli("--id", str(row.id), "--out", str(again))
    assert result.exit_code == 0, result.output
    assert "已写出 / written" in result.output
    assert again.read_bytes() == data


@pytest.mark.parametrize("args,zh,en", [
    (["--org", "999", "--period", "2025"], "机构不存在", "no such org unit"),
    (["--period", "2025-13"], "统计周期格式无效", "invalid period"),
    (["--period", "2999"], "尚未开始", "has not begun"),
    ([], "请给出 --period", "--period is required"),
    (["--id", "1", "--period", "2025"], "不能与", "cannot be combined"),
    (["--id", "999999"], "工作综述不存在", "No such report"),
])
def test_errors_are_bilingual_with_exit_code_2(cli, tmp_path, args, zh, en):
    result = cli(*args, "--out", str(tmp_path / "x.docx"))
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert zh in output and en in output
    assert not (tmp_path / "x.docx").exists()


def test_the_output_must_be_a_docx_in_an_existing_directory(cli, tmp_path):
    assert cli("--period", "2025", "--out", str(tmp_path / "x.pdf")).exit_code == 2
    assert cli("--period", "2025", "--out", str(tmp_path / "no" / "x.docx")).exit_code == 2
