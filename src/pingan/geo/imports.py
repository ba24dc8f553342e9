"""Bulk import of standard addresses (批量导入标准地址) from CSV or XLSX — all or nothing.

Every row is validated first (columns, codes against the national division list, duplicate
codes within the file and against the database); if any row fails, nothing is written and the
report names each failing row, column and reason in Chinese and English. Each address gets
its grid by point lookup (polygon, else the nearest grid within 3 km) and, when its building /
unit / house is in the same file, its parent address.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.geo import matcher, repository
from pingan.geo.models import Address
from pingan.geo.schemas import AddressImportRow
from pingan.geo.spatial import GridIndex, get_grid_index
from pingan.tabular import ImportReport, read_rows, validate_row

REQUIRED_COLUMNS = ["code", "full_text", "county_code", "division_code", "lat", "lon"]
OPTIONAL_COLUMNS = ["road", "house_no", "place_name", "building", "unit_no", "room"]
BATCH = 2000

Progress = Callable[[str, int, int | None], None]  # (phase, done, total)


def _identity(row: AddressImportRow) -> tuple:
    return (row.division_code, row.road or "", row.house_no or "", row.place_name or "", row.building or "",
            row.unit_no or "", row.room or "")


def _parent_identity(row: AddressImportRow) -> tuple | None:
    ident = list(_identity(row))
    for i in (6, 5, 4):  # room → unit → building
        if ident[i]:
            ident[i] = ""
            return tuple(ident)
    return None


def check_in_area(report: ImportReport, grids: GridIndex, number: int, lat: float, lon: float) -> None:
    """A row error when a row's point lies outside the bureau's area (its grids' extent, with a
    margin: ``GridIndex.in_area``) — a swapped latitude and longitude, another city's file."""
    if not grids.in_area(lat, lon):
        report.add(number, "lat", f"坐标（{lat}, {lon}）不在本局辖区范围内",
                   f"the point ({lat}, {lon}) lies outside the bureau's area")


def import_addresses(*, db: Session, actor: Actor, path: str | Path,
                     progress: Progress | None = None) -> ImportReport:
    """Validate every row, then write all of them or none. Flushes, never commits."""
    report = ImportReport()
    valid: list[tuple[int, AddressImportRow]] = []
    first_row_of: dict[str, int] = {}
    grids = get_grid_index(db)
    for number, record in read_rows(path, required=REQUIRED_COLUMNS, report=report):
        report.total += 1
        row = validate_row(AddressImportRow, number, record, report)
        if progress and report.total % 500 == 0:
            progress("validate", report.total, None)
        if row is None:
            continue
        for column, zh, en in row.problems():
            report.add(number, column, zh, en)
        check_in_area(report, grids, number, row.lat, row.lon)
        if row.code in first_row_of:
            first = first_row_of[row.code]
            report.add(number, "code", f"编码 {row.code} 与第 {first} 行重复",
                       f"code {row.code} repeats row {first}")
            continue
        first_row_of[row.code] = number
        valid.append((number, row))
    if progress:
        progress("validate", report.total, report.total)
    taken = repository.existing_address_codes_unscoped(db=db, codes=first_row_of)
    for number, row in valid:
        if row.code in taken:
            report.add(number, "code", f"编码 {row.code} 已存在", f"code {row.code} already exists")
    if report.total == 0:
        report.add(1, "file", "文件中没有数据行", "The file has no data rows")
    if not report.ok:
        report.errors.sort(key=lambda e: e.row)
        return report

    by_identity: dict[tuple, Address] = {}
    pending: list[tuple[AddressImportRow, Address]] = []
    for done, (_number, row) in enumerate(valid, start=1):
        address = Address(
            code=row.code, full_text=row.full_text, county_code=row.county_code, division_code=row.division_code,
            road=row.road, house_no=row.house_no, place_name=row.place_name, building=row.building,
            unit_no=row.unit_no, room=row.room, lat=row.lat, lon=row.lon, level=row.level,
            grid_id=grids.lookup(row.lat, row.lon),
        )
        by_identity.setdefault(_identity(row), address)
        pending.append((row, address))
        db.add(address)
        if done % BATCH == 0:
            db.flush()
            if progress:
                progress("write", done, len(valid))
    db.flush()
    # Link each building / unit / room to its parent address from the same file.
    for row, address in pending:
        parent_key = _parent_identity(row)
        while parent_key is not None:
            parent = by_identity.get(parent_key)
            if parent is not None and parent is not address:
                address.parent_id = parent.id
                break
            ident = list(parent_key)
            parent_key = None
            for i in (5, 4):
                if ident[i]:
                    ident[i] = ""
                    parent_key = tuple(ident)
                    break
    db.flush()
    if progress:
        progress("write", len(valid), len(valid))
    report.imported = len(valid)
    matcher.invalidate()
    return report
