"""Reading bulk-import files (CSV or XLSX) row by row, and reporting row errors.

Imports are all-or-nothing: every row is validated first; if any row fails, nothing is
written and the report lists each failing row with the column and reason in Chinese and
English. Callers validate each row into a Pydantic model and collect errors with
:class:`ImportReport`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from pingan.errors import ValidationFailed
from pingan.web.validation import translate_errors


class FileFormatError(ValidationFailed):
    code = "bad_file"


@dataclass
class RowError:
    row: int  # 1-based row number in the file, header is row 1
    column: str
    message: str
    message_en: str

    def __str__(self) -> str:
        return f"第 {self.row} 行 [{self.column}]：{self.message} / row {self.row} [{self.column}]: {self.message_en}"


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, row: int, column: str, zh: str, en: str) -> None:
        self.errors.append(RowError(row, column, zh, en))

    def as_dict(self) -> dict:
        return {"total": self.total, "imported": self.imported,
                "errors": [e.__dict__ for e in self.errors]}


def read_rows(path: str | Path, *, required: list[str] | None = None,
              report: ImportReport | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {header: text}) from a .csv (UTF-8, with or without BOM, or GB18030) or .xlsx.

    A header naming a column twice is refused. A row the file format cannot give (a CSV cell over
    the csv module's field limit) or a cell with a NUL character is a row error in ``report``
    (without one, a :class:`FileFormatError` naming the row); after a CSV row that cannot be
    read, reading stops, as the rest of the file cannot be trusted to line up."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"文件不存在：{path}", f"File not found: {path}", field="file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    else:
        raise FileFormatError(f"不支持的文件类型 {suffix}，请使用 CSV 或 XLSX",
                              f"Unsupported file type {suffix}; use CSV or XLSX", field="file")
    try:
        header = next(rows)
    except StopIteration:
        raise FileFormatError("文件为空", "The file is empty", field="file") from None
    header = [("" if h is None else str(h)).strip() for h in header]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise FileFormatError(f"列名重复：{', '.join(repeated)}", f"Duplicate columns: {', '.join(repeated)}",
                              field="header")
    missing = [c for c in (required or []) if c not in header]
    if missing:
        raise FileFormatError(f"缺少列：{', '.join(missing)}", f"Missing columns: {', '.join(missing)}",
                              field="header")
    number = 1
    while True:
        number += 1
        try:
            values = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the field limit, a broken quote …
            _row_error(report, number, "file", f"无法读取此行（{exc}）", f"cannot read this row ({exc})")
            return
        if values is None or all((v is None or str(v).strip() == "") for v in values):
            continue
        record = {}
        for i, name in enumerate(header):
            if not name:
                continue
            value = values[i] if i < len(values) else None
            record[name] = "" if value is None else str(value).strip()
        nul = [name for name, value in record.items() if "\x00" in value]
        if nul:
            _row_error(report, number, nul[0], "不能包含空字符（NUL）", "must not contain NUL characters")
            continue
        yield number, record


def _row_error(report: ImportReport | None, number: int, column: str, zh: str, en: str) -> None:
    if report is None:
        raise FileFormatError(f"第 {number} 行 [{column}]：{zh}", f"row {number} [{column}]: {en}", field=column)
    report.total += 1
    report.add(number, column, zh, en)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileFormatError("文件编码无法识别（请用 UTF-8）", "Unknown file encoding (use UTF-8)", field="file")
    yield from csv.reader(io.StringIO(text))


def _xlsx_rows(path: Path) -> Iterator[list]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged file
        raise FileFormatError("无法读取 XLSX 文件（文件损坏或格式不对）", f"Cannot read the XLSX file: {exc}",
                              field="file") from None
    try:
        for row in wb.active.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def validate_row(model: type[BaseModel], number: int, record: dict, report: ImportReport) -> BaseModel | None:
    """Validate one row into ``model``; on failure add each field's error to the report."""
    try:
        return model.model_validate({k: (v if v != "" else None) for k, v in record.items()})
    except ValidationError as exc:
        for err in translate_errors(exc.errors(include_url=False)):
            report.add(number, err["field"], err["message"], err["message_en"])
        return None
