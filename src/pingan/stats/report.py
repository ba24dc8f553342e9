"""The work summary (工作综述) assembled from the statistics engine.

A document is made in three steps, kept apart so that an issued one can be made again from what
was frozen (``stats.service.issue`` freezes the first step's result with the bytes of the third):

1. ``gather`` → :class:`Snapshot`: every figure the outline needs, from the engine — one call of
   ``engine.compute`` per cut (the whole scope, the trend buckets, the next level of the org
   tree, categories …), each one grouped query per fact source over the period and its two
   baselines —, with the org unit, the period as counted (a period not yet ended stops at the
   minute of issue, its baselines at the same point of theirs) and the KPI declarations as they
   were. It is plain data and goes to JSON and back unchanged (``Snapshot.to_json``).
2. ``compose`` → :class:`~pingan.stats.document.Document`: pure; reads nothing but the snapshot.
3. ``render_charts`` + ``render_docx`` (``stats.document``): pictures, then the .docx bytes.

**The outline (提纲)** is declared, like the KPIs: a :class:`ReportSection` names its heading,
its place (``order``) and its parts — :class:`Sentences` (figures in words), :class:`Distribution`
(shares of one whole, in words and as bars), :class:`Trend` (a line by month or day with last
year's), :class:`UnitTable`, :class:`UnitRanking` and :class:`UnitChart` (the next level down:
branches of the bureau, stations of a branch …) and :class:`Breakdown` (by a dimension such as
the category); :class:`Claims` (figures with what their KPIs claim: "连续 35 个月零发生", "历史最低")
and :class:`Against` (against an earlier year: "较2017年下降 84.0%", "是2017年的 12.57 倍") write the
comparisons of ``stats.comparisons``. Each part says which KPIs it needs in which cut (``needs``),
which comparisons (``asks``; ``gather`` finds them into the snapshot) and how it writes them
(``compose``). A module adds its sections by declaring them in its statistics contribution
(``stats.contribution``; the incident's are in ``incident.stats``), over its own KPIs; the
assembly here does not change, and a new kind of part is a new ``Part`` subclass. An actor's
document has the sections whose KPIs their permissions let them read (:func:`outline`).

**Wording rules** (what a bureau would actually issue; tested in tests/stats/test_report.py):

- a figure with no value (a rate with nothing to measure, a mean of nothing) is not written;
- a count of 0 whose baselines are 0 or do not exist is not written ("nothing to say"); a count
  of 0 against a baseline that was not 0 is written, with its fall;
- a comparison whose baseline does not exist is left out, never announced in every sentence;
  the opening paragraph says once which comparisons exist ("去年同期无数据记录，不作同比");
- a baseline of zero is said as such ("刑事警情 1 起，去年同期为零"), never as an infinite rise;
  a rate changes by percentage points;
- 环比 is written only when the previous period is not the same span as last year's (for a year
  it is the same, so only 同比 is written);
- a part with nothing to write gives no block, a section with no block is left out, a table
  drops a KPI column with nothing in it and its 同比 column when last year has no data, a chart
  needs two points, a ranking two ranked units;
- every paragraph, table and chart cites the definitions of the KPIs it shows; the appendix
  lists exactly the definitions cited, numbered in the order they are first cited.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from pingan.auth.actor import Actor
from pingan.stats import comparisons, contribution, engine, wording
from pingan.stats.comparisons import Ask, Finding
from pingan.stats.document import Block, Chart, Definition, Document, Paragraph, Section, Series, Table
from pingan.stats.engine import Change, OrgNode
from pingan.stats.facts import SOURCES
from pingan.stats.metrics import METRICS, Kind, Metric
from pingan.stats.period import MIN_YEAR, Period, PeriodKind
from pingan.stats.ranking import competition_ranks
from pingan.stats.store import Store

SNAPSHOT_VERSION = 2  # 2: the KPIs' claims and the comparisons' findings (decision 0021)
READABLE_VERSIONS = (1, 2)  # a snapshot issued before has neither: it composes as it did
TOTAL, TREND, UNITS = "", "trend", "units"  # abstract cuts, resolved for each org unit and period
CHILD = "child"  # the engine's dimension for the next level of the org tree

# Units that are a piece of territory (listed in the units table even without records); a
# command centre or team under the bureau is listed only when records are attributed to it.
TERRITORIAL_KINDS = ("branch", "station", "community_office")
SCOPE_WORDS = {"bureau": "全局", "branch": "全分局", "station": "全所", "community_office": "本警务室"}
UNIT_WORDS = {"branch": "分局", "station": "派出所", "community_office": "社区警务室"}


# --- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiInfo:
    """A KPI's declaration as it was when the figures were taken (name, unit, kind, definition):
    what a document made again from frozen figures reads, whatever the declaration says later.
    Its attributes are those of a :class:`~pingan.stats.metrics.Metric` that ``stats.wording`` reads."""

    slug: str
    zh: str
    en: str
    unit: str
    kind: Kind
    source: str
    higher_is_better: bool
    definition_zh: str
    definition_en: str
    claims: tuple[str, ...] = ()

    @classmethod
    def of(cls, metric: Metric) -> KpiInfo:
        return cls(slug=metric.slug, zh=metric.zh, en=metric.en, unit=metric.unit, kind=metric.kind,
                   source=metric.source.name, higher_is_better=metric.higher_is_better,
                   definition_zh=metric.definition_zh, definition_en=metric.definition_en, claims=metric.claims)

    def to_json(self) -> dict:
        return {"slug": self.slug, "zh": self.zh, "en": self.en, "unit": self.unit, "kind": self.kind.value,
                "source": self.source, "higher_is_better": self.higher_is_better,
                "definition_zh": self.definition_zh, "definition_en": self.definition_en, "claims": list(self.claims)}

    @classmethod
    def from_json(cls, data: dict) -> KpiInfo:
        return cls(**{**data, "kind": Kind(data["kind"]), "claims": tuple(data.get("claims", ()))})


def _change_json(change: Change | None) -> dict | None:
    if change is None:
        return None
    return {"baseline": change.baseline, "absolute": change.absolute, "percent": change.percent, "note": change.note}


def _change_of(data: dict | None) -> Change | None:
    return None if data is None else Change(**data)


@dataclass(frozen=True)
class Figure:
    """One figure of the document: a KPI for one cut (``by`` '' is the whole scope; ``key`` the
    dimension's value — a month, an org unit id, a category code; None for the records of the
    scope's root itself in the ``child`` cut), with its baselines and changes."""

    kpi: str
    by: str
    key: Any
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    previous: Change | None = None
    last_year: Change | None = None

    def to_json(self) -> dict:
        return {"kpi": self.kpi, "by": self.by, "key": self.key, "label": self.label, "value": self.value,
                "numerator": self.numerator, "denominator": self.denominator,
                "previous": _change_json(self.previous), "last_year": _change_json(self.last_year)}

    @classmethod
    def from_json(cls, data: dict) -> Figure:
        return cls(kpi=data["kpi"], by=data["by"], key=data["key"], label=data["label"], value=data["value"],
                   numerator=data["numerator"], denominator=data["denominator"],
                   previous=_change_of(data["previous"]), last_year=_change_of(data["last_year"]))


@dataclass
class Snapshot:
    """Everything a document is made from (see the module docstring)."""

    org: OrgNode
    org_code: str
    period: Period  # as counted: ``until`` set when it had not ended at issue
    issued_at: datetime  # aware, the bureau's local time
    trend: str | None  # the trend's bucket: 'month', 'day', or None (too short a period)
    units: list[OrgNode]  # the next level down as listed in the units table, in code order
    kpis: dict[str, KpiInfo]
    figures: list[Figure]
    findings: list[Finding] = field(default_factory=list)  # the comparisons the parts asked for

    def to_json(self) -> dict:
        p = self.period
        return {
            "version": SNAPSHOT_VERSION,
            "org": {"id": self.org.id, "code": self.org_code, "name": self.org.name, "kind": self.org.kind},
            "period": {"label": p.label, "kind": p.kind.value, "start": p.start.isoformat(), "end": p.end.isoformat(),
                       "until": p.until.isoformat() if p.until else None},
            "issued_at": self.issued_at.isoformat(),
            "trend": self.trend,
            "units": [[u.id, u.name, u.kind] for u in self.units],
            "kpis": {slug: k.to_json() for slug, k in self.kpis.items()},
            "figures": [f.to_json() for f in self.figures],
            "findings": [f.to_json() for f in self.findings],
        }

    @classmethod
    def from_json(cls, data: dict) -> Snapshot:
        if data.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"report snapshot version {data.get('version')!r} is not one of {READABLE_VERSIONS}")
        o, p = data["org"], data["period"]
        period = Period(PeriodKind(p["kind"]), date.fromisoformat(p["start"]), date.fromisoformat(p["end"]),
                        datetime.fromisoformat(p["until"]) if p["until"] else None)
        return cls(org=OrgNode(id=o["id"], name=o["name"], kind=o["kind"]), org_code=o["code"], period=period,
                   issued_at=datetime.fromisoformat(data["issued_at"]), trend=data["trend"],
                   units=[OrgNode(id=u[0], name=u[1], kind=u[2]) for u in data["units"]],
                   kpis={contribution.current_slug(slug): KpiInfo.from_json(
                       {**k, "slug": contribution.current_slug(k["slug"])}) for slug, k in data["kpis"].items()},
                   figures=[Figure.from_json({**f, "kpi": contribution.current_slug(f["kpi"])})
                            for f in data["figures"]],
                   findings=[Finding.from_json(f) for f in data.get("findings", [])])


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _baseline(change: Change | None) -> float | None:
    return None if change is None else change.baseline


def differs(a: Figure, b: Figure) -> bool:
    """Whether two versions of one figure differ in anything the document writes."""
    return not all(_same(x, y) for x, y in (
        (a.value, b.value), (a.numerator, b.numerator), (a.denominator, b.denominator),
        (_baseline(a.previous), _baseline(b.previous)), (_baseline(a.last_year), _baseline(b.last_year))))


# --- the outline ----------------------------------------------------------------------------------


class Composer:
    """What a part composes from: the snapshot's figures by KPI and cut, and the words of this
    document (``{span}``, ``{scope}``, ``{org}``, ``{units}`` in a part's texts)."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self._index: dict[tuple[str, str, Any], Figure] = {}
        self._cuts: dict[tuple[str, str], list[Figure]] = {}
        for f in snapshot.figures:
            self._index[(f.kpi, f.by, f.key)] = f
            self._cuts.setdefault((f.kpi, f.by), []).append(f)
        self._findings = {f.ask: f for f in snapshot.findings}
        period = snapshot.period
        previous, last_year = period.previous(), period.last_year()
        # For a year, the previous period is last year: 环比 would repeat 同比.
        self.with_previous = (previous.begin, previous.stop) != (last_year.begin, last_year.stop)
        kinds = {u.kind for u in snapshot.units}
        self.words = {
            "span": wording.span_words(period),
            "scope": SCOPE_WORDS.get(snapshot.org.kind, "本单位"),
            "org": snapshot.org.name,
            "units": UNIT_WORDS.get(kinds.pop(), "下级单位") if len(kinds) == 1 else "下级单位",
        }
        if period.kind is PeriodKind.YEAR:
            self.current_name, self.last_year_name = f"{period.start.year}年", f"{period.start.year - 1}年"
        else:
            self.current_name, self.last_year_name = "本期", "去年同期"

    def text(self, template: str, **extra: str) -> str:
        return template.format(**self.words, **extra)

    def kpi(self, slug: str) -> KpiInfo | None:
        return self.snapshot.kpis.get(slug)

    def total(self, slug: str) -> Figure | None:
        return self._index.get((slug, TOTAL, None))

    def cut(self, slug: str, by: str) -> list[Figure]:
        return self._cuts.get((slug, by), [])

    def previous(self, figure: Figure) -> Change | None:
        return figure.previous if self.with_previous else None

    def says(self, slug: str, figure: Figure | None) -> bool:
        kpi = self.kpi(slug)
        return kpi is not None and figure is not None and (wording.says_something(
            kpi, figure.value, last_year=figure.last_year, previous=self.previous(figure))
            or wording.claims_zero(kpi, figure.value))

    def finding(self, ask: Ask) -> Finding | None:
        """A comparison a part asked for (``Part.asks``), as found when the figures were taken."""
        return self._findings.get(ask)

    def statement(self, slug: str, figure: Figure, *, name: str | None = None) -> str:
        return wording.statement(self.kpi(slug), figure.value, last_year=figure.last_year,
                                 previous=self.previous(figure), name=name)

    def comparisons(self, slug: str, figure: Figure) -> list[str]:
        return wording.comparisons(self.kpi(slug), last_year=figure.last_year, previous=self.previous(figure))

    def has_baseline(self, basis: str) -> bool:
        """Whether any figure of the whole scope has this baseline (last year / the previous period)."""
        return any(getattr(f, basis) is not None and getattr(f, basis).note != "baseline_missing"
                   for f in self.snapshot.figures if f.by == TOTAL)

    def figure(self, slug: str, by: str, key: Any) -> Figure | None:
        return self._index.get((slug, by, key))

    @property
    def own_label(self) -> str:
        return f"{self.snapshot.org.name}（本级）"

    def unit_rows(self, slug: str) -> list[tuple[int | None, str, Figure]]:
        """(unit id, name, figure) of every unit of the next level down, then (None, …) of the
        scope's root itself when records are attributed to it directly (本级)."""
        rows = [(u.id, u.name, f) for u in self.snapshot.units if (f := self._index.get((slug, CHILD, u.id)))]
        own = self._index.get((slug, CHILD, None))
        if own is not None and own.numerator:
            rows.append((None, self.own_label, own))
        return rows


class Part:
    """One part of a section: the KPIs it needs in which cuts, and the blocks it writes."""

    def needs(self) -> list[tuple[str, tuple[str, ...]]]:
        """(cut, KPI slugs): the cut is '' (the whole scope), 'trend', 'units' or a dimension."""
        raise NotImplementedError

    def compose(self, ctx: Composer) -> list[Block]:
        raise NotImplementedError

    def asks(self, kpis: Mapping[str, Any], period: Period) -> list[Ask]:
        """The comparisons beyond 同比 / 环比 it writes (``stats.comparisons``), for the KPI
        declarations ``kpis`` (live at gather, frozen at compose) and the period as counted."""
        return []


def _refs(slugs) -> list[str]:
    return list(dict.fromkeys(slugs))


@dataclass(frozen=True)
class Sentences(Part):
    """KPIs of the whole scope in words, one paragraph: ``intro`` + statements joined by '；'.
    ``names`` gives a KPI another name in this sentence ('其中有效警情')."""

    kpis: tuple[str, ...]
    intro: str = ""
    closing: str = ""
    names: dict[str, str] = field(default_factory=dict)

    def needs(self):
        return [(TOTAL, self.kpis)]

    def compose(self, ctx):
        said = [(s, f) for s in self.kpis if ctx.says(s, f := ctx.total(s))]
        if not said:
            return []
        text = ctx.text(self.intro) + "；".join(ctx.statement(s, f, name=self.names.get(s)) for s, f in said) + "。"
        return [Paragraph(text + ctx.text(self.closing), refs=_refs(s for s, _ in said))]


@dataclass(frozen=True)
class Distribution(Part):
    """Shares of one whole (rates of one denominator summing to 100 %) in words and as bars with
    last year's beside them."""

    kpis: tuple[str, ...]
    labels: tuple[str, ...]
    intro: str
    caption: str

    def needs(self):
        return [(TOTAL, self.kpis)]

    def compose(self, ctx):
        shown = [(s, label, f) for s, label in zip(self.kpis, self.labels)
                 if (f := ctx.total(s)) is not None and f.value is not None]
        if not shown:
            return []
        items = []
        for s, label, f in shown:
            comps = ctx.comparisons(s, f)
            items.append(f"{label}的占 {wording.number(f.value, '%')}" + (f"（{'，'.join(comps)}）" if comps else ""))
        refs = _refs(s for s, _, _ in shown)
        series = [Series(ctx.current_name, [f.value for _, _, f in shown])]
        baselines = [_baseline(f.last_year) for _, _, f in shown]
        if any(b is not None for b in baselines):
            series.append(Series(ctx.last_year_name, baselines))
        return [Paragraph(ctx.text(self.intro) + "，".join(items) + "。", refs=refs),
                Chart(ctx.text(self.caption), "bar", [label for _, label, _ in shown], series, unit="%", refs=refs)]


def _bucket_label(key: str, keys: Sequence[str], by: str) -> str:
    if by == "month":
        year, month = key.split("-")
        return f"{int(month)}月" if len({k[:4] for k in keys}) == 1 else f"{year}年{int(month)}月"
    d = date.fromisoformat(key)
    return f"{d.day}日" if len({k[:7] for k in keys}) == 1 else f"{d.month}月{d.day}日"


@dataclass(frozen=True)
class Trend(Part):
    """A KPI by month (a period longer than 45 days) or by day, as a line with last year's, and
    the highest and the lowest bucket in words when one stands alone there (a bucket cut short
    by a period counted to date can be the highest, never the lowest)."""

    kpi: str
    caption: str = "{name}走势"
    intro: str = "从走势看，"

    def needs(self):
        return [(TREND, (self.kpi,))]

    def compose(self, ctx):
        kpi, by = ctx.kpi(self.kpi), ctx.snapshot.trend
        cells = ctx.cut(self.kpi, by) if by else []
        if kpi is None or len(cells) < 2 or not any(f.value or _baseline(f.last_year) for f in cells):
            return []
        keys = [str(f.key) for f in cells]
        labels = [_bucket_label(k, keys, by) for k in keys]
        series = [Series(ctx.current_name, [f.value for f in cells])]
        if any(_baseline(f.last_year) is not None for f in cells):
            series.append(Series(ctx.last_year_name, [_baseline(f.last_year) for f in cells]))
        blocks: list[Block] = []
        known = [(label, f) for label, f in zip(labels, cells) if f.value is not None]
        whole = known
        if ctx.snapshot.period.until is not None and known and known[-1][1] is cells[-1]:
            whole = known[:-1]  # the bucket still running when counted
        if len(known) >= 2 and whole:
            top, bottom = max(f.value for _, f in known), min(f.value for _, f in whole)
            highest = [label for label, f in known if f.value == top]
            lowest = [label for label, f in whole if f.value == bottom]
            more, less = ("最多", "最少") if kpi.kind is Kind.COUNT else ("最高", "最低")
            said = []  # only a bucket that is alone at the top or the bottom is named
            if top != bottom and len(highest) == 1:
                said.append(f"{highest[0]}{kpi.zh}{more}，为 {wording.amount(top, kpi.unit)}")
            if top != bottom and len(lowest) == 1:
                said.append(f"{lowest[0]}{'' if said else kpi.zh}{less}，为 {wording.amount(bottom, kpi.unit)}")
            if said:
                blocks.append(Paragraph(ctx.text(self.intro) + "；".join(said) + "。", refs=[self.kpi]))
        blocks.append(Chart(ctx.text(self.caption, name=kpi.zh), "line", labels, series, unit=kpi.unit,
                            refs=[self.kpi]))
        return blocks


def _cell(kpi: KpiInfo, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.kind is Kind.COUNT:
        return f"{int(value):,}"
    if kpi.unit == "%":
        return f"{value:.1f}%"
    return wording.amount(value, kpi.unit)


@dataclass(frozen=True)
class UnitTable(Part):
    """A table of the next level down: each KPI's value and 同比 for every unit, and the total."""

    kpis: tuple[str, ...]
    caption: str = "各{units}主要指标"

    def needs(self):
        return [(UNITS, self.kpis), (TOTAL, self.kpis)]

    def compose(self, ctx):
        columns = []
        for slug in self.kpis:
            kpi, total = ctx.kpi(slug), ctx.total(slug)
            rows = ctx.unit_rows(slug)
            if kpi is None or total is None or not rows:
                continue
            if not any(ctx.says(slug, f) for _, _, f in rows) and not ctx.says(slug, total):
                continue  # nothing in this column
            with_change = total.last_year is not None and total.last_year.note != "baseline_missing"
            columns.append((slug, kpi, total, {key: f for key, _, f in rows}, with_change))
        present = {key for column in columns for key in column[3]}
        names = [(u.id, u.name) for u in ctx.snapshot.units if u.id in present]
        if None in present:
            names.append((None, ctx.own_label))
        if not columns or len(names) < 2:
            return []
        header = ["单位"]
        for _, kpi, _, _, with_change in columns:
            header.append(kpi.zh if kpi.unit == "%" else f"{kpi.zh}（{kpi.unit}）")
            if with_change:
                header.append("同比")
        body = []
        for key, name in [*names, ("total", "合计")]:
            row = [name]
            for slug, kpi, total, by_key, with_change in columns:
                f = total if key == "total" else by_key.get(key)
                row.append(_cell(kpi, f.value if f else None))
                if with_change:
                    row.append(wording.change_cell(f.last_year if f else None, rate=kpi.kind is Kind.RATE))
            body.append(row)
        return [Table(ctx.text(self.caption), header, body, refs=_refs(c[0] for c in columns))]


@dataclass(frozen=True)
class UnitRanking(Part):
    """The units of the next level down ranked on each KPI (competition ranks in the KPI's
    direction, as ``stats.ranking``): up to ``bottom`` named at each end — fewer than half the
    units each, at least one —, or one sentence when all are equal. Units with no value are
    not ranked."""

    kpis: tuple[str, ...]
    bottom: int = 3
    intro: str = "从各{units}排名看，"

    def needs(self):
        return [(UNITS, self.kpis)]

    def compose(self, ctx):
        sentences, refs = [], []
        for slug in self.kpis:
            kpi = ctx.kpi(slug)
            units = {u.id: u.name for u in ctx.snapshot.units}
            values = {u: f.value for u in units if (f := ctx.figure(slug, CHILD, u)) is not None}
            ranks = competition_ranks(values, kpi.higher_is_better) if kpi else {}
            if len(ranks) < 2:
                continue
            ranked = sorted(ranks, key=lambda u: (ranks[u], units[u]))
            show = lambda u: f"{units[u]}（{_cell(kpi, values[u])}）"  # noqa: E731
            if values[ranked[0]] == values[ranked[-1]]:
                sentences.append(f"各{ctx.words['units']}{kpi.zh}均为 {_cell(kpi, values[ranked[0]])}")
            else:
                n = max(1, min(self.bottom, (len(ranked) - 1) // 2))  # a minority named at each end
                first, last = ranked[:n], list(reversed(ranked[-n:]))
                sentences.append(f"{kpi.zh}居前的是{'、'.join(map(show, first))}，"
                                 f"居后的是{'、'.join(map(show, last))}")
            refs.append(slug)
        if not sentences:
            return []
        return [Paragraph(ctx.text(self.intro) + "；".join(sentences) + "。", refs=_refs(refs))]


@dataclass(frozen=True)
class UnitChart(Part):
    """One KPI of the units of the next level down as bars, this period beside last year's."""

    kpi: str
    caption: str = "各{units}{name}同比"

    def needs(self):
        return [(UNITS, (self.kpi,))]

    def compose(self, ctx):
        kpi, rows = ctx.kpi(self.kpi), ctx.unit_rows(self.kpi)
        if kpi is None or len(rows) < 2 or not any(f.value or _baseline(f.last_year) for _, _, f in rows):
            return []
        series = [Series(ctx.current_name, [f.value for _, _, f in rows])]
        if any(_baseline(f.last_year) is not None for _, _, f in rows):
            series.append(Series(ctx.last_year_name, [_baseline(f.last_year) for _, _, f in rows]))
        return [Chart(ctx.text(self.caption, name=kpi.zh), "bar", [name for _, name, _ in rows], series,
                      unit=kpi.unit, refs=[self.kpi])]


@dataclass(frozen=True)
class Breakdown(Part):
    """A count by a dimension (a category …): the largest ``top`` in words with their share of the
    whole and 同比, and a table of all that are not nothing."""

    kpi: str
    by: str
    intro: str
    caption: str
    top: int = 5

    def needs(self):
        return [(self.by, (self.kpi,)), (TOTAL, (self.kpi,))]

    def compose(self, ctx):
        kpi, total = ctx.kpi(self.kpi), ctx.total(self.kpi)
        cells = [f for f in ctx.cut(self.kpi, self.by) if ctx.says(self.kpi, f)]
        if kpi is None or total is None or not total.value or not cells:
            return []
        cells.sort(key=lambda f: (-(f.value or 0), str(f.key)))

        def share(f: Figure) -> str:
            return f"{(f.value or 0) / total.value * 100:.1f}%"

        items = [f"{f.label} {wording.amount(f.value, kpi.unit)}，占 {share(f)}"
                 + "".join(f"，{c}" for c in ctx.comparisons(self.kpi, f)) for f in cells[:self.top]]
        blocks: list[Block] = [Paragraph(ctx.text(self.intro) + "；".join(items) + "。", refs=[self.kpi])]
        if len(cells) >= 2:
            with_change = total.last_year is not None and total.last_year.note != "baseline_missing"
            header = ["类别", f"{kpi.zh}（{kpi.unit}）", "占比"] + (["同比"] if with_change else [])
            rows = [[f.label, _cell(kpi, f.value), share(f)]
                    + ([wording.change_cell(f.last_year, rate=False)] if with_change else []) for f in cells]
            blocks.append(Table(ctx.text(self.caption), header, rows, refs=[self.kpi]))
        return blocks


@dataclass(frozen=True)
class Claims(Part):
    """KPIs of the whole scope in words, each with what it claims and holds (``Metric.claims``):
    '刑事警情连续 5 个月零发生（2026年3月以来）', '命案破案率连续 14 年保持 100%', '…，为历史最低',
    a multiple or a rate's relative change beside 同比 — one paragraph, as :class:`Sentences`."""

    kpis: tuple[str, ...]
    intro: str = ""
    closing: str = ""
    names: dict[str, str] = field(default_factory=dict)

    def needs(self):
        return [(TOTAL, self.kpis)]

    def asks(self, kpis, period):
        return [a for s in self.kpis if s in kpis for a in comparisons.asks_for(kpis[s])]

    def compose(self, ctx):
        said = []
        for slug in self.kpis:
            kpi, figure = ctx.kpi(slug), ctx.total(slug)
            if kpi is None or figure is None:
                continue
            found = [f for a in comparisons.asks_for(kpi) if (f := ctx.finding(a)) is not None and f.claimed]
            if found or ctx.says(slug, figure):
                said.append((slug, wording.claimed_statement(kpi, figure.value, last_year=figure.last_year,
                                                             previous=ctx.previous(figure), findings=found,
                                                             name=self.names.get(slug))))
        if not said:
            return []
        text = ctx.text(self.intro) + "；".join(t for _, t in said) + "。" + ctx.text(self.closing)
        return [Paragraph(text, refs=_refs(s for s, _ in said))]


@dataclass(frozen=True)
class Against(Part):
    """KPIs of the whole scope against the same span of an earlier year (基准年, "2022年与2017年
    比"): '全局接警总数 1,234 起，较2017年上升 84.0%；刑事警情 25 起，是2017年的 12.57 倍'. The year
    is ``year``, or ``years_back`` years before the period's; nothing is written when it is not
    earlier than the period or had no records."""

    kpis: tuple[str, ...]
    year: int | None = None
    years_back: int | None = None
    intro: str = "{scope}"
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.year is None) == (self.years_back is None) or (self.years_back is not None and self.years_back < 1):
            raise ValueError("Against: a year, or a number of years back (at least 1)")

    def baseline_year(self, period: Period) -> int | None:
        own = comparisons.year_of(period)
        y = self.year if self.year is not None else own - self.years_back
        return y if MIN_YEAR <= y < own else None

    def needs(self):
        return [(TOTAL, self.kpis)]

    def asks(self, kpis, period):
        y = self.baseline_year(period)
        return [] if y is None else [Ask(comparisons.Comparison.BASELINE_YEAR, s, year=y) for s in self.kpis]

    def compose(self, ctx):
        period = ctx.snapshot.period
        said = [(a.kpi, f) for a in self.asks(ctx.snapshot.kpis, period)
                if ctx.kpi(a.kpi) is not None and (f := ctx.finding(a)) is not None and f.claimed]
        if not said:
            return []
        text = "；".join(wording.year_statement(ctx.kpi(s), f, period=period, name=self.names.get(s)) for s, f in said)
        return [Paragraph(ctx.text(self.intro, year=str(said[0][1].ask.year)) + text + "。",
                          refs=_refs(s for s, _ in said))]


@dataclass(frozen=True)
class ReportSection:
    """A numbered section of the document (or, with ``heading`` None, paragraphs of the lead
    before the first heading), its place among the others and its parts; ``subsections`` are
    numbered （一）（二）… inside it."""

    key: str
    heading: str | None
    order: int
    parts: tuple[Part, ...] = ()
    subsections: tuple[ReportSection, ...] = ()


OUTLINE: Mapping[str, ReportSection] = contribution.declared("sections")
"""Every installed module's sections, by key (loaded on first use)."""


def check_section(section: ReportSection, metrics: Mapping[str, Metric], *, nested: bool = False) -> None:
    """A section's KPIs are declared (in ``metrics``) and allow the cuts it asks for; subsections
    are one level deep and have a heading. Checked when the contributions are loaded."""
    for part in section.parts:
        for cut, slugs in part.needs():
            for slug in slugs:
                metric = metrics.get(slug)
                if metric is None:
                    raise ValueError(f"report section {section.key!r}: no KPI {slug!r}")
                wanted = {TOTAL: (), TREND: ("month", "day"), UNITS: (CHILD,)}.get(cut, (cut,))
                if refused := [d for d in wanted if d not in metric.dimensions]:
                    raise ValueError(f"report section {section.key!r}: {slug} cannot be cut by {refused}")
    for sub in section.subsections:
        if nested or sub.heading is None:
            raise ValueError(f"report section {section.key!r}: subsections are one level deep and have a heading")
        check_section(sub, metrics, nested=True)


def outline(actor: Actor | None = None) -> list[ReportSection]:
    """The declared sections in document order; with ``actor``, those whose every KPI the
    actor's permissions let them read."""
    sections = sorted(OUTLINE.values(), key=lambda s: (s.order, s.key))
    if actor is None:
        return sections
    readable = {m.slug for m in contribution.readable_metrics(actor)}
    return [s for s in sections
            if all(slug in readable for part in _parts([s]) for _, slugs in part.needs() for slug in slugs)]


def _parts(sections: Sequence[ReportSection]):
    for section in sections:
        yield from section.parts
        for sub in section.subsections:
            yield from sub.parts


# --- gather -----------------------------------------------------------------------------------------


def trend_cut(period: Period) -> str | None:
    """The trend's bucket: by month for a period longer than 45 days, by day from two days up."""
    if period.days > 45:
        return "month"
    return "day" if period.days > 1 else None


def _empty(metric: Metric, total: Figure | None, unit: OrgNode) -> Figure:
    """The figure of a unit with no record in any of the three periods."""
    value = engine.empty_value(metric)

    def baseline(change: Change | None) -> Change:
        exists = change is not None and change.note != "baseline_missing"
        return engine.change(value, value if exists else None)

    return Figure(kpi=metric.slug, by=CHILD, key=unit.id, label=unit.name, value=value, numerator=0.0,
                  denominator=0.0 if metric.kind is Kind.RATE else None,
                  previous=baseline(total.previous if total else None),
                  last_year=baseline(total.last_year if total else None))


def gather(*, store: Store, actor: Actor, org: OrgNode, org_code: str, period: Period, issued_at: datetime,
           sections: Sequence[ReportSection] | None = None) -> Snapshot:
    """Every figure the outline needs for ``org`` (inside the actor's jurisdiction: 404 when not)
    and ``period`` — which must be cut already (``engine.to_date``): it is used as given. The
    sections are those the actor may read unless given."""
    sections = outline(actor) if sections is None else sections
    scope = engine.scope_for(store=store, actor=actor, org_unit_id=org.id)
    trend = trend_cut(period)
    kids = engine.children(store=store, scope=scope)
    resolved = {TOTAL: TOTAL, TREND: trend, UNITS: CHILD if kids else None}
    wanted: dict[str, list[str]] = {TOTAL: []}
    for part in _parts(sections):
        for cut, slugs in part.needs():
            by = resolved.get(cut, cut)
            if by is None:
                continue
            for slug in slugs:
                for target in dict.fromkeys((TOTAL, by)):
                    wanted.setdefault(target, [])
                    if slug not in wanted[target]:
                        wanted[target].append(slug)
    figures: list[Figure] = []
    for by, slugs in wanted.items():
        if not slugs:
            continue
        results = engine.compute(store=store, actor=actor, metrics=[METRICS[s] for s in slugs], period=period,
                                 by=(by,) if by else (), org_unit_id=org.id)
        for result in results:
            for cell in result.cells:
                figures.append(Figure(kpi=result.metric.slug, by=by, key=cell.key.get(by) if by else None,
                                      label=cell.labels.get(by, "") if by else org.name, value=cell.value,
                                      numerator=cell.numerator, denominator=cell.denominator,
                                      previous=cell.previous, last_year=cell.last_year))
    with_records = {f.key for f in figures if f.by == CHILD and f.numerator}
    units = [k for k in kids if k.kind in TERRITORIAL_KINDS or k.id in with_records]
    totals = {f.kpi: f for f in figures if f.by == TOTAL}
    seen = {(f.kpi, f.key) for f in figures if f.by == CHILD}
    for slug in wanted.get(CHILD, []):
        figures += [_empty(METRICS[slug], totals.get(slug), u) for u in units if (slug, u.id) not in seen]
    kpis = {slug: KpiInfo.of(METRICS[slug]) for slugs in wanted.values() for slug in slugs}
    asks = [a for part in _parts(sections) for a in part.asks(METRICS, period)]
    found = comparisons.evaluate(store=store, actor=actor, asks=asks, period=period, org_unit_id=org.id,
                                 metrics=[METRICS[s] for s in dict.fromkeys(a.kpi for a in asks)],
                                 now=issued_at.replace(tzinfo=None)) if asks else {}
    return Snapshot(org=org, org_code=org_code, period=period, issued_at=issued_at, trend=trend, units=units,
                    kpis=kpis, figures=figures, findings=list(found.values()))


# --- compose -----------------------------------------------------------------------------------------


def title_of(snapshot: Snapshot) -> str:
    """'新乡市公安局2026年工作综述', with '（截至11月23日）' for a period counted to date."""
    period = snapshot.period
    title = f"{snapshot.org.name}{wording.period_words(period)}工作综述"
    if period.until is not None:
        title += f"（截至{period.last_day.month}月{period.last_day.day}日）"
    return title


def _coverage(ctx: Composer) -> Paragraph:
    """The opening paragraph: the span counted and what each comparison is made with."""
    period = ctx.snapshot.period
    text = f"本综述统计时段为{ctx.words['span']}"
    if period.until is not None:
        text += "（本期尚未结束，数据统计至签发时）"
    last_year = wording.span_words(period.last_year())
    previous = wording.span_words(period.previous())
    same = "同口径" if period.until is not None else "同期"
    with_ly, with_prev = ctx.has_baseline("last_year"), ctx.with_previous and ctx.has_baseline("previous")
    if with_ly and with_prev:
        text += f"；同比为与{last_year}{same}比较，环比为与上期{previous}比较"
    elif with_ly:
        text += f"；同比为与{last_year}{same}比较"
        if ctx.with_previous:
            text += "，上期无数据记录，不作环比"
    elif with_prev:
        text += f"；去年同期无数据记录，不作同比，环比为与上期{previous}比较"
    else:
        text += "；去年同期" + ("与上期" if ctx.with_previous else "") + "无数据记录，不作比较"
    return Paragraph(text + "。各项数据均由业务记录按指标口径计算，口径见附。")


def _cited(lead: Sequence[Block], sections: Sequence[Section]) -> list[str]:
    order: list[str] = []

    def walk(blocks: Sequence[Block]) -> None:
        for block in blocks:
            order.extend(getattr(block, "refs", []))

    walk(lead)
    for section in sections:
        walk(section.blocks)
        for sub in section.subsections:
            walk(sub.blocks)
    return list(dict.fromkeys(order))


def compose(snapshot: Snapshot, sections: Sequence[ReportSection] | None = None) -> Document:
    """The document of a snapshot (pure: the same snapshot gives the same document)."""
    sections = outline() if sections is None else sections
    ctx = Composer(snapshot)
    lead: list[Block] = [_coverage(ctx)]
    body: list[Section] = []
    for declared in sections:
        blocks = [b for part in declared.parts for b in part.compose(ctx)]
        if declared.heading is None:
            lead.extend(blocks)
            continue
        subs = []
        for sub in declared.subsections:
            sub_blocks = [b for part in sub.parts for b in part.compose(ctx)]
            if sub_blocks:
                subs.append(Section(ctx.text(sub.heading), blocks=sub_blocks))
        if blocks or subs:
            body.append(Section(ctx.text(declared.heading), blocks=blocks, subsections=subs))
    if not body:
        lead.append(Paragraph("统计时段内无可统计的业务记录。"))
    definitions = [Definition(slug, snapshot.kpis[slug].zh, snapshot.kpis[slug].definition_zh)
                   for slug in _cited(lead, body) if slug in snapshot.kpis]
    return Document(title=title_of(snapshot), issuer=snapshot.org.name, issued_at=snapshot.issued_at,
                    sections=body, definitions=definitions, lead=lead)


# --- the records counted (what an amendment is detected against) ------------------------------------


RecordSet = dict[str, tuple[np.ndarray, np.ndarray]]  # source → (ids ascending, fingerprints)


def records_counted(*, store: Store, actor: Actor, snapshot: Snapshot) -> RecordSet:
    """The records of every fact source the snapshot's KPIs read, inside its scope, in its
    period or either baseline, with their fingerprints (``engine.record_fingerprints``)."""
    period = snapshot.period
    out: RecordSet = {}
    for name in sorted({k.source for k in snapshot.kpis.values()}):
        out[name] = engine.record_fingerprints(store=store, actor=actor, source=SOURCES[name],
                                               periods=[period, period.previous(), period.last_year()],
                                               org_unit_id=snapshot.org.id)
    return out


def encode_records(records: RecordSet) -> bytes:
    """Compressed: ids as gaps from the previous id (small numbers), fingerprints as 32 bits."""
    arrays = {}
    for name, (ids, fps) in records.items():
        arrays[f"{name}__ids"] = np.diff(ids, prepend=0).astype(np.uint32)
        arrays[f"{name}__fp"] = fps.astype(np.uint32)
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def decode_records(data: bytes) -> RecordSet:
    out: RecordSet = {}
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        for key in arrays.files:
            name, _, part = key.rpartition("__")
            if part == "ids":
                out[name] = (np.cumsum(arrays[key].astype(np.int64)), arrays[f"{name}__fp"].astype(np.uint32))
    return out


def record_count(records: RecordSet) -> int:
    return sum(len(ids) for ids, _ in records.values())


@dataclass(frozen=True)
class RecordChanges:
    """How the records of one fact source counted in a report differ now from at issue."""

    source: str
    added: list[int]  # counted now, not at issue (new, or moved into the scope or span)
    removed: list[int]  # counted at issue, not now (deleted, or moved out)
    changed: list[int]  # counted both times, some counted value differs

    @property
    def total(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)


def compare_records(then: RecordSet, now: RecordSet) -> list[RecordChanges]:
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32))
    out = []
    for name in sorted(set(then) | set(now)):
        (t_ids, t_fp), (n_ids, n_fp) = then.get(name, empty), now.get(name, empty)
        common, ti, ni = np.intersect1d(t_ids, n_ids, assume_unique=True, return_indices=True)
        out.append(RecordChanges(
            source=name,
            added=np.setdiff1d(n_ids, t_ids, assume_unique=True).tolist(),
            removed=np.setdiff1d(t_ids, n_ids, assume_unique=True).tolist(),
            changed=common[t_fp[ti] != n_fp[ni]].tolist()))
    return out


@dataclass(frozen=True)
class FigureChange:
    """A figure of the report as issued and as it would be now (None: not there then / now)."""

    kpi: str
    by: str
    key: Any
    label: str
    then: Figure | None
    now: Figure | None


def compare_figures(then: Snapshot, now: Snapshot) -> list[FigureChange]:
    """The figures of the issued snapshot that would differ now, in its order; then the figures
    that would appear now in one of its cuts (a unit, a category, a bucket with records now)."""
    current = {(f.kpi, f.by, f.key): f for f in now.figures}
    cuts = {(f.kpi, f.by) for f in then.figures}
    out, seen = [], set()
    for f in then.figures:
        key = (f.kpi, f.by, f.key)
        seen.add(key)
        g = current.get(key)
        if g is None or differs(f, g):
            out.append(FigureChange(f.kpi, f.by, f.key, f.label, f, g))
    for key, g in current.items():
        if key not in seen and (g.kpi, g.by) in cuts and (g.numerator or g.value):
            out.append(FigureChange(g.kpi, g.by, g.key, g.label, None, g))
    return out
