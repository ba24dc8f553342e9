"""Rankings (排名): branches, stations or grids ranked on any KPI for a period.

Every unit of the level inside the actor's jurisdiction (or the chosen org unit's subtree) is
listed, with or without records: a unit whose value does not exist (a rate with no
denominator) is listed after the ranked ones without a rank. Ranks follow the KPI's direction
(``higher_is_better``); equal values share a rank (1, 2, 2, 4). The change in rank is against
the previous period (环比) — positive means the unit moved up. ``bottom`` names the last ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pingan.auth.actor import Actor
from pingan.errors import ValidationFailed
from pingan.stats import engine
from pingan.stats.metrics import Kind, Metric
from pingan.stats.period import Period
from pingan.stats.store import Store

LEVELS: dict[str, tuple[str, str]] = {"branch": ("分局", "branch"), "station": ("派出所", "station"),
                                      "grid": ("网格", "grid")}


@dataclass(frozen=True)
class RankRow:
    id: int
    name: str
    value: float | None
    numerator: float | None
    denominator: float | None
    rank: int | None
    previous_value: float | None
    previous_rank: int | None
    rank_change: int | None  # previous rank − rank: positive = moved up


@dataclass
class Ranking:
    metric: Metric
    period: Period
    level: str
    rows: list[RankRow] = field(default_factory=list)
    bottom: list[RankRow] = field(default_factory=list)


def competition_ranks(values: dict[int, float | None], higher_is_better: bool) -> dict[int, int]:
    """Competition ranks (1, 2, 2, 4) of the units that have a value."""
    ranked = sorted(((v, k) for k, v in values.items() if v is not None), key=lambda p: -p[0] if higher_is_better
                    else p[0])
    ranks: dict[int, int] = {}
    for position, (value, key) in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        ranks[key] = ranks[previous[1]] if previous is not None and previous[0] == value else position
    return ranks


def check_level(metric: Metric, level: str) -> None:
    """422 naming ``level`` unless ``metric`` can be ranked by branch, station or grid."""
    if level not in LEVELS:
        raise ValidationFailed(f"level：应为 {'、'.join(LEVELS)} 之一", f"level: one of {', '.join(LEVELS)}",
                               field="level")
    if level not in metric.dimensions:
        raise ValidationFailed(f"level：指标 {metric.slug} 不能按「{LEVELS[level][0]}」排名",
                               f"level: {metric.slug} cannot be ranked by {level}", field="level")


def rank(*, store: Store, actor: Actor, metric: Metric, period: Period, level: str, bottom: int = 3,
         org_unit_id: int | None = None, now: datetime | None = None) -> Ranking:
    """Rank the units of ``level`` on ``metric`` for ``period`` (see the module docstring); a
    period not yet ended is ranked to date, against its previous period cut to match."""
    period = engine.to_date(store, period, now=now)
    check_level(metric, level)
    scope = engine.scope_for(store=store, actor=actor, org_unit_id=org_unit_id)
    result = engine.compute(store=store, actor=actor, metrics=[metric], period=period, by=[level],
                            compare=True, org_unit_id=org_unit_id)[0]
    return ranked(result, level=level, members=engine.members(store=store, scope=scope, level=level),
                  bottom=bottom)


def ranked(result: engine.KpiResult, *, level: str, members: dict[int, str], bottom: int = 3) -> Ranking:
    """The ranking of ``members`` (id → name) from one ``compute`` cut by ``level`` with its
    comparisons: the previous period's values are its 环比 baselines, so a page that already
    computed a KPI by unit ranks it without another query. A previous period with no data at
    all (before the first record) gives no previous rank."""
    metric, period = result.metric, result.period
    now = {c.key[level]: c for c in result.cells if c.key[level] is not None}
    empty = engine.empty_value(metric)
    # A count's baseline is missing only when the whole previous period is (no records yet).
    missing = metric.kind is Kind.COUNT and any(c.previous.baseline is None for c in now.values())
    values = {unit_id: (now[unit_id].value if unit_id in now else empty) for unit_id in members}
    prior = {unit_id: None if missing else (now[unit_id].previous.baseline if unit_id in now else empty)
             for unit_id in members}
    ranks = competition_ranks(values, metric.higher_is_better)
    prior_ranks = competition_ranks(prior, metric.higher_is_better)
    rows = []
    for unit_id, name in members.items():
        cell = now.get(unit_id)
        r, pr = ranks.get(unit_id), prior_ranks.get(unit_id)
        rows.append(RankRow(id=unit_id, name=name, value=values[unit_id],
                            numerator=cell.numerator if cell else (0.0 if empty is not None else None),
                            denominator=cell.denominator if cell else None, rank=r, previous_value=prior[unit_id],
                            previous_rank=pr, rank_change=(pr - r) if r is not None and pr is not None else None))
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.name))
    ranked_rows = [row for row in rows if row.rank is not None]
    return Ranking(metric=metric, period=period, level=level, rows=rows,
                   bottom=list(reversed(ranked_rows[-bottom:])) if bottom > 0 else [])
