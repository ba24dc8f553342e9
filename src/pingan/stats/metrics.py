"""Declared KPIs (指标): each figure the bureau reports, declared once.

A :class:`Metric` names its fact source, what it counts and how, its unit, the dimensions it
may be cut by, and whether a higher value is better. The API, the rankings and (later) the
dashboards and documents read these declarations and nothing else, so a KPI added here — or
by another module calling :func:`register` with its own :class:`~pingan.stats.facts.FactSource`
— appears everywhere with no further code.

How a value is formed from the rows of one period and cut (SQL predicates over the fact row ``f``):

- ``COUNT``: the rows matching ``numerator``.
- ``RATE``: of the rows matching ``denominator``, the share (in %) that also match ``numerator``;
  no such rows → no value (never a division by zero).
- ``MEAN`` / ``QUANTILE``: the mean / quantile of ``measure`` over the rows matching ``numerator``
  where the measure is known.

The records behind a figure (drill-down) are the rows of exactly these predicates: for a count,
the counted rows; for a rate, its numerator or its denominator; for a mean, the rows averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pingan.incident.models import Disposition, Satisfaction
from pingan.stats.facts import INCIDENTS, FactSource


class Kind(StrEnum):
    COUNT = "count"  # 计数
    RATE = "rate"  # 比率（%）
    MEAN = "mean"  # 平均值
    QUANTILE = "quantile"  # 分位数


# Cuts every source has: period buckets, hour of day, the org tree.
PERIOD_DIMENSIONS = ("day", "week", "month", "quarter", "year")
COMMON_DIMENSIONS = PERIOD_DIMENSIONS + ("hour", "branch", "station", "org_unit", "child")


@dataclass(frozen=True)
class Metric:
    """One KPI (see the module docstring)."""

    slug: str
    zh: str
    en: str
    unit: str  # 起 / % / 秒
    unit_en: str
    source: FactSource
    kind: Kind
    definition_zh: str  # 指标口径
    definition_en: str
    numerator: str = "TRUE"
    denominator: str | None = None  # RATE only
    measure: str | None = None  # MEAN / QUANTILE only
    quantile: float = 0.9
    dimensions: tuple[str, ...] = ()
    higher_is_better: bool = True
    # What the figure may claim beyond 同比 / 环比, where it means something ("零发生", "连续 N 个月
    # 零发生", "历史最低" …): names of ``stats.comparisons.Comparison``, checked there.
    claims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.kind is Kind.RATE) != (self.denominator is not None):
            raise ValueError(f"{self.slug}: a rate, and only a rate, has a denominator")
        if (self.kind in (Kind.MEAN, Kind.QUANTILE)) != (self.measure is not None):
            raise ValueError(f"{self.slug}: a mean or quantile, and only those, has a measure")
        allowed = set(COMMON_DIMENSIONS) | {d.name for d in self.source.dimensions}
        if unknown := set(self.dimensions) - allowed:
            raise ValueError(f"{self.slug}: unknown dimensions {sorted(unknown)}")
        if self.claims:  # comparisons build on the engine, which reads this module: imported when used
            from pingan.stats.comparisons import check_claims

            check_claims(self)

    def rows(self, part: str) -> str:
        """The SQL predicate of the records behind the figure: 'numerator' or 'denominator'."""
        if part == "denominator":
            return f"({self.denominator})" if self.denominator else f"({self.numerator})"
        base = f"({self.numerator})"
        if self.denominator:
            base = f"({self.denominator}) AND {base}"
        if self.measure:
            base = f"{base} AND ({self.measure}) IS NOT NULL"
        return base


    def aggregates(self) -> tuple[Aggregate, Aggregate | None, Aggregate | None]:
        """What the engine aggregates over a cut's rows to form the figure: the numerator's
        count, the denominator's count (a rate) and the value (a mean or a quantile)."""
        rows = self.rows("numerator")
        n = Aggregate("count", rows)
        if self.kind is Kind.COUNT:
            return n, None, None
        if self.kind is Kind.RATE:
            return n, Aggregate("count", self.rows("denominator")), None
        if self.kind is Kind.MEAN:
            return n, None, Aggregate("mean", rows, self.measure)
        return n, None, Aggregate("quantile", rows, self.measure, float(self.quantile))


@dataclass(frozen=True)
class Aggregate:
    """One aggregate over fact rows: the count of the rows matching ``rows``, or the mean or a
    quantile of ``measure`` over them (``rows`` of a mean or quantile requires the measure)."""

    fn: str  # count | mean | quantile
    rows: str
    measure: str | None = None
    quantile: float | None = None

    def sql(self) -> str:
        """The aggregate over the fact rows ``f``. ``count_if`` and a ``CASE`` inside ``avg`` /
        ``quantile_cont`` cost about half of ``FILTER (WHERE …)`` (bench/stats_province.py)."""
        if self.fn == "count":
            return f"count_if({self.rows})"
        value = f"CASE WHEN {self.rows} THEN {self.measure} END"
        return f"avg({value})" if self.fn == "mean" else f"quantile_cont({value}, {self.quantile})"


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Declare a KPI (a slug is declared once)."""
    if metric.slug in METRICS:
        raise ValueError(f"KPI {metric.slug!r} declared twice")
    METRICS[metric.slug] = metric
    return metric


# --- incidents and dispatch (接处警) ------------------------------------------------------------

INCIDENT_DIMENSIONS = COMMON_DIMENSIONS + ("grid", "zone_class", "category", "top_category", "priority",
                                           "disposition")
RESPONSE_DIMENSIONS = COMMON_DIMENSIONS + ("grid", "zone_class", "category", "top_category", "priority")

NOT_VALID = (Disposition.INVALID_CALL, Disposition.DUPLICATE, Disposition.FALSE_REPORT)
REACHED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)
ZONE_TARGET = "f.zone_target_s"  # derived when rows are loaded (facts.INCIDENTS)


def _in(values) -> str:
    return "(" + ", ".join(f"'{v.value}'" for v in values) + ")"


def _count(slug: str, zh: str, en: str, where: str, dzh: str, den: str, *, higher: bool = False) -> Metric:
    return register(Metric(slug=slug, zh=zh, en=en, unit="起", unit_en="incidents", source=INCIDENTS,
                           kind=Kind.COUNT, numerator=where, dimensions=INCIDENT_DIMENSIONS,
                           higher_is_better=higher, definition_zh=dzh, definition_en=den))


def _share(slug: str, zh: str, en: str, *, numerator: str, denominator: str, dzh: str, den: str,
           higher: bool = True) -> Metric:
    return register(Metric(slug=slug, zh=zh, en=en, unit="%", unit_en="%", source=INCIDENTS, kind=Kind.RATE,
                           numerator=numerator, denominator=denominator, dimensions=RESPONSE_DIMENSIONS,
                           higher_is_better=higher, definition_zh=dzh, definition_en=den))


def _seconds(slug: str, zh: str, en: str, *, measure: str, kind: Kind = Kind.MEAN, dzh: str, den: str) -> Metric:
    return register(Metric(slug=slug, zh=zh, en=en, unit="秒", unit_en="s", source=INCIDENTS, kind=kind,
                           measure=measure, dimensions=RESPONSE_DIMENSIONS, higher_is_better=False,
                           definition_zh=dzh, definition_en=den))


RECEIVED_RULE_ZH = "按接警时间（本地时间）归入统计周期"
RECEIVED_RULE_EN = "counted in the period of its reception (local time)"

INCIDENTS_RECEIVED = _count(
    "incidents_received", "接警总数", "Incidents received", "TRUE",
    f"统计周期内接报的警情数（合并后的警情，不含被合并的重复来电）；{RECEIVED_RULE_ZH}",
    f"incidents received in the period (merged calls count once); {RECEIVED_RULE_EN}")
VALID_INCIDENTS = _count(
    "incidents_valid", "有效警情", "Valid incidents", f"f.disposition IS NULL OR f.disposition NOT IN {_in(NOT_VALID)}",
    "接报警情中处警结果不是无效警情、重复报警、谎报警情的（尚未结警的计入）",
    "incidents received less those closed as invalid, duplicate or false (open ones count)")
CRIMINAL_INCIDENTS = _count(
    "incidents_criminal", "刑事警情", "Criminal incidents", "f.top_category = '10'",
    "警情类别属于刑事警情（10）大类的接报警情", "incidents received in the criminal category (10)")
ESCALATIONS = _count(
    "escalations", "超时未签收预警", "Escalations (not accepted in time)", "f.escalated_at IS NOT NULL",
    "接报后超过签收时限仍未签收、被预警升级的警情数", "incidents flagged for not being accepted within their target")

ACCEPTED = "f.accept_s IS NOT NULL"
_ACCEPT_ZH, _ACCEPT_EN = "已签收警情中，签收用时（接警至签收）", "of the incidents accepted, the time from reception to acceptance"
for _limit, _zh, _en in ((30, "30秒", "30 s"), (60, "1分钟", "1 min"), (120, "2分钟", "2 min"), (180, "3分钟", "3 min")):
    _share(f"accepted_within_{_limit}s", f"{_zh}内签收率", f"Accepted within {_en}",
           numerator=f"f.accept_s <= {_limit}", denominator=ACCEPTED,
           dzh=f"{_ACCEPT_ZH}不超过{_zh}的占比", den=f"{_ACCEPT_EN} is at most {_en}: share")
for _lo, _hi, _zh, _en in ((0, 30, "0–30秒", "0–30 s"), (30, 60, "30–60秒", "30–60 s"), (60, 120, "1–2分钟", "1–2 min"),
                           (120, 180, "2–3分钟", "2–3 min"), (180, None, "3分钟以上", "over 3 min")):
    _cond = f"f.accept_s > {_lo}" if _lo else "f.accept_s >= 0"
    if _hi is not None:
        _cond += f" AND f.accept_s <= {_hi}"
    _share(f"accept_{_lo}_{_hi or 'more'}s", f"签收用时{_zh}占比", f"Acceptance time {_en}",
           numerator=_cond, denominator=ACCEPTED, higher=_lo == 0,
           dzh=f"{_ACCEPT_ZH}落在{_zh}区间（含上限）的占比", den=f"{_ACCEPT_EN} falls in {_en} (upper bound included): share")

DEPARTED_ON_TARGET = _share(
    "departed_within_target", "按时出警率", "Departed within the zone target",
    numerator=f"f.depart_s <= {ZONE_TARGET}", denominator="f.depart_s IS NOT NULL AND f.zone_class IS NOT NULL",
    dzh="已出警且有区域类别的警情中，接警至出警用时不超过所在区域时限（城市中心区3分钟、城区5分钟、城郊10分钟）的占比",
    den="of the incidents with a departure and a zone class, the share departed within the zone's target "
        "(centre 3 min, urban 5, suburban 10) of reception")
ARRIVED_ON_TARGET = _share(
    "arrived_within_target", "按时到场率", "Arrived within the zone target",
    numerator=f"f.arrive_s <= {ZONE_TARGET}", denominator="f.arrive_s IS NOT NULL AND f.zone_class IS NOT NULL",
    dzh="已到场且有区域类别的警情中，接警至到场用时不超过所在区域时限的占比",
    den="of the incidents with an arrival and a zone class, the share arrived within the zone's target of reception")
P1_ON_TARGET = _share(
    "priority1_on_target", "一级警情按时到场率", "Priority-1 incidents on target",
    numerator=f"f.arrive_s <= {ZONE_TARGET}",
    denominator="f.priority = 1 AND f.arrive_s IS NOT NULL AND f.zone_class IS NOT NULL",
    dzh="一级（最紧急）且已到场的警情中，接警至到场用时不超过所在区域时限的占比",
    den="of the priority-1 incidents with an arrival, the share arrived within the zone's target")
SATISFACTION_RATE = _share(
    "satisfaction_rate", "回访满意率", "Callback satisfaction rate",
    numerator=f"f.satisfaction IN {_in(SATISFIED)}", denominator=f"f.satisfaction IN {_in(REACHED)}",
    dzh="已回访且联系上的警情中（以最近一次回访为准），满意和基本满意的占比",
    den="of the incidents whose caller was reached on callback (the latest callback counts), "
        "the share satisfied or basically satisfied")

MEAN_ACCEPT = _seconds("mean_accept_seconds", "平均签收用时", "Mean time to accept", measure="f.accept_s",
                       dzh="已签收警情接警至签收用时的平均值", den="mean time from reception to acceptance")
P90_ACCEPT = _seconds("p90_accept_seconds", "签收用时90分位", "Time to accept, 90th percentile",
                      measure="f.accept_s", kind=Kind.QUANTILE,
                      dzh="已签收警情接警至签收用时的90%分位数", den="90th percentile of the time to accept")
MEAN_ARRIVE = _seconds("mean_arrive_seconds", "平均到场用时", "Mean time to arrive", measure="f.arrive_s",
                       dzh="已到场警情接警至到场用时的平均值", den="mean time from reception to arrival")
P90_ARRIVE = _seconds("p90_arrive_seconds", "到场用时90分位", "Time to arrive, 90th percentile",
                      measure="f.arrive_s", kind=Kind.QUANTILE,
                      dzh="已到场警情接警至到场用时的90%分位数", den="90th percentile of the time to arrive")
