"""JSON API of the statistics module (统计), under /api/v1/stats. Thin: each handler parses the
period and dimensions, calls the engine or the ranking, and shapes the answer. Every figure is
restricted to the actor's jurisdiction by the engine; records behind a figure come back through
the owning domain's repository (jurisdiction-filtered, personal data masked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import MAX_ID
from pingan.errors import ValidationFailed
from pingan.stats import contribution, engine, limits, ranking
from pingan.stats.period import PERIOD_PATTERN, parse_period
from pingan.stats.schemas import KpiRead, KpiValues, PeriodRead, RankingRead, RecordsRead
from pingan.stats.limits import REPORT_STORE, STATISTICS_STORE, current_store  # noqa: F401 (tests override it)
from pingan.stats.store import Store
from pingan.web.deps import get_db, require
from pingan.web.routing import api_router

router = api_router(tags=["stats"])

_ERRORS = {403: {"description": "role may not read statistics"},
           404: {"description": "org unit not found or outside jurisdiction"},
           422: {"description": "invalid period, KPI, dimension or filter, or more of them than allowed"},
           429: {"description": "too many statistics requests of this user at once (Retry-After)"},
           503: {"description": "statistics service (the statistics process) unavailable, or the request "
                                "ran out of its time budget (Retry-After)"}}

Slug = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
PeriodParam = Annotated[str, Query(min_length=4, max_length=30, pattern=PERIOD_PATTERN, description=(
    "2026 | 2026-Q3 | 2026-07 | 2026-W05 | 2026-07-15 | 2026-03-01..2026-06-30"))]
ByParam = Annotated[list[str] | None, Query(description="dimensions, repeated or comma-separated")]
FilterParam = Annotated[list[str] | None, Query(alias="filter", description=(
    "dimension:value, repeated (e.g. station:17, category:10, grid:null)"))]
OrgParam = Annotated[int | None, Query(ge=1, le=MAX_ID, description="restrict to this org unit's subtree")]


def _by(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _cuts(values: list[str] | None) -> list[str]:
    """The ``by`` dimensions (a repeated one counts once; at most ``PINGAN_STATS_MAX_CUTS``)."""
    return limits.cut_names(_by(values))


def parse_filters(values: list[str] | None) -> dict[str, str | None]:
    """``dimension:value`` pairs (a repeated one counts once; at most ``PINGAN_STATS_MAX_FILTERS``)."""
    out: dict[str, str | None] = {}
    for value in limits.filter_texts(values or []):
        name, sep, key = value.partition(":")
        if not sep or not name.strip():
            raise ValidationFailed("filter：应为「维度:取值」", "filter: use dimension:value", field="filter")
        out[name.strip()] = key.strip()
    return out


@router.get("/stats/kpis", response_model=list[KpiRead], responses=_ERRORS)
def list_kpis(actor: Actor = Depends(require(Perm.STATS_READ))) -> list[KpiRead]:
    """Every KPI the actor may read (of the fact sources their role reads) with its definition
    (指标口径), unit and allowed dimensions."""
    return [KpiRead.build(m) for m in contribution.readable_metrics(actor)]


@router.get("/stats/values", response_model=list[KpiValues], responses=_ERRORS)
def kpi_values(
    period: PeriodParam,
    kpi: Annotated[list[str] | None, Query(description="KPI slugs (all when none)")] = None,
    by: ByParam = None, filters: FilterParam = None, org: OrgParam = None,
    compare: bool = Query(True, description="with 环比 (previous period) and 同比 (same period last year)"),
    actor: Actor = Depends(require(Perm.STATS_READ)), store: Store = STATISTICS_STORE,
) -> list[KpiValues]:
    """KPIs for a period, cut by dimensions, with 环比 and 同比 (one grouped query per fact source)."""
    metrics = ([engine.get_metric(s, actor=actor) for s in limits.kpi_slugs(_by(kpi))]
               or contribution.readable_metrics(actor))
    results = engine.compute(store=store, actor=actor, metrics=metrics, period=parse_period(period), by=_cuts(by),
                             compare=compare, org_unit_id=org, filters=parse_filters(filters))
    return [KpiValues.build(r) for r in results]


@router.get("/stats/kpis/{slug}", response_model=KpiValues, responses=_ERRORS)
def kpi_value(
    slug: Slug, period: PeriodParam, by: ByParam = None, filters: FilterParam = None, org: OrgParam = None,
    compare: bool = Query(True), actor: Actor = Depends(require(Perm.STATS_READ)),
    store: Store = STATISTICS_STORE,
) -> KpiValues:
    """One KPI for a period, cut by dimensions, with 环比 and 同比."""
    metric = engine.get_metric(slug, field_name="slug", actor=actor)
    result = engine.compute(store=store, actor=actor, metrics=[metric], period=parse_period(period), by=_cuts(by),
                            compare=compare, org_unit_id=org, filters=parse_filters(filters))[0]
    return KpiValues.build(result)


@router.get("/stats/kpis/{slug}/records", response_model=RecordsRead, responses=_ERRORS)
def kpi_records(
    slug: Slug, period: PeriodParam, filters: FilterParam = None, org: OrgParam = None,
    part: str = Query("numerator", pattern="^(numerator|denominator)$",
                      description="for a rate: the numerator's records or the denominator's"),
    limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10_000_000),
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
) -> RecordsRead:
    """The records behind one figure (明细), filtered exactly as counted: ``total`` is the figure."""
    metric = engine.get_metric(slug, field_name="slug", actor=actor)
    parsed = parse_period(period)
    wanted = parse_filters(filters)
    found = engine.drill_down(store=store, actor=actor, metric=metric, period=parsed, filters=wanted, part=part,
                              org_unit_id=org, limit=limit, offset=offset)
    items = metric.source.list_records(db, actor, found.ids)
    return RecordsRead(kpi=metric.slug, period=PeriodRead.build(found.period), part=part, filters=wanted,
                       total=found.total, items=items)


@router.get("/stats/rankings/{slug}", response_model=RankingRead, responses=_ERRORS)
def kpi_ranking(
    slug: Slug, period: PeriodParam,
    level: str = Query("station", description="branch | station | grid"),
    bottom: int = Query(3, ge=0, le=50, description="how many of the last to name"), org: OrgParam = None,
    actor: Actor = Depends(require(Perm.STATS_READ)), store: Store = STATISTICS_STORE,
) -> RankingRead:
    """Branches, stations or grids ranked on a KPI, with the change in rank since the previous period."""
    result = ranking.rank(store=store, actor=actor, metric=engine.get_metric(slug, field_name="slug", actor=actor), period=parse_period(period),
                          level=level, bottom=bottom, org_unit_id=org)
    return RankingRead.build(result)


# --- issued work summaries (工作综述): issue, list, read with amendments, download -----------------

from urllib.parse import quote  # noqa: E402

from fastapi import Response  # noqa: E402

from pingan.stats import repository, service  # noqa: E402
from pingan.stats.report import Snapshot  # noqa: E402
from pingan.stats.schemas import ReportCreate, ReportListRead, ReportRead, ReportRecordsRead, ReportSummaryRead  # noqa: E402

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ReportId = Annotated[int, Path(ge=1, le=MAX_ID, description="issued report id")]
_REPORT_ERRORS = {403: {"description": "role may not read statistics / issue reports"},
                  404: {"description": "report or org unit not found or outside jurisdiction"},
                  422: {"description": "invalid period, org unit or parameter"}}
_REPORT_STORE_ERRORS = {**_REPORT_ERRORS, 429: _ERRORS[429], 503: _ERRORS[503]}  # those that read the store


def _download(data: bytes, media_type: str, report, suffix: str) -> Response:
    """A file named after the report's title (ASCII fallback for old clients), never cached."""
    headers = {"Content-Disposition": f"attachment; filename=\"report-{report.id}{suffix}\"; "
                                      f"filename*=UTF-8''{quote(report.title + suffix)}",
               "Cache-Control": "private, no-store"}
    if suffix == ".docx":
        headers |= {"ETag": f'"{report.docx_sha256}"', "X-Content-SHA256": report.docx_sha256}
    return Response(content=data, media_type=media_type, headers=headers)


@router.post("/stats/reports", status_code=201, response_model=ReportRead, responses=_REPORT_STORE_ERRORS)
def issue_report(body: ReportCreate, actor: Actor = Depends(require(Perm.STATS_REPORT)),
                 db: Session = Depends(get_db), store: Store = REPORT_STORE) -> ReportRead:
    """Issue the work summary of an org unit for a period, and freeze it (签发): the .docx, every
    figure and the records counted are kept as issued. A period not yet ended is counted to now."""
    row = service.issue(db=db, store=store, actor=actor, period=body.period, org_unit_id=body.org)
    return ReportRead.build_full(row, Snapshot.from_json(row.figures))


@router.get("/stats/reports", response_model=ReportListRead, responses=_REPORT_ERRORS)
def list_reports(org: OrgParam = None, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10_000_000),
                 actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db)) -> ReportListRead:
    """The issued reports of your jurisdiction, newest first."""
    rows, total = repository.list_reports(db=db, actor=actor, org_unit_id=org, limit=limit, offset=offset)
    return ReportListRead(total=total, items=[ReportSummaryRead.build(r) for r in rows])


@router.get("/stats/reports/{report_id}", response_model=ReportRead, responses=_REPORT_STORE_ERRORS)
def read_report(report_id: ReportId, actor: Actor = Depends(require(Perm.STATS_READ)),
                db: Session = Depends(get_db), store: Store = STATISTICS_STORE) -> ReportRead:
    """An issued report: every figure as frozen, its definitions, and its amendments — the records
    counted in it amended or added since, and the figures that would change now."""
    row = service.get(db=db, actor=actor, report_id=report_id, load=("figures", "definitions", "records"))
    found = service.amendments(store=store, actor=actor, report=row)
    return ReportRead.build_full(row, Snapshot.from_json(row.figures), found)


@router.get("/stats/reports/{report_id}/records", response_model=ReportRecordsRead, responses=_REPORT_STORE_ERRORS)
def report_amended_records(
    report_id: ReportId, change: str = Query("changed", pattern="^(added|removed|changed)$"),
    source: str = Query("incident", min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$",
                        description="the fact source (a module's: incident …)"),
    limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10_000_000),
    actor: Actor = Depends(require(Perm.STATS_READ)), db: Session = Depends(get_db),
    store: Store = STATISTICS_STORE,
) -> ReportRecordsRead:
    """The records counted in a report and amended since issue ('changed'), counted now but not
    then ('added'), or then but not now ('removed'), newest id first."""
    row = service.get(db=db, actor=actor, report_id=report_id, load=("figures", "records"))
    ids, total, items = service.amended_records(db=db, store=store, actor=actor, report=row, change=change,
                                                source=source, limit=limit, offset=offset)
    return ReportRecordsRead(report_id=row.id, source=source, change=change, total=total, ids=ids, items=items)


@router.get("/stats/reports/{report_id}/docx", response_class=Response, responses={
    **_REPORT_ERRORS, 200: {"content": {DOCX_TYPE: {}}, "description": "the issued bytes"}})
def report_docx(report_id: ReportId, actor: Actor = Depends(require(Perm.STATS_READ)),
                db: Session = Depends(get_db)) -> Response:
    """The issued .docx, byte for byte (its SHA-256 in ``X-Content-SHA256`` and the ETag)."""
    row = service.get(db=db, actor=actor, report_id=report_id, load=("docx",))
    return _download(row.docx, DOCX_TYPE, row, ".docx")


@router.get("/stats/reports/{report_id}/pdf", response_class=Response, responses={
    **_REPORT_ERRORS, 200: {"content": {"application/pdf": {}}, "description": "the issued .docx as PDF"},
    503: {"description": "no LibreOffice on this server"}})
def report_pdf(report_id: ReportId, actor: Actor = Depends(require(Perm.STATS_READ)),
               db: Session = Depends(get_db)) -> Response:
    """The issued .docx converted to PDF by LibreOffice (503 where it is not installed)."""
    row = service.get(db=db, actor=actor, report_id=report_id, load=("docx",))
    return _download(service.pdf(row), "application/pdf", row, ".pdf")
