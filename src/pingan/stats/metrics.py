"""Declared KPIs (指标): each figure the bureau reports, declared once.

A :class:`Metric` names its fact source, what it counts and how, its unit, the dimensions it
may be cut by, and whether a higher value is better. The API, the rankings and (later) the
dashboards and documents read these declarations and nothing else, so a KPI a module declares
in its statistics contribution (:mod:`pingan.stats.contribution`), over its own
:class:`~pingan.stats.facts.FactSource`, appears everywhere with no further code.

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

from collections.abc import Mapping

from pingan.stats.contribution import declared
from pingan.stats.facts import FactSource


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


METRICS: Mapping[str, Metric] = declared("metrics")
"""Every installed module's KPIs, by slug (loaded on first use)."""
