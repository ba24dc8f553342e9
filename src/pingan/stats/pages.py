"""HTML pages of the statistics module (统计).

Pages are thin: they parse the form, call the service, repository or engine and render. Every
figure is cut to the actor's jurisdiction by the engine, every record read through its domain's
repository.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import orjson
from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.config import get_settings
from pingan.db.types import MAX_ID
from pingan.db.unit_of_work import end_read
from pingan.errors import DomainError, NotFound, ValidationFailed
from pingan.org import repository as org_repository
from pingan.org.models import OrgKind, OrgUnit
from pingan.stats import contribution, dashboard, engine, wording
from pingan.stats import repository as stats_repository
from pingan.stats import service as report_service
from pingan.stats.dashboard import Where
from pingan.stats.engine import DIMENSION_LABELS, dimensions_of
from pingan.stats.facts import SOURCES
from pingan.stats.metrics import METRICS, Kind, Metric
from pingan.stats.period import Period, PeriodKind, parse_period, year
from pingan.stats.report import Snapshot
from pingan.stats.limits import REPORT_STORE, STATISTICS_STORE
from pingan.stats.routes import current_store, parse_filters
from pingan.stats.store import Store
from pingan.web.deps import get_db, require
from pingan.web.params import ascii_id, is_ascii_digits
from pingan.web.routing import api_router
from pingan.web.templating import render, request_language

router = api_router()


# --- issued work summaries (工作综述): list, issue form, one report with its amendments -----------


REPORTS_PAGE_SIZE = 30
REPORT_ORG_KINDS = (OrgKind.BUREAU, OrgKind.BRANCH, OrgKind.STATION)  # units a summary is issued for
AMENDED_SHOWN = 50  # record links per kind of amendment on the page (the API pages through all)
CHANGE_LABELS = {"changed": ("数据变更", "changed"), "added": ("新增计入", "added"),
                 "removed": ("不再计入", "removed")}
CUT_LABELS = {"": ("全部", "total"), "child": ("下级单位", "unit"), "month": ("月", "month"), "day": ("日", "day")}


def _cut_label(by: str) -> tuple[str, str]:
    """A report's cut in words: the statistics' own, or the dimension a source declares."""
    if by in CUT_LABELS:
        return CUT_LABELS[by]
    for source in SOURCES.values():
        if by in (names := engine.dimensions_of(source)):
            return names[by]
    return (by, by)


def _report_org_choices(db: Session, actor: Actor) -> list:
    return [u for u in org_repository.list_org_units(db=db, actor=actor) if u.kind in REPORT_ORG_KINDS]


def _default_period(store: Store) -> str:
    return str(datetime.now(ZoneInfo(store.timezone)).year)


def _reports_page(request: Request, db: Session, actor: Actor, store: Store, *, page: int = 1,
                  values: dict | None = None, error: DomainError | None = None, status_code: int = 200):
    rows, total = stats_repository.list_reports(db=db, actor=actor, limit=REPORTS_PAGE_SIZE,
                                                offset=(page - 1) * REPORTS_PAGE_SIZE)
    can_issue = actor.can(Perm.STATS_REPORT)
    return render(request, "stats/reports.html", {
        "reports": rows, "total": total, "page": page, "pages": max(1, -(-total // REPORTS_PAGE_SIZE)),
        "can_issue": can_issue, "orgs": _report_org_choices(db, actor) if can_issue else [],
        "values": values or {"period": _default_period(store), "org": ""}, "error": error,
    }, status_code)


@router.get("/stats/reports")
def reports_page(request: Request, page: int = Query(1, ge=1, le=100_000),
                 actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
                 store: Store = Depends(current_store)):
    """工作综述：辖区内已签发的综述，签发新的综述。"""
    return _reports_page(request, db, actor, store, page=page)


@router.post("/stats/reports")
def issue_report_page(request: Request, period: str = Form("", max_length=40), org: str = Form("", max_length=12),
                      actor: Actor = Depends(require(Perm.STATS_REPORT)), db: Session = Depends(get_db),
                      store: Store = REPORT_STORE):
    """签发：冻结数据、生成文档，然后打开这份综述。"""
    values = {"period": period.strip(), "org": org.strip()}
    try:
        if values["org"] and ascii_id(values["org"]) is None:
            raise ValidationFailed("org：请选择机构", "org: choose an org unit", field="org")
        row = report_service.issue(db=db, store=store, actor=actor, period=values["period"],
                                   org_unit_id=int(values["org"]) if values["org"] else None)
    except DomainError as exc:
        return _reports_page(request, db, actor, store, values=values, error=exc, status_code=exc.status_code)
    return RedirectResponse(f"/stats/reports/{row.id}", status_code=303)


def _figure_text(kpi, value) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}" if kpi.kind is Kind.COUNT else wording.amount(value, kpi.unit)


def _delta_text(kpi, before, after) -> str:
    if before is None or after is None:
        return "—"
    delta = after - before
    if kpi is not None and kpi.kind is Kind.COUNT:
        return f"{delta:+,.0f}"
    if kpi is not None and kpi.kind is Kind.RATE:
        return f"{delta:+.1f}个百分点"
    return f"{delta:+,.1f}{kpi.unit if kpi else ''}"


ReportId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/stats/reports/{report_id}")
def report_page(request: Request, report_id: ReportId, actor: Actor = Depends(require(Perm.STATS_READ)),
                db: Session = Depends(get_db)):
    """一份综述：签发信息、下载、主要数据与指标口径；签发后的数据更正随后载入（见下）。"""
    row = report_service.get(db=db, actor=actor, report_id=report_id, load=("figures", "definitions"))
    snapshot = Snapshot.from_json(row.figures)
    totals = []
    for f in snapshot.figures:
        kpi = snapshot.kpis.get(f.kpi)
        if f.by == "" and kpi is not None:
            rate = kpi.kind is Kind.RATE
            totals.append({"name": kpi.zh, "slug": f.kpi, "value": _figure_text(kpi, f.value),
                           "last_year": wording.change_cell(f.last_year, rate=rate),
                           "previous": wording.change_cell(f.previous, rate=rate)})
    return render(request, "stats/report.html", {"report": row, "totals": totals, "definitions": row.definitions})


@router.get("/stats/reports/{report_id}/amendments")
def report_amendments_fragment(request: Request, report_id: ReportId,
                               actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
                               store: Store = STATISTICS_STORE):
    """签发后的数据更正：计入本综述的记录有哪些变更，哪些数据现在会不同（现算现比，可能需数秒）。"""
    row = report_service.get(db=db, actor=actor, report_id=report_id, load=("figures", "records"))
    found = report_service.amendments(store=store, actor=actor, report=row)
    changes = []
    for item in found.figures:
        kpi = found.kpis.get(item.kpi)
        before = item.then.value if item.then else None
        after = item.now.value if item.now else None
        changes.append({"name": kpi.zh if kpi else item.kpi, "cut": _cut_label(item.by),
                        "label": item.label, "then": _figure_text(kpi, before) if kpi else before,
                        "now": _figure_text(kpi, after) if kpi else after, "delta": _delta_text(kpi, before, after)})
    fragment = request.headers.get("hx-request") == "true"
    return render(request, "stats/_report_amendments.html" if fragment else "stats/report_amendments.html", {
        "report": row, "found": found, "changes": changes, "change_labels": CHANGE_LABELS,
        "amended_shown": AMENDED_SHOWN, "record_hrefs": {n: s.record_href for n, s in SOURCES.items()}})


# --- dashboards (统计看板): /stats (the leadership dashboard of the actor's jurisdiction, or of one
# branch in it; a station chief lands on their station's), /stats/stations/{id} (one station: its
# figures, its grids, its rank among its peers) and /stats/records (the records behind any figure,
# whose total is the figure). They read the period and the org unit, ask stats.dashboard for the
# figures and render; each ends its read transaction before the statistics store is read.


RECORDS_PAGE_SIZE = 50
PERIOD_KINDS: dict[str, tuple[str, str]] = {
    PeriodKind.YEAR: ("年", "Year"), PeriodKind.QUARTER: ("季度", "Quarter"), PeriodKind.MONTH: ("月", "Month"),
    PeriodKind.WEEK: ("周", "Week"), PeriodKind.DAY: ("日", "Day"), PeriodKind.CUSTOM: ("自定义", "Custom range"),
}
LEVEL_LABELS = {"branch": ("分局", "Branches"), "station": ("派出所", "Stations"), "grid": ("网格", "Grids")}
ORG_FILTERS = ("branch", "station", "org_unit", "child")
SlugParam = Annotated[str, Query(max_length=60, pattern=r"^[a-z0-9_]*$")]
OrgParam = Annotated[int | None, Query(ge=1, le=MAX_ID)]


# --- words for the templates ----------------------------------------------------------------------


class Words:
    """Numbers and changes in the page's language, in the words of ``stats.wording``."""

    def __init__(self, lang: str):
        self.lang = lang

    def name(self, metric: Metric) -> str:
        return metric.en if self.lang == "en" else metric.zh

    def unit(self, metric: Metric) -> str:
        return metric.unit_en if self.lang == "en" else metric.unit

    def value(self, metric: Metric, value: float | None) -> str:
        if value is None and self.lang == "en":
            return "no data"
        return wording.number(value, self.unit(metric))

    def count(self, value: float | None) -> str:
        return "—" if value is None else f"{int(value):,}"

    def change(self, change, basis: str, metric: Metric) -> str:
        return wording.change_words(change, basis=basis, rate=metric.kind is Kind.RATE, lang=self.lang)

    def trend(self, change, metric: Metric) -> str:
        """'up' / 'down' / 'flat' / '' and whether that is good: a CSS class."""
        if change is None or change.absolute is None or round(change.absolute, 4) == 0:
            return "flat"
        up = change.absolute > 0
        return ("up" if up else "down") + (" good" if up == metric.higher_is_better else " bad")


# --- the period, the org unit ---------------------------------------------------------------------


def _today() -> datetime:
    return datetime.now(ZoneInfo(get_settings().timezone)).replace(tzinfo=None)


def period_from(*, period: str, kind: str, year_text: str, quarter: str, month: str, week: str, day: str,
                start: str, end: str) -> Period:
    """The period asked for: its canonical spelling (``period``), or the picker's fields (the
    kind and its input — an HTML month, week or date input gives the canonical spelling already);
    the current year when nothing is given. 422 naming ``period`` when it cannot be read."""
    if period.strip():
        return parse_period(period)
    match kind:
        case "":
            return year(_today().year)
        case PeriodKind.YEAR:
            text = year_text
        case PeriodKind.QUARTER:
            text = f"{year_text}-Q{quarter}"
        case PeriodKind.MONTH:
            text = month
        case PeriodKind.WEEK:
            text = week
        case PeriodKind.DAY:
            text = day
        case PeriodKind.CUSTOM:
            text = f"{start}..{end}"
        case _:
            raise ValidationFailed("kind：统计周期类型应为年、季度、月、周、日或自定义",
                                   "kind: the period kind is year, quarter, month, week, day or custom", field="kind")
    return parse_period(text)


def jurisdiction_root(actor: Actor) -> int:
    """The org unit at the top of the actor's jurisdiction (the last id of its path)."""
    return int(actor.org_path.strip("/").split("/")[-1])


def _unit(db: Session, actor: Actor, org_unit_id: int) -> OrgUnit:
    unit = org_repository.get_org_unit(db=db, actor=actor, org_unit_id=org_unit_id)
    if unit is None:
        raise NotFound("机构不存在或不在辖区内", "No such org unit in your jurisdiction")
    return unit


def _period_context(period: Period) -> dict:
    return {"period": period, "previous": period.previous(), "last_year": period.last_year(),
            "period_query": urlencode(dashboard.period_query(period))}


def _picker(db: Session, actor: Actor, where: Where, *, units: bool = True) -> dict:
    """The period picker's fields and, unless ``units`` is False (a station's dashboard), the org
    units to choose from: the whole jurisdiction, its branches with their stations."""
    p = where.period
    branches = org_repository.list_org_units(db=db, actor=actor, kind=OrgKind.BRANCH) if units else []
    stations = org_repository.list_org_units(db=db, actor=actor, kind=OrgKind.STATION) if units else []
    groups = [{"unit": b, "stations": [s for s in stations if s.path.startswith(b.path)]} for b in branches]
    loose = [s for s in stations if not any(s.path.startswith(b.path) for b in branches)]
    return {"fixed_station": not units,
        "kinds": PERIOD_KINDS, "kind": p.kind.value, "year": p.start.year, "quarter": (p.start.month - 1) // 3 + 1,
        "month": p.start.strftime("%Y-%m"), "day": p.start.isoformat(),
        "week": f"{p.start.isocalendar().year}-W{p.start.isocalendar().week:02d}",
        "start": p.start.isoformat(), "end": (p.end - timedelta(days=1)).isoformat(),
        "groups": groups, "loose": loose, "selected": where.org_unit_id, "root": jurisdiction_root(actor),
    }


def _metric(slug: str, actor: Actor, which: str, field_name: str, dimension: str) -> Metric:
    """The KPI asked for in ``field_name`` (or the dashboards' default for ``which``), which the
    actor may read and which can be cut by ``dimension``; 422 naming the field otherwise."""
    metric = engine.get_metric(slug or dashboard.default_kpi(actor, which, dimension), field_name=field_name,
                               actor=actor)
    if dimension not in metric.dimensions:
        raise ValidationFailed(f"{field_name}：指标 {metric.slug} 不能按「{DIMENSION_LABELS.get(dimension, (dimension,))[0]}」统计",
                               f"{field_name}: {metric.slug} has no {dimension} cut", field=field_name)
    return metric


def _options(dimension: str, actor: Actor) -> list[Metric]:
    return [m for m in contribution.readable_metrics(actor) if dimension in m.dimensions]


def _distributions(panels: list, distribution: list, lang: str) -> tuple[dict, list]:
    """The panels' distribution charts by box name, and the boxes (name, caption) in order
    (``distribution``: the panels' figures, in their order)."""
    charts, boxes, start = {}, [], 0
    for panel in panels:
        figures = distribution[start:start + len(panel.distribution)]
        start += len(panel.distribution)
        if chart := dashboard.distribution_chart(panel, figures, lang):
            name = "distribution" if not boxes else f"distribution-{panel.source}"
            charts[name] = chart
            boxes.append((name, panel.distribution_title))
    return charts, boxes


# The charts that load after the page (``/stats/charts``): the page itself asks the engine only
# for its cards and its ranking, so that it answers within its time budget at city scale; each
# part below is one request of its own, which the browser sends as the page arrives.
CHART_PARTS = ("trend", "breakdowns")


def _trend_chart(*, store: Store, actor: Actor, where: Where, lang: str, chart: Metric) -> dict:
    return {"trend": dashboard.trend(store=store, actor=actor, where=where, metric=chart, lang=lang).chart(lang)}


def _breakdown_charts(*, store: Store, actor: Actor, where: Where, lang: str) -> tuple[dict, list]:
    """The breakdowns of the panels the actor may read (the incidents by zone class, hour of day
    and top-level category …): the charts by name, and the breakdowns in order."""
    en = lang == "en"
    charts, shown = {}, []
    for panel in dashboard.panels(actor):
        source = SOURCES[panel.source]
        for b in panel.breakdowns:
            declared = next((d for d in source.dimensions if d.name == b.dimension), None)
            members = labels = None
            if b.dimension == "hour":
                members = dashboard.hour_members(lang)
            elif declared is not None and declared.values:
                members = {k: pair[1] if en else pair[0] for k, pair in declared.values.items()}
            elif declared is not None and declared.labels and en:
                labels = engine.value_labels(store=store, table=declared.labels, lang=lang)
            series = dashboard.by_dimension(store=store, actor=actor, where=where,
                                            metrics=[METRICS[s] for s in b.kpis], dimension=b.dimension,
                                            members=members, labels=labels, order=b.order)
            charts[b.name] = dashboard.breakdown_chart(b.name, series, b.title, lang, last_year=b.last_year)
            shown.append(b)
    return charts, shown


def _charts_hrefs(where: Where, chart: Metric) -> dict[str, str]:
    """The address of each part of the charts for the page's view: the period as the page
    counted it (``until``), so that the charts and the cards are cut at the same minute."""
    base = dashboard.period_query(where.period)
    if where.org_unit_id is not None:
        base.append(("org", str(where.org_unit_id)))
    return {part: "/stats/charts?" + urlencode([("part", part), *base] + ([("chart", chart.slug)]
                                                                         if part == "trend" else []))
            for part in CHART_PARTS}


@router.get("/stats/charts")
def charts_fragment(
    request: Request, part: str = Query(..., pattern="^(trend|breakdowns)$"),
    period: str = Query(..., min_length=4, max_length=30), until: str = Query("", max_length=16),
    org: OrgParam = None, chart: SlugParam = "",
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
):
    """看板图表（随页面加载）：趋势，或按区域类别、时段、警情大类的分布 — 图表框、数据表和图表数据。"""
    where = Where.now(store, dashboard.parse_until(until, parse_period(period)), org)
    lang = request_language(request)
    breakdowns = []
    if part == "trend":
        metric = _metric(chart, actor, "chart", "chart", dashboard.bucket_of(where.period))
        end_read(db)
        charts = _trend_chart(store=store, actor=actor, where=where, lang=lang, chart=metric)
    else:
        end_read(db)
        charts, breakdowns = _breakdown_charts(store=store, actor=actor, where=where, lang=lang)
    return render(request, "stats/_charts.html", {"w": Words(lang), "part": part, "charts": charts,
                                                  "breakdowns": breakdowns})


def _panel_parts(actor: Actor, where: Where) -> list[dict]:
    """One part per fact source the actor may read (``/stats/panels``): its cards and its
    distribution, cut at the page's ``until`` — so that a page's time does not grow with the
    number of sources, each being one request of its own."""
    base = dashboard.period_query(where.period)
    if where.org_unit_id is not None:
        base.append(("org", str(where.org_unit_id)))
    return [{"source": s.name, "zh": s.zh, "en": s.en,
             "href": "/stats/panels?" + urlencode([("source", s.name), *base])}
            for s in contribution.readable_sources(actor)]


@router.get("/stats/panels")
def panel_fragment(
    request: Request, source: SlugParam, period: str = Query(..., min_length=4, max_length=30),
    until: str = Query("", max_length=16), org: OrgParam = None,
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
):
    """看板的一个数据源（随页面加载）：它的指标卡和分布图。"""
    declared = SOURCES.get(source)
    if declared is None or not contribution.may_read(actor, declared):
        raise ValidationFailed(f"source：数据源「{source[:40]}」不存在", f"source: no fact source {source[:40]!r}",
                               field="source")
    where = Where.now(store, dashboard.parse_until(until, parse_period(period)), org)
    lang = request_language(request)
    end_read(db)
    groups, distribution = dashboard.cards(store=store, actor=actor, where=where, source=source)
    # the first panel's distribution is the dashboard's 'distribution' box (as on a station's page)
    drawn = [p.source for p in dashboard.panels(actor) if p.distribution]
    name = "distribution" if drawn[:1] == [source] else f"distribution-{source}"
    charts, boxes = _distributions([p for p in dashboard.panels(actor) if p.source == source], distribution, lang)
    charts = {name: chart for chart in charts.values()}
    return render(request, "stats/_panel.html", {
        "w": Words(lang), "source": declared, "groups": groups, "charts": charts,
        "distribution_boxes": [(name, caption) for _, caption in boxes]})


def _grid_geojson_href(org_unit_id: int | None) -> str:
    query = {"format": "geojson"}
    if org_unit_id is not None:
        query["org"] = str(org_unit_id)
    return "/api/v1/grids?" + urlencode(query)


# --- the leadership dashboard ---------------------------------------------------------------------


@router.get("/stats")
def leadership_dashboard(
    request: Request,
    period: str = Query("", max_length=30), kind: str = Query("", max_length=10),
    year_text: str = Query("", alias="year", max_length=4), quarter: str = Query("", max_length=1),
    month: str = Query("", max_length=7), week: str = Query("", max_length=8), day: str = Query("", max_length=10),
    start: str = Query("", alias="from", max_length=10), end: str = Query("", alias="to", max_length=10),
    org: OrgParam = None, chart: SlugParam = "", map: SlugParam = "", rank: SlugParam = "",
    level: str = Query("", max_length=10),
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
):
    """统计看板：辖区（或所选单位）的指标卡、趋势、下级单位对比、分布、网格地图和排名。"""
    asked = period_from(period=period, kind=kind, year_text=year_text, quarter=quarter, month=month, week=week,
                        day=day, start=start, end=end)
    unit = _unit(db, actor, org if org is not None else jurisdiction_root(actor))
    if unit.kind == OrgKind.STATION:
        return RedirectResponse(f"/stats/stations/{unit.id}?" + urlencode({"period": asked.label}), status_code=303)
    where = Where.now(store, asked, org if org is not None and org != jurisdiction_root(actor) else None)
    counted = where.period
    lang = request_language(request)
    subordinate = dashboard.SUBORDINATE.get(str(unit.kind), "grid")
    levels = [subordinate] + (["station"] if subordinate == "branch" else [])
    level = level or subordinate
    if level not in levels:
        raise ValidationFailed(f"level：排名层级应为 {'、'.join(LEVEL_LABELS[k][0] for k in levels)}",
                               f"level: rank {' or '.join(LEVEL_LABELS[k][1].lower() for k in levels)}",
                               field="level")
    chart_metric = _metric(chart, actor, "chart", "chart", subordinate)
    rank_metric = _metric(rank, actor, "rank", "rank", level)
    map_metric = _metric(map, actor, "map", "map", "grid")
    picker = _picker(db, actor, where)
    end_read(db)  # the rest reads the statistics store only
    # the bars (chart KPI by subordinate unit) and the ranking in one engine call when they share the level
    bars, ranked = dashboard.units(store=store, actor=actor, where=where, level=subordinate, metrics=[chart_metric],
                                   rank_metric=rank_metric if level == subordinate else chart_metric)
    if level != subordinate:
        _, ranked = dashboard.units(store=store, actor=actor, where=where, level=level, metrics=[rank_metric],
                                    rank_metric=rank_metric)
    charts = {"units": bars[chart_metric.slug].chart(lang)}
    return render(request, "stats/dashboard.html", {
        **_period_context(counted), "w": Words(lang), "where": where, "unit": unit, "subordinate": subordinate,
        "level": level, "levels": {k: LEVEL_LABELS[k] for k in levels},
        "level_labels": LEVEL_LABELS, "panel_parts": _panel_parts(actor, where), "ranked": ranked,
        "chart_metric": chart_metric, "rank_metric": rank_metric, "map_metric": map_metric,
        "chart_options": _options(subordinate, actor), "rank_options": _options(level, actor),
        "map_options": _options("grid", actor), "picker": picker, "charts": charts, "distribution_boxes": [], "charts_hrefs": _charts_hrefs(where, chart_metric),
        "geojson_href": _grid_geojson_href(where.org_unit_id), "grid_values_href": "/stats/grid-values",
    })


@router.get("/stats/grid-values")
def grid_values(
    request: Request, kpi: SlugParam, period: str = Query(..., min_length=4, max_length=30),
    until: str = Query("", max_length=16), org: OrgParam = None,
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
):
    """One KPI for every grid of the scope, for the map's KPI select (JSON, the shape it embeds)."""
    where = Where.now(store, dashboard.parse_until(until, parse_period(period)), org)
    metric = _metric(kpi, actor, "map", "kpi", "grid")
    end_read(db)
    values = dashboard.grid_values(store=store, actor=actor, where=where, metric=metric)
    # orjson: the standard encoder took a tenth of the request for a city's 4,500 grids
    return Response(orjson.dumps(values.chart(request_language(request)), option=orjson.OPT_NON_STR_KEYS),
                    media_type="application/json")


# --- the station dashboard ------------------------------------------------------------------------


@router.get("/stats/stations/{station_id}")
def station_dashboard(
    request: Request, station_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    period: str = Query("", max_length=30), kind: str = Query("", max_length=10),
    year_text: str = Query("", alias="year", max_length=4), quarter: str = Query("", max_length=1),
    month: str = Query("", max_length=7), week: str = Query("", max_length=8), day: str = Query("", max_length=10),
    start: str = Query("", alias="from", max_length=10), end: str = Query("", alias="to", max_length=10),
    chart: SlugParam = "", map: SlugParam = "",
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
):
    """派出所看板：本所指标、趋势、分布、网格（表格和地图），以及在分局和全局派出所中的排名。"""
    asked = period_from(period=period, kind=kind, year_text=year_text, quarter=quarter, month=month, week=week,
                        day=day, start=start, end=end)
    unit = _unit(db, actor, station_id)
    if unit.kind != OrgKind.STATION:
        raise NotFound("该机构不是派出所", "This org unit is not a police station")
    where = Where.now(store, asked, station_id)
    lang = request_language(request)
    chart_metric = _metric(chart, actor, "chart", "chart", dashboard.bucket_of(where.period))
    map_metric = _metric(map, actor, "map", "map", "grid")
    picker = _picker(db, actor, where, units=False)
    end_read(db)  # the rest reads the statistics store only
    groups, distribution, peers = dashboard.station_view(store=store, actor=actor, station_id=station_id,
                                                         station_path=unit.path, where=where)
    grid_metrics = [METRICS[s] for s in next((p.grid_table for p in dashboard.panels(actor) if p.grid_table), ())]
    charts, boxes = _distributions(dashboard.panels(actor), distribution, lang)
    rows = []
    if grid_metrics:
        scope = engine.scope_for(store=store, actor=actor, org_unit_id=station_id)
        grids = dashboard.by_dimension(store=store, actor=actor, where=where, metrics=grid_metrics, dimension="grid",
                                       members=engine.members(store=store, scope=scope, level="grid"))
        rows = [{"id": f.key, "name": f.label, "figures": [grids[m.slug].figures[i] for m in grid_metrics]}
                for i, f in enumerate(grids[grid_metrics[0].slug].figures)]
    rows.sort(key=lambda r: (-(r["figures"][0].value or 0), r["name"]))
    return render(request, "stats/station.html", {
        **_period_context(where.period), "w": Words(lang), "where": where, "unit": unit, "groups": groups,
        "distribution": distribution, "charts": charts, "grid_metrics": grid_metrics, "grid_rows": rows,
        "peers": peers, "chart_metric": chart_metric, "map_metric": map_metric,
        "chart_options": _options(dashboard.bucket_of(where.period), actor), "map_options": _options("grid", actor),
        "distribution_boxes": boxes, "picker": picker, "charts_hrefs": _charts_hrefs(where, chart_metric),
        "geojson_href": _grid_geojson_href(station_id), "grid_values_href": "/stats/grid-values",
        "back_href": _back_href(actor, unit, where.period),
    })


def _back_href(actor: Actor, unit: OrgUnit, period: Period) -> str | None:
    """The dashboard of the unit above, when it is inside the actor's jurisdiction."""
    parent_path = "/" + "/".join(unit.path.strip("/").split("/")[:-1]) + "/"
    if unit.parent_id is None or not parent_path.startswith(actor.org_path):
        return None
    query = {"period": period.label}
    if unit.parent_id != jurisdiction_root(actor):
        query["org"] = str(unit.parent_id)
    return "/stats?" + urlencode(query)


# --- the records behind a figure ------------------------------------------------------------------


def _filter_labels(db: Session, store: Store, actor: Actor, metric: Metric, filters: dict[str, str | None],
                   lang: str) -> list[tuple[str, str]]:
    """Each filter in words ('派出所：西街派出所'): an org unit by its name, a value of a dimension
    table (a grid, a category) by its name, a declared value by its label; an org unit or a grid
    outside the jurisdiction is a 404."""
    en = lang == "en"
    names = dimensions_of(metric.source)
    declared = {d.name: d for d in metric.source.dimensions}
    tables = contribution.loaded().dimension_tables
    out = []
    for name, value in filters.items():
        label = names.get(name, (name, name))
        shown = "—" if value in (None, engine.NULL_KEY) else str(value)
        dimension = declared.get(name)
        if value not in (None, engine.NULL_KEY):
            table = tables.get(dimension.labels) if dimension is not None and dimension.labels else None
            if name in ORG_FILTERS or (table is not None and table.org_column):
                if ascii_id(str(value)) is None:
                    raise ValidationFailed(f"filter：{name} 应为编号", f"filter: {name} takes an id", field="filter")
            if name in ORG_FILTERS:
                shown = _unit(db, actor, int(value)).name
            elif table is not None:
                shown = engine.value_label(store=store, actor=actor, table=table.name, key=str(value),
                                           lang=lang) or shown
            elif dimension is not None and dimension.values:
                pair = dimension.values.get(str(value))
                shown = (pair[1] if en else pair[0]) if pair else shown
            elif name == "hour" and is_ascii_digits(str(value)) and len(str(value)) <= 2:
                shown = f"{int(value):02d}:00–{int(value):02d}:59"
        out.append((label[1] if en else label[0], shown))
    return out


def _fields(item) -> dict:
    """A record as the generic records table shows it: its API fields."""
    if isinstance(item, dict):
        return item
    return item.model_dump() if hasattr(item, "model_dump") else dict(vars(item))


@router.get("/stats/records")
def figure_records(
    request: Request, kpi: SlugParam, period: str = Query(..., min_length=4, max_length=30),
    until: str = Query("", max_length=16), filters: Annotated[list[str] | None, Query(alias="filter")] = None,
    part: str = Query("numerator", pattern="^(numerator|denominator)$"), org: OrgParam = None,
    page: int = Query(1, ge=1, le=100_000),
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
):
    """指标明细：构成一个数字的全部记录（已脱敏，分页），总数即该数字。"""
    metric = engine.get_metric(kpi, actor=actor)
    counted = dashboard.parse_until(until, parse_period(period))
    wanted = parse_filters(filters)
    lang = request_language(request)
    scope_unit = _unit(db, actor, org) if org is not None else None
    where = Where(counted, org)
    end_read(db)  # the statistics store next; the records are read back afterwards
    labels = _filter_labels(db, store, actor, metric, wanted, lang)
    found = engine.drill_down(store=store, actor=actor, metric=metric, period=counted, filters=wanted, part=part,
                              org_unit_id=org, limit=RECORDS_PAGE_SIZE, offset=(page - 1) * RECORDS_PAGE_SIZE)
    result = dashboard.compute(store=store, actor=actor, metrics=[metric], where=where, filters=wanted,
                               compare=False)[metric.slug]
    cell = result.cells[0] if result.cells else None
    items = metric.source.list_records(db, actor, found.ids)
    org_names = org_repository.org_unit_names_unscoped(db=db, org_unit_ids=[getattr(i, "org_unit_id", 0) for i in items])
    pages = max(1, -(-found.total // RECORDS_PAGE_SIZE))
    base = [("kpi", metric.slug), *dashboard.period_query(found.period)]
    base += [("filter", f"{k}:{engine.NULL_KEY if v is None else v}") for k, v in wanted.items()]
    if org is not None:
        base.append(("org", str(org)))

    def page_url(n: int, which: str = part) -> str:
        query = list(base) + ([("part", which)] if which != "numerator" else [])
        if n > 1:
            query.append(("page", str(n)))
        return "/stats/records?" + urlencode(query)

    return render(request, "stats/records.html", {
        **_period_context(found.period), "w": Words(lang), "metric": metric, "part": part, "total": found.total,
        "items": items, "source": metric.source.name, "filter_labels": labels, "cell": cell,
        "scope_unit": scope_unit, "org_names": org_names,
        "records_template": metric.source.records_template or "stats/_records_generic.html",
        "fields": [_fields(i) for i in items] if not metric.source.records_template else [],
        **(metric.source.records_context(db) if metric.source.records_context else {}),
        "page": page, "pages": pages, "page_url": page_url,
        "numerator_href": page_url(1, "numerator"), "denominator_href": page_url(1, "denominator"),
        "dashboard_href": "/stats?" + urlencode([("period", found.period.label)] + (
            [("org", str(org))] if org is not None else [])),
    })

