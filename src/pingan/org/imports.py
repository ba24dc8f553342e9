"""Bulk import of duty units (批量导入警力) from CSV or XLSX — all or nothing.

Columns: ``call_sign``, ``kind`` (patrol_car | foot_patrol | mounted_team | motorcycle, or the
Chinese labels 巡逻车 / 步巡 / 骑警 / 摩托), ``org_unit_code``, ``lat``, ``lon``, and optionally
``status`` (available | off_duty, or 空闲 / 离线). Every row is validated first — the kind, the
coordinates, the org unit (it must exist within the importer's jurisdiction and be a station,
branch or team), call signs repeated within the file or already taken — and if any row fails
nothing is written; the report names each failing row, column and reason in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.db.enum import from_label
from pingan.db.types import utcnow
from pingan.org import repository, service
from pingan.org.models import OrgKind, OrgUnit, UnitKind, UnitStatus
from pingan.tabular import ImportReport, read_rows, validate_row

REQUIRED_COLUMNS = ["call_sign", "kind", "org_unit_code", "lat", "lon"]
OPTIONAL_COLUMNS = ["status"]
UNIT_OWNERS = (OrgKind.STATION, OrgKind.BRANCH, OrgKind.TEAM)
PROGRESS_EVERY = 200

# A column is read as an enum's value or one of its labels (db.enum.from_label); these are the
# other words people write for them in a spreadsheet.
KIND_ALSO_CALLED: dict[str, UnitKind] = {
    "车巡": UnitKind.PATROL_CAR, "警车": UnitKind.PATROL_CAR,
    "步行巡逻": UnitKind.FOOT_PATROL, "徒步巡逻": UnitKind.FOOT_PATROL,
    "骑警队": UnitKind.MOUNTED,
    "摩托": UnitKind.MOTORCYCLE, "摩托车": UnitKind.MOTORCYCLE,
}
STATUS_ALSO_CALLED: dict[str, UnitStatus] = {
    "在岗": UnitStatus.AVAILABLE, "可用": UnitStatus.AVAILABLE,
    "离线": UnitStatus.OFF_DUTY, "下班": UnitStatus.OFF_DUTY,
}
IMPORTABLE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.OFF_DUTY)  # assigned comes from a dispatch


def _read(enum_cls, also_called: dict, text: str):
    text = text.strip()
    return from_label(enum_cls, text) or also_called.get(text)

Progress = Callable[[str, int, int | None], None]  # (phase, done, total)


class UnitImportRow(BaseModel):
    """One row of a duty-unit import file."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    call_sign: str = Field(min_length=1, max_length=20)
    kind: UnitKind
    org_unit_code: str = Field(min_length=1, max_length=20)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    status: UnitStatus = UnitStatus.AVAILABLE

    @field_validator("call_sign", "kind", "org_unit_code", "lat", "lon", mode="before")
    @classmethod
    def _required(cls, value):
        if value is None:
            raise ValueError("必填 / this column is required")
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value):
        if isinstance(value, str):
            kind = _read(UnitKind, KIND_ALSO_CALLED, value)
            if kind is None:
                raise ValueError(f"警力类型应为 {'/'.join(k.zh for k in UnitKind)} 之一 / kind must be one of "
                                 f"{', '.join(k.value for k in UnitKind)} (or {', '.join(k.zh for k in UnitKind)})")
            return kind
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value):
        if value is None:
            return UnitStatus.AVAILABLE
        if isinstance(value, str):
            status = _read(UnitStatus, STATUS_ALSO_CALLED, value)
            if status is not None and status not in IMPORTABLE_STATUSES:
                raise ValueError(f"导入时不能设为{status.zh}（由派警产生） / status cannot be '{status.value}' on "
                                 "import (it comes from a dispatch)")
            if status is None:
                zh = " 或 ".join(s.zh for s in IMPORTABLE_STATUSES)
                raise ValueError(f"状态应为 {zh} / status must be {' or '.join(s.value for s in IMPORTABLE_STATUSES)} "
                                 f"({' / '.join(s.zh for s in IMPORTABLE_STATUSES)})")
            return status
        return value


def import_units(*, db: Session, actor: Actor, path: str | Path, progress: Progress | None = None) -> ImportReport:
    """Validate every row, then create all the duty units or none. Flushes, never commits."""
    from pingan.geo.imports import check_in_area
    from pingan.geo.spatial import get_grid_index

    report = ImportReport()
    grids = get_grid_index(db)
    valid: list[tuple[int, UnitImportRow]] = []
    first_row_of: dict[str, int] = {}
    org_units: dict[str, OrgUnit | None] = {}
    for number, record in read_rows(path, required=REQUIRED_COLUMNS, report=report):
        report.total += 1
        if progress and report.total % PROGRESS_EVERY == 0:
            progress("validate", report.total, None)
        before = len(report.errors)
        row = validate_row(UnitImportRow, number, record, report)
        # The org unit and the call sign are checked even when another column failed, so that
        # one pass over the file names every problem of every row.
        failed = {e.column for e in report.errors[before:]}
        code = (record.get("org_unit_code") or "").strip()
        if code and "org_unit_code" not in failed:
            if code not in org_units:
                org_units[code] = repository.get_org_unit_by_code(db=db, actor=actor, code=code)
            owner = org_units[code]
            if owner is None:
                report.add(number, "org_unit_code", f"机构 {code} 不存在或不在辖区内",
                           f"org unit {code} does not exist in your jurisdiction")
            elif owner.kind not in UNIT_OWNERS:
                report.add(number, "org_unit_code", f"机构 {code}（{owner.name}）不能配属警力，应为派出所、分局或队",
                           f"org unit {code} ({owner.name}) cannot hold duty units; use a station, branch or team")
        sign = (record.get("call_sign") or "").strip()
        if sign and "call_sign" not in failed:
            if sign in first_row_of:
                first = first_row_of[sign]
                report.add(number, "call_sign", f"呼号 {sign} 与第 {first} 行重复",
                           f"call_sign {sign} repeats row {first}")
            else:
                first_row_of[sign] = number
        if row is not None:
            check_in_area(report, grids, number, row.lat, row.lon)
        if row is not None and len(report.errors) == before:
            valid.append((number, row))
    if progress:
        progress("validate", report.total, report.total)
    taken = repository.existing_call_signs_unscoped(db=db, call_signs=first_row_of)
    for sign in sorted(taken, key=first_row_of.__getitem__):
        report.add(first_row_of[sign], "call_sign", f"呼号 {sign} 已存在", f"call_sign {sign} already exists")
    if report.total == 0:
        report.add(1, "file", "文件中没有数据行", "The file has no data rows")
    if not report.ok:
        report.errors.sort(key=lambda e: e.row)
        return report
    now = utcnow()
    for done, (_number, row) in enumerate(valid, start=1):
        unit = service.create_unit(db=db, call_sign=row.call_sign, kind=row.kind,
                                   org_unit_id=org_units[row.org_unit_code].id, lat=row.lat, lon=row.lon)
        unit.position_at = now
        if row.status != unit.status:
            unit.status = row.status
        if progress and done % PROGRESS_EVERY == 0:
            progress("write", done, len(valid))
    db.flush()
    if progress:
        progress("write", len(valid), len(valid))
    report.imported = len(valid)
    return report
