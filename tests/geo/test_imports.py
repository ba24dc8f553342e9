"""Address import (all or nothing) and the geo CLI commands."""

import csv
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from pingan.auth.actor import Actor
from pingan.geo.imports import import_addresses
from pingan.geo.models import Address
from pingan.tabular import FileFormatError
from tests.geo.conftest import HONGQI, WEIBIN

COLUMNS = ["code", "full_text", "county_code", "division_code", "road", "house_no", "place_name", "building",
           "unit_no", "room", "lat", "lon"]
GOOD = [
    ["N001", f"{HONGQI}和平路1号", "410702", "410702001001", "和平路", "1号", "", "", "", "", "35.3055", "113.9055"],
    ["N002", f"{HONGQI}和平路1号1号楼", "410702", "410702001001", "和平路", "1号", "", "1号楼", "", "", "35.3055",
     "113.9055"],
    ["N003", f"{HONGQI}和平路1号1号楼1单元101室", "410702", "410702001001", "和平路", "1号", "", "1号楼", "1单元",
     "101室", "35.3055", "113.9055"],
    ["N004", f"{WEIBIN}李庄村3号", "410703", "410703001001", "", "3号", "李庄村", "", "", "", "35.3050",
     "113.8650"],  # just east of grid b: nearest grid
    ["N005", "河南省新乡市远处1号", "410702", "410702001001", "远路", "1号", "", "", "", "", "35.3600", "113.9600"],
]


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)
    return path


def system(world):
    return Actor.system(world.org["bureau"].id, world.org["bureau"].path)


def count(db):
    return db.scalar(select(func.count()).select_from(Address))


def test_a_good_file_imports_with_grids_and_parents(db, world, tmp_path):
    before = count(db)
    report = import_addresses(db=db, actor=system(world), path=write_csv(tmp_path / "a.csv", GOOD))
    assert report.ok and report.total == 5 and report.imported == 5
    assert count(db) == before + 5
    rows = {a.code: a for a in db.scalars(select(Address).where(Address.code.like("N%")))}
    assert rows["N001"].grid_id == world.grids["a"].id and rows["N001"].level == 1
    assert rows["N004"].grid_id == world.grids["b"].id  # nearest within 3 km
    assert rows["N005"].grid_id is None  # far from every grid, inside the area
    assert rows["N002"].parent_id == rows["N001"].id and rows["N002"].level == 2
    assert rows["N003"].parent_id == rows["N002"].id and rows["N003"].level == 4


def test_the_imported_addresses_can_be_matched_at_once(db, world, tmp_path):
    from pingan.geo import service

    import_addresses(db=db, actor=system(world), path=write_csv(tmp_path / "a.csv", GOOD))
    dispatcher = Actor.system(world.org["bureau"].id, world.org["bureau"].path)
    best = service.match_address(db=db, actor=dispatcher, text="红旗区和平路1号1-1-101")[0]
    assert best.full_text.endswith("和平路1号1号楼1单元101室") and best.score >= 0.6


def test_xlsx_is_read_too(db, world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    ws.append(GOOD[0][:10] + [35.3055, 113.9055])
    path = tmp_path / "a.xlsx"
    wb.save(path)
    report = import_addresses(db=db, actor=system(world), path=path)
    assert report.ok and report.imported == 1


def test_a_file_with_bad_rows_imports_nothing_and_names_every_row(db, world, tmp_path):
    bad = [
        GOOD[0],
        ["N010", "坏的区县", "999999", "999999001001", "和平路", "2号", "", "", "", "", "35.3", "113.9"],
        ["N011", "纬度超界", "410702", "410702001001", "和平路", "3号", "", "", "", "", "95", "113.9"],
        ["N012", "社区不在区县内", "410702", "410703001001", "和平路", "4号", "", "", "", "", "35.3", "113.9"],
        ["N001", "编码重复", "410702", "410702001001", "和平路", "5号", "", "", "", "", "35.3", "113.9"],
        ["A00000001", "编码已存在", "410702", "410702001001", "和平路", "6号", "", "", "", "", "35.3", "113.9"],
        ["N013", "没有路也没有小区", "410702", "410702001001", "", "", "", "", "", "", "35.3", "113.9"],
        ["N014", "经度不是数字", "410702", "410702001001", "和平路", "7号", "", "", "", "", "35.3", "东经"],
    ]
    before = count(db)
    report = import_addresses(db=db, actor=system(world), path=write_csv(tmp_path / "bad.csv", bad))
    assert not report.ok and report.imported == 0
    assert count(db) == before
    by_row = {(e.row, e.column) for e in report.errors}
    assert (3, "county_code") in by_row
    assert (4, "lat") in by_row
    assert (5, "division_code") in by_row
    assert (6, "code") in by_row and (7, "code") in by_row
    assert (8, "road") in by_row
    assert (9, "lon") in by_row
    assert 2 not in {e.row for e in report.errors}
    dup = next(e for e in report.errors if e.row == 6)
    assert "第 2 行重复" in dup.message and "repeats row 2" in dup.message_en
    assert all(e.message and e.message_en for e in report.errors)
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)


def test_missing_columns_and_unknown_file_types_are_refused(db, world, tmp_path):
    with pytest.raises(FileFormatError) as err:
        import_addresses(db=db, actor=system(world), path=write_csv(tmp_path / "c.csv", [["x"]], ["code"]))
    assert "full_text" in err.value.zh
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(FileFormatError):
        import_addresses(db=db, actor=system(world), path=tmp_path / "a.txt")


# --- the CLI -------------------------------------------------------------------------------

@pytest.fixture
def cli():
    from pingan.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_import_addresses(db, world, tmp_path, cli):
    before = count(db)
    result = cli("import", "addresses", str(write_csv(tmp_path / "a.csv", GOOD)))
    assert result.exit_code == 0, result.output
    assert "已导入 5 条标准地址" in result.output
    assert count(db) == before + 5


def test_cli_import_refuses_a_bad_file_and_lists_the_rows(db, world, tmp_path, cli):
    bad = [GOOD[0], ["N020", "纬度超界", "410702", "410702001001", "和平路", "2号", "", "", "", "", "95", "113.9"]]
    before = count(db)
    result = cli("import", "addresses", str(write_csv(tmp_path / "bad.csv", bad)), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["imported"] == 0 and report["errors"][0]["row"] == 3 and report["errors"][0]["column"] == "lat"
    assert count(db) == before
    plain = cli("import", "addresses", str(write_csv(tmp_path / "bad.csv", bad)))
    assert plain.exit_code == 1 and "未写入任何数据" in plain.output and "第 3 行" in plain.output


def test_cli_address_parse(db, registry, cli):
    result = cli("address", "parse", "紅旗區平原路123號5-2-301", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["division"]["county"]["code"] == "410702"
    assert body["candidates"][0]["address_id"] == registry["5-2-301"].id
    table = cli("address", "parse", "湖北襄樊")
    assert table.exit_code == 0 and "襄阳市" in table.output and "420600" in table.output


def test_a_header_naming_a_column_twice_is_refused(db, world, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [GOOD[0] + ["35.3"]], columns=COLUMNS + ["lat"])
    with pytest.raises(FileFormatError) as caught:
        import_addresses(db=db, actor=system(world), path=path)
    assert caught.value.zh == "列名重复：lat" and caught.value.en == "Duplicate columns: lat"


def test_a_point_outside_the_bureaus_area_is_a_row_error(db, world, tmp_path):
    swapped = GOOD[0][:10] + ["113.9055", "35.3055"]  # latitude and longitude swapped
    far = ["N099"] + GOOD[1][1:10] + ["39.9", "116.4"]  # Beijing
    report = import_addresses(db=db, actor=system(world), path=write_csv(tmp_path / "far.csv", [swapped, far]))
    assert {(e.row, e.column) for e in report.errors} == {(2, "lat"), (3, "lat")}
    beijing = report.errors[1]
    assert "不在本局辖区范围内" in beijing.message and "outside the bureau's area" in beijing.message_en


def test_a_csv_cell_over_the_field_limit_or_with_nul_is_a_row_error(db, world, tmp_path):
    huge = GOOD[1][:1] + ["x" * (csv.field_size_limit() + 10)] + GOOD[1][2:]
    nul = ["N098", "东街\x00", *GOOD[2][2:]]
    report = import_addresses(db=db, actor=system(world), path=write_csv(tmp_path / "big.csv", [GOOD[0], nul, huge]))
    assert not report.ok and report.imported == 0
    assert [(e.row, e.column) for e in report.errors] == [(3, "full_text"), (4, "file")]
    assert "NUL" in report.errors[0].message_en and "field larger than field limit" in report.errors[1].message_en
