"""Duty-unit import (批量导入警力): all or nothing, row-level errors, CSV and XLSX, and the CLI."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from pingan.auth.actor import Actor
from pingan.org.imports import import_units
from pingan.org.models import DutyUnit, UnitKind, UnitStatus
from pingan.tabular import FileFormatError

COLUMNS = ["call_sign", "kind", "org_unit_code", "lat", "lon", "status"]
STATION_A, STATION_B, OFFICE_A = "410702010000", "410703010000", "410702010100"
GOOD = [
    ["红旗巡9", "巡逻车", STATION_A, "35.3012", "113.9013", ""],
    ["红旗步9", "foot_patrol", STATION_A, "35.3020", "113.9020", "离线"],
    ["卫滨骑1", "骑警", STATION_B, "35.3050", "113.8550", "available"],
    ["卫滨摩1", "摩托", STATION_B, "35.3060", "113.8560", "off_duty"],
]


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def write_xlsx(path, rows, columns=COLUMNS):
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for row in rows:
        # numbers as numbers, as a spreadsheet holds them
        ws.append([float(v) if i in (3, 4) and v.replace(".", "", 1).isdigit() else v for i, v in enumerate(row)])
    wb.save(path)
    return path


def system(world) -> Actor:
    return Actor.system(world.org["bureau"].id, world.org["bureau"].path)


def units(db) -> dict[str, DutyUnit]:
    return {u.call_sign: u for u in db.scalars(select(DutyUnit))}


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(DutyUnit))


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_a_good_file_imports_every_unit(db, world, tmp_path, writer):
    before = count(db)
    path = writer(tmp_path / f"units.{'csv' if writer is write_csv else 'xlsx'}", GOOD)
    report = import_units(db=db, actor=system(world), path=path)
    assert report.ok and report.total == 4 and report.imported == 4
    assert count(db) == before + 4
    got = units(db)
    assert got["红旗巡9"].kind == UnitKind.PATROL_CAR and got["红旗巡9"].org_unit_id == world.org["station_a"].id
    assert got["红旗巡9"].status == UnitStatus.AVAILABLE and got["红旗巡9"].position_at is not None
    assert (got["红旗巡9"].lat, got["红旗巡9"].lon) == (35.3012, 113.9013)
    assert got["红旗步9"].kind == UnitKind.FOOT_PATROL and got["红旗步9"].status == UnitStatus.OFF_DUTY
    assert got["卫滨骑1"].kind == UnitKind.MOUNTED and got["卫滨骑1"].org_unit_id == world.org["station_b"].id
    assert got["卫滨摩1"].kind == UnitKind.MOTORCYCLE and got["卫滨摩1"].status == UnitStatus.OFF_DUTY


BAD = [
    GOOD[0],                                                     # row 2: fine
    ["红旗巡10", "飞艇", STATION_A, "35.30", "113.90", ""],       # row 3: bad kind
    ["红旗巡11", "巡逻车", "999999999999", "35.30", "113.90", ""],  # row 4: unknown org code
    ["红旗巡12", "巡逻车", STATION_A, "95", "113.90", ""],         # row 5: latitude out of range
    ["红旗巡13", "巡逻车", STATION_A, "35.30", "东经113", ""],      # row 6: not a number
    ["红旗巡9", "步巡", STATION_A, "35.30", "113.90", ""],          # row 7: repeats row 2
    ["红旗巡1", "巡逻车", STATION_A, "35.30", "113.90", ""],        # row 8: already in the database
    ["红旗巡14", "巡逻车", OFFICE_A, "35.30", "113.90", ""],        # row 9: an office holds no units
    ["红旗巡15", "巡逻车", STATION_A, "35.30", "113.90", "执行任务"],  # row 10: assigned only by dispatch
    ["", "巡逻车", STATION_A, "35.30", "113.90", ""],              # row 11: no call sign
]
EXPECTED = {(3, "kind"), (4, "org_unit_code"), (5, "lat"), (6, "lon"), (7, "call_sign"), (8, "call_sign"),
            (9, "org_unit_code"), (10, "status"), (11, "call_sign")}


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_a_file_with_bad_rows_imports_nothing_and_names_each_row(db, world, tmp_path, writer):
    before = count(db)
    path = writer(tmp_path / f"bad.{'csv' if writer is write_csv else 'xlsx'}", BAD)
    report = import_units(db=db, actor=system(world), path=path)
    assert not report.ok and report.imported == 0 and report.total == len(BAD)
    assert {(e.row, e.column) for e in report.errors} == EXPECTED
    assert count(db) == before
    by_row = {e.row: e for e in report.errors}
    assert "与第 2 行重复" in by_row[7].message and "repeats row 2" in by_row[7].message_en
    assert "已存在" in by_row[8].message and "already exists" in by_row[8].message_en
    assert "999999999999" in by_row[4].message and "does not exist" in by_row[4].message_en
    assert "巡逻车" in by_row[3].message
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)


def test_units_outside_the_importers_jurisdiction_are_refused(db, world, tmp_path):
    branch_a = world.org["branch_a"]
    actor = Actor.system(branch_a.id, branch_a.path, name="branch-a")
    report = import_units(db=db, actor=actor, path=write_csv(tmp_path / "u.csv", GOOD))
    assert {(e.row, e.column) for e in report.errors} == {(4, "org_unit_code"), (5, "org_unit_code")}
    assert "不在辖区内" in report.errors[0].message


def test_a_missing_column_or_an_empty_file_is_refused(db, world, tmp_path):
    with pytest.raises(FileFormatError) as missing:
        import_units(db=db, actor=system(world), path=write_csv(tmp_path / "m.csv", [["红旗巡9", "巡逻车"]],
                                                                   columns=["call_sign", "kind"]))
    assert "org_unit_code" in missing.value.zh and "lat" in missing.value.en
    report = import_units(db=db, actor=system(world), path=write_csv(tmp_path / "e.csv", []))
    assert not report.ok and report.errors[0].column == "file"


@pytest.fixture
def cli(db):
    from pingan.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_import_units(db, world, tmp_path, cli):
    before = count(db)
    result = cli("import", "units", str(write_xlsx(tmp_path / "u.xlsx", GOOD)))
    assert result.exit_code == 0, result.output
    assert "已导入 4 个警力" in result.output and "imported 4 duty units" in result.output
    assert count(db) == before + 4


def test_cli_refuses_a_bad_file_and_lists_each_row(db, world, tmp_path, cli):
    before = count(db)
    path = str(write_csv(tmp_path / "bad.csv", BAD))
    result = cli("import", "units", path)
    assert result.exit_code == 2
    assert "未写入任何数据" in result.output and "nothing written" in result.output
    for row, column in EXPECTED:
        assert f"第 {row} 行 [{column}]" in result.output and f"row {row} [{column}]" in result.output
    as_json = cli("import", "units", path, "--json")
    assert as_json.exit_code == 2
    body = json.loads(as_json.output)
    assert body["imported"] == 0 and {(e["row"], e["column"]) for e in body["errors"]} == EXPECTED
    assert count(db) == before
    missing = cli("import", "units", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "文件不存在" in missing.output


def test_duplicate_columns_and_points_outside_the_area_are_refused(db, world, tmp_path):
    with pytest.raises(FileFormatError) as caught:
        import_units(db=db, actor=system(world), path=write_csv(tmp_path / "dup.csv", GOOD, columns=COLUMNS[:-1] + ["kind"]))
    assert "kind" in caught.value.zh and "Duplicate columns: kind" == caught.value.en
    outside = [GOOD[0][:3] + ["113.9013", "35.3012", ""]]  # latitude and longitude swapped
    report = import_units(db=db, actor=system(world), path=write_csv(tmp_path / "far.csv", outside))
    assert [(e.row, e.column) for e in report.errors] == [(2, "lat")] and report.imported == 0
