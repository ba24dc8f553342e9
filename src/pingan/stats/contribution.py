"""A module's statistics contribution (统计贡献): what a module brings to the statistics.

A module names its contribution in its ``module.py`` (``statistics="pingan.incident.stats:CONTRIBUTION"``)
and declares it in the statistics' own vocabulary: its fact sources (``stats.facts.FactSource``,
each with the permission that may read it), its KPIs (``stats.metrics.Metric``), the dimension
tables that name its dimensions' values (``stats.facts.DimensionTable``), its sections of the
work summary (``stats.report.ReportSection``), its dashboard panels (:class:`Panel`) and the KPI
slugs it renamed (an issued report keeps the old one). ``stats/`` imports no domain package: it
iterates over ``registry.installed()`` and loads every contribution once, the first time a
declaration is asked for (:func:`loaded`); a change of the installed list (the tests) loads them
again.

``SOURCES``, ``METRICS`` and the outline are read-only views of what is loaded (:func:`declared`).
What an actor sees of them is what their permissions let them read (:func:`readable_metrics`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pingan import registry

if TYPE_CHECKING:
    from pingan.stats.facts import DimensionTable, FactSource
    from pingan.stats.metrics import Metric
    from pingan.stats.report import ReportSection

Label = tuple[str, str]  # (zh, en)


@dataclass(frozen=True)
class Breakdown:
    """A chart of a panel's breakdowns (区域类别, 时段, 警情大类 …): ``kpis`` cut by ``dimension``.
    Its bars are the dimension's declared values (``Dimension.values``) or, for ``hour``, the 24
    hours, else the values found, largest first when ``order='value'``."""

    name: str
    caption: Label  # what the bars are (the data table's first column)
    dimension: str
    kpis: tuple[str, ...]
    title: Label | None = None  # the chart's title with several KPIs (one KPI: its name)
    order: str = "key"
    horizontal: bool = False
    last_year: bool = False  # draw last year's same span beside this period's (one KPI)


@dataclass(frozen=True)
class Panel:
    """How one fact source shows on the dashboards: its KPI cards (every KPI of the source but
    those of ``distribution``), its distribution chart (shares that add up to 100 %, drawn as
    one chart, labelled by ``distribution_labels``) and its breakdown charts. ``chart``, ``rank``
    and ``map`` are the KPIs the dashboards open with for the trend and the bars by unit, the
    ranking and the map; ``grid_table`` the KPIs of the station dashboard's table by grid."""

    source: str
    distribution: tuple[str, ...] = ()
    distribution_title: Label = ("分布", "Distribution")
    distribution_labels: tuple[Label, ...] = ()
    breakdowns: tuple[Breakdown, ...] = ()
    chart: str | None = None
    rank: str | None = None
    map: str | None = None
    grid_table: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contribution:
    """What one module brings to the statistics (see the module docstring)."""

    sources: tuple[FactSource, ...] = ()
    metrics: tuple[Metric, ...] = ()
    dimension_tables: tuple[DimensionTable, ...] = ()
    sections: tuple[ReportSection, ...] = ()
    panels: tuple[Panel, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)  # old KPI slug → new


@dataclass(frozen=True)
class Loaded:
    """Every installed module's contribution, merged (names are unique across modules)."""

    sources: dict[str, FactSource]
    metrics: dict[str, Metric]
    dimension_tables: dict[str, DimensionTable]
    sections: dict[str, ReportSection]
    panels: dict[str, Panel]  # by source
    renamed: dict[str, str]


_last: tuple[Any, Loaded] | None = None  # (the installed modules it was loaded for, what was loaded)


def loaded() -> Loaded:
    """The contributions of the installed modules (loaded once for a given list)."""
    global _last
    installed = registry.installed()  # the same tuple for the same list (cached)
    last = _last
    if last is not None and last[0] is installed:  # SOURCES and METRICS are read often
        return last[1]
    found = _load(tuple((m.name, m.statistics) for m in installed))
    _last = (installed, found)
    return found


_lock = threading.RLock()


@lru_cache(maxsize=8)
def _load(modules: tuple[tuple[str, str | None], ...]) -> Loaded:
    with _lock:
        return _merge([(name, registry.resolve(ref)) for name, ref in modules if ref])


def _merge(contributions: list[tuple[str, Contribution]]) -> Loaded:
    from pingan.stats.report import check_section

    out = Loaded({}, {}, {}, {}, {}, {})

    def put(kind: str, target: dict, key: str, value: Any, module: str) -> None:
        if key in target and target[key] is not value:
            raise ValueError(f"statistics: {kind} {key!r} declared twice (again by module {module!r})")
        target[key] = value

    for module, c in contributions:
        if not isinstance(c, Contribution):
            raise TypeError(f"module {module!r}: its statistics are not a pingan.stats.contribution.Contribution")
        for source in c.sources:
            put("fact source", out.sources, source.name, source, module)
        for table in c.dimension_tables:
            put("dimension table", out.dimension_tables, table.name, table, module)
        for metric in c.metrics:
            put("KPI", out.metrics, metric.slug, metric, module)
        for panel in c.panels:
            put("panel", out.panels, panel.source, panel, module)
        out.renamed.update(c.renamed)
    for metric in out.metrics.values():
        if out.sources.get(metric.source.name) is not metric.source:
            raise ValueError(f"KPI {metric.slug!r}: its fact source {metric.source.name!r} is not installed")
        for dimension in metric.source.dimensions:
            if dimension.labels and dimension.labels not in out.dimension_tables:
                raise ValueError(f"dimension {dimension.name!r}: no dimension table {dimension.labels!r} installed")
    for panel in out.panels.values():
        named = [*panel.distribution, *panel.grid_table, *(k for b in panel.breakdowns for k in b.kpis),
                 *(k for k in (panel.chart, panel.rank, panel.map) if k)]
        if missing := [k for k in named if k not in out.metrics]:
            raise ValueError(f"panel of {panel.source!r}: no KPI {missing}")
    for _, c in contributions:
        for section in c.sections:
            check_section(section, out.metrics)
            put("report section", out.sections, section.key, section, "")
    return out


class _Declared(Mapping):
    """A read-only view of one kind of loaded declaration (``SOURCES``, ``METRICS`` …)."""

    def __init__(self, kind: str):
        self._kind = kind

    def _data(self) -> dict:
        return getattr(loaded(), self._kind)

    def __getitem__(self, key):
        return self._data()[key]

    def get(self, key, default=None):
        return self._data().get(key, default)

    def __contains__(self, key) -> bool:
        return key in self._data()

    def keys(self):
        return self._data().keys()

    def values(self):
        return self._data().values()

    def items(self):
        return self._data().items()

    def __iter__(self) -> Iterator:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"<declared {self._kind}: {list(self._data())}>"


def declared(kind: str) -> Mapping:
    """The view of ``kind`` ('sources', 'metrics', 'dimension_tables', 'sections', 'panels')."""
    return _Declared(kind)


def current_slug(slug: str) -> str:
    """A KPI's slug as declared now (a renamed KPI's old slug gives its new one)."""
    return loaded().renamed.get(slug, slug)


# --- what an actor may read ------------------------------------------------------------------------


def may_read(actor, source: FactSource) -> bool:
    """Whether the actor's permissions let them read the source (its KPIs, figures, records)."""
    return source.permission in actor.permissions


def readable_sources(actor) -> list[FactSource]:
    return [s for s in loaded().sources.values() if may_read(actor, s)]


def readable_metrics(actor) -> list[Metric]:
    """The KPIs of the sources the actor may read, in declaration order."""
    return [m for m in loaded().metrics.values() if may_read(actor, m.source)]


def readable_key(actor) -> tuple[str, ...]:
    """The names of the sources the actor may read: part of every cached answer's key."""
    return tuple(s.name for s in readable_sources(actor))
