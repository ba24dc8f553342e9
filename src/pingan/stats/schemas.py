"""API shapes of the statistics module (统计): KPI definitions, values, rankings, drill-down."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from pingan.db.types import MAX_ID
from pingan.stats.engine import Cell, Change, KpiResult, dimensions_of
from pingan.stats.metrics import Metric
from pingan.stats.period import PERIOD_PATTERN, Period
from pingan.stats.ranking import Ranking, RankRow


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class DimensionRead(BaseModel):
    name: str
    label: str
    label_en: str


class KpiRead(BaseModel):
    """A KPI's declaration (指标定义)."""

    slug: str
    name: str
    name_en: str
    unit: str
    unit_en: str
    kind: str
    source: str
    definition: str
    definition_en: str
    higher_is_better: bool
    has_denominator: bool
    dimensions: list[DimensionRead]

    @classmethod
    def build(cls, metric: Metric) -> KpiRead:
        labels = dimensions_of(metric.source)
        return cls(slug=metric.slug, name=metric.zh, name_en=metric.en, unit=metric.unit, unit_en=metric.unit_en,
                   kind=metric.kind.value, source=metric.source.name, definition=metric.definition_zh,
                   definition_en=metric.definition_en, higher_is_better=metric.higher_is_better,
                   has_denominator=metric.denominator is not None,
                   dimensions=[DimensionRead(name=d, label=labels[d][0], label_en=labels[d][1])
                               for d in metric.dimensions])


class PeriodRead(BaseModel):
    """A period as counted. ``until`` is set for a period not yet ended: counting stops there
    (local time, exclusive), and ``previous`` / ``last_year`` stop at the same point of theirs."""

    label: str
    kind: str
    start: date
    end: date  # inclusive
    until: datetime | None
    span: str  # the dates counted, in words
    previous: str
    previous_span: str
    last_year: str
    last_year_span: str

    @classmethod
    def build(cls, period: Period) -> PeriodRead:
        previous, last_year = period.previous(), period.last_year()
        return cls(label=period.label, kind=period.kind.value, start=period.start,
                   end=period.end - timedelta(days=1), until=period.until, span=period.span,
                   previous=previous.label, previous_span=previous.span, last_year=last_year.label,
                   last_year_span=last_year.span)


class ChangeRead(BaseModel):
    """A comparison (同比 / 环比). ``note``: ok, baseline_zero (no percentage), baseline_missing
    (no baseline to compare with), value_missing."""

    baseline: float | None
    absolute: float | None
    percent: float | None
    note: str

    @classmethod
    def build(cls, change: Change | None) -> ChangeRead | None:
        if change is None:
            return None
        return cls(baseline=_round(change.baseline), absolute=_round(change.absolute),
                   percent=_round(change.percent), note=change.note)


class CellRead(BaseModel):
    key: dict[str, Any]
    labels: dict[str, str]
    value: float | None
    numerator: float | None
    denominator: float | None
    previous: ChangeRead | None
    last_year: ChangeRead | None

    @classmethod
    def build(cls, cell: Cell) -> CellRead:
        return cls(key=cell.key, labels=cell.labels, value=_round(cell.value), numerator=cell.numerator,
                   denominator=cell.denominator, previous=ChangeRead.build(cell.previous),
                   last_year=ChangeRead.build(cell.last_year))


class KpiValues(BaseModel):
    kpi: KpiRead
    period: PeriodRead
    by: list[str]
    cells: list[CellRead]

    @classmethod
    def build(cls, result: KpiResult) -> KpiValues:
        return cls(kpi=KpiRead.build(result.metric), period=PeriodRead.build(result.period), by=list(result.by),
                   cells=[CellRead.build(c) for c in result.cells])


class RankRowRead(BaseModel):
    id: int
    name: str
    value: float | None
    numerator: float | None
    denominator: float | None
    rank: int | None
    previous_value: float | None
    previous_rank: int | None
    rank_change: int | None

    @classmethod
    def build(cls, row: RankRow) -> RankRowRead:
        return cls(id=row.id, name=row.name, value=_round(row.value), numerator=row.numerator,
                   denominator=row.denominator, rank=row.rank, previous_value=_round(row.previous_value),
                   previous_rank=row.previous_rank, rank_change=row.rank_change)


class RankingRead(BaseModel):
    kpi: KpiRead
    period: PeriodRead
    level: str
    rows: list[RankRowRead]
    bottom: list[RankRowRead]

    @classmethod
    def build(cls, ranking: Ranking) -> RankingRead:
        return cls(kpi=KpiRead.build(ranking.metric), period=PeriodRead.build(ranking.period), level=ranking.level,
                   rows=[RankRowRead.build(r) for r in ranking.rows],
                   bottom=[RankRowRead.build(r) for r in ranking.bottom])


class RecordsRead(BaseModel):
    """The records behind one figure (明细): ``total`` equals the figure (or its denominator)."""

    kpi: str
    period: PeriodRead
    part: str
    filters: dict[str, str | None]
    total: int
    items: list[Any]  # the source's own API rows (its module's read schema: masked)


# --- issued work summaries (工作综述) ----------------------------------------------------------------

FIGURE_CHANGES_SHOWN = 500  # at most this many changed figures in one answer (the count is always given)
AMENDED_IDS_SHOWN = 200  # at most this many ids per kind of amendment (the records API pages through all)


class ReportCreate(BaseModel):
    """What to issue: a period and an org unit (default: the top of your jurisdiction)."""

    period: str = Field(min_length=4, max_length=30, pattern=PERIOD_PATTERN, description=(
        "2026 | 2026-Q3 | 2026-07 | 2026-W05 | 2026-07-15 | 2026-03-01..2026-06-30"))
    org: int | None = Field(None, ge=1, le=MAX_ID, description="org unit id (机构); default the whole jurisdiction")


class ReportSummaryRead(BaseModel):
    """An issued report (签发的工作综述) without its figures."""

    id: int
    title: str
    org_unit_id: int
    org_name: str
    period: str
    span: str  # the span counted, in words
    to_date: bool  # the period had not ended at issue: counted to the minute of issue
    counted_from: datetime
    counted_until: datetime  # exclusive
    issued_at: datetime
    issued_by: str
    data_as_of: datetime | None  # the statistics store's last sync before issue
    figure_count: int
    record_count: int
    sha256: str
    size: int
    docx_url: str
    pdf_url: str

    @classmethod
    def build(cls, row) -> ReportSummaryRead:
        base = f"/api/v1/stats/reports/{row.id}"
        return cls(id=row.id, title=row.title, org_unit_id=row.org_unit_id, org_name=row.org_name,
                   period=row.period_label, span=row.span, to_date=row.to_date, counted_from=row.counted_from,
                   counted_until=row.counted_until, issued_at=row.issued_at, issued_by=row.issued_by_name,
                   data_as_of=row.data_as_of, figure_count=row.figure_count, record_count=row.record_count,
                   sha256=row.docx_sha256, size=row.docx_size, docx_url=f"{base}/docx", pdf_url=f"{base}/pdf")


class ReportListRead(BaseModel):
    total: int
    items: list[ReportSummaryRead]


class FigureRead(BaseModel):
    """A frozen figure: a KPI for one cut (``by`` '' = the whole org unit; ``key`` the month, org
    unit id, category … of the cut) with its baselines and changes."""

    kpi: str
    by: str
    key: Any
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    previous: ChangeRead | None
    last_year: ChangeRead | None

    @classmethod
    def build(cls, figure) -> FigureRead:
        return cls(kpi=figure.kpi, by=figure.by, key=figure.key, label=figure.label, value=_round(figure.value),
                   numerator=figure.numerator, denominator=figure.denominator,
                   previous=ChangeRead.build(figure.previous), last_year=ChangeRead.build(figure.last_year))


class DefinitionRead(BaseModel):
    """A definition in the report's appendix (附：指标口径), numbered as cited in the text."""

    number: int
    kpi: str
    name: str
    text: str


class RecordChangesRead(BaseModel):
    """The records of one fact source counted in the report and amended since (see
    ``stats.service``): how many of each kind, and (up to 200 each) their ids."""

    source: str
    added: int
    removed: int
    changed: int
    added_ids: list[int]
    removed_ids: list[int]
    changed_ids: list[int]
    records_url: str  # ?change=added|removed|changed: the records themselves, masked, page by page

    @classmethod
    def build(cls, report_id: int, changes) -> RecordChangesRead:
        return cls(source=changes.source, added=len(changes.added), removed=len(changes.removed),
                   changed=len(changes.changed), added_ids=changes.added[:AMENDED_IDS_SHOWN],
                   removed_ids=changes.removed[:AMENDED_IDS_SHOWN], changed_ids=changes.changed[:AMENDED_IDS_SHOWN],
                   records_url=f"/api/v1/stats/reports/{report_id}/records?source={changes.source}")


class FigureChangeRead(BaseModel):
    """A figure as issued and as it would be now (``then`` / ``now`` None: not there)."""

    kpi: str
    name: str
    unit: str
    by: str
    key: Any
    label: str
    then: FigureRead | None
    now: FigureRead | None
    change: float | None  # now − then, when both have a value

    @classmethod
    def build(cls, item, kpis) -> FigureChangeRead:
        kpi = kpis.get(item.kpi)
        before, after = item.then, item.now
        delta = (after.value - before.value if before and after and before.value is not None
                 and after.value is not None else None)
        return cls(kpi=item.kpi, name=kpi.zh if kpi else item.kpi, unit=kpi.unit if kpi else "", by=item.by,
                   key=item.key, label=item.label, then=FigureRead.build(before) if before else None,
                   now=FigureRead.build(after) if after else None, change=_round(delta))


class AmendmentsRead(BaseModel):
    """Whether records counted in the report were amended after issue, and which figures would
    change now (recomputed live). ``problem``: why it could not be checked."""

    checked_at: datetime
    data_as_of: datetime | None  # the statistics store's last sync: amendments are known up to then
    amended: bool
    record_total: int
    records: list[RecordChangesRead]
    figures_changed: int
    figures: list[FigureChangeRead]  # the first 500
    problem: str | None = None
    problem_en: str | None = None

    @classmethod
    def build(cls, report_id: int, found) -> AmendmentsRead:
        return cls(checked_at=found.checked_at, data_as_of=found.data_as_of, amended=found.amended,
                   record_total=found.record_total, records=[RecordChangesRead.build(report_id, r) for r in found.records],
                   figures_changed=len(found.figures),
                   figures=[FigureChangeRead.build(f, found.kpis) for f in found.figures[:FIGURE_CHANGES_SHOWN]],
                   problem=found.problem[0] if found.problem else None,
                   problem_en=found.problem[1] if found.problem else None)


class ReportRead(ReportSummaryRead):
    """An issued report with every figure in it, its definitions and (when read) its amendments."""

    definitions: list[DefinitionRead]
    figures: list[FigureRead]
    amendments: AmendmentsRead | None  # None in the answer to issuing: nothing can be amended yet

    @classmethod
    def build_full(cls, row, snapshot, amendments=None) -> ReportRead:
        summary = ReportSummaryRead.build(row)
        return cls(**summary.model_dump(), definitions=[DefinitionRead(**d) for d in row.definitions],
                   figures=[FigureRead.build(f) for f in snapshot.figures],
                   amendments=AmendmentsRead.build(row.id, amendments) if amendments is not None else None)


class ReportRecordsRead(BaseModel):
    """The records of one kind of amendment of a report, a page at a time (masked,
    jurisdiction-filtered; a deleted record is in ``ids`` only)."""

    report_id: int
    source: str
    change: str
    total: int
    ids: list[int]
    items: list[Any]  # the source's own API rows (its module's read schema: masked)
