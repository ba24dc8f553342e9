"""API shapes of the statistics module (统计): KPI definitions, values, rankings, drill-down."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from pingan.incident.schemas import IncidentRead
from pingan.stats.engine import Cell, Change, KpiResult, dimensions_of
from pingan.stats.metrics import Metric
from pingan.stats.period import Period
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
    items: list[IncidentRead]
