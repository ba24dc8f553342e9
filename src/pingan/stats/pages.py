"""HTML pages of the statistics module (统计).

Pages are thin: they parse the form, call the service, repository or engine and render. Every
figure is cut to the actor's jurisdiction by the engine, every record read through its domain's
repository.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import MAX_ID
from pingan.errors import DomainError, ValidationFailed
from pingan.web.deps import get_db, require
from pingan.web.routing import api_router
from pingan.web.templating import render

router = api_router()


# --- issued work summaries (工作综述): list, issue form, one report with its amendments -----------

from pingan.org import repository as org_repository  # noqa: E402
from pingan.org.models import OrgKind  # noqa: E402
from pingan.stats import repository as stats_repository  # noqa: E402
from pingan.stats import service as report_service  # noqa: E402
from pingan.stats import wording  # noqa: E402
from pingan.stats.metrics import Kind  # noqa: E402
from pingan.stats.report import Snapshot  # noqa: E402
from pingan.stats.routes import current_store  # noqa: E402
from pingan.stats.store import StatsStore  # noqa: E402

REPORTS_PAGE_SIZE = 30
REPORT_ORG_KINDS = (OrgKind.BUREAU, OrgKind.BRANCH, OrgKind.STATION)  # units a summary is issued for
AMENDED_SHOWN = 50  # record links per kind of amendment on the page (the API pages through all)
CHANGE_LABELS = {"changed": ("数据变更", "changed"), "added": ("新增计入", "added"),
                 "removed": ("不再计入", "removed")}
CUT_LABELS = {"": ("全部", "total"), "child": ("下级单位", "unit"), "month": ("月", "month"), "day": ("日", "day"),
              "top_category": ("警情大类", "category")}


def _report_org_choices(db: Session, actor: Actor) -> list:
    return [u for u in org_repository.list_org_units(db=db, actor=actor) if u.kind in REPORT_ORG_KINDS]


def _default_period(store: StatsStore) -> str:
    return str(datetime.now(ZoneInfo(store.timezone)).year)


def _reports_page(request: Request, db: Session, actor: Actor, store: StatsStore, *, page: int = 1,
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
                 store: StatsStore = Depends(current_store)):
    """工作综述：辖区内已签发的综述，签发新的综述。"""
    return _reports_page(request, db, actor, store, page=page)


@router.post("/stats/reports")
def issue_report_page(request: Request, period: str = Form("", max_length=40), org: str = Form("", max_length=12),
                      actor: Actor = Depends(require(Perm.STATS_REPORT)), db: Session = Depends(get_db),
                      store: StatsStore = Depends(current_store)):
    """签发：冻结数据、生成文档，然后打开这份综述。"""
    values = {"period": period.strip(), "org": org.strip()}
    try:
        if values["org"] and not (values["org"].isdigit() and 1 <= int(values["org"]) <= MAX_ID):
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
                               store: StatsStore = Depends(current_store)):
    """签发后的数据更正：计入本综述的记录有哪些变更，哪些数据现在会不同（现算现比，可能需数秒）。"""
    row = report_service.get(db=db, actor=actor, report_id=report_id, load=("figures", "records"))
    found = report_service.amendments(store=store, actor=actor, report=row)
    changes = []
    for item in found.figures:
        kpi = found.kpis.get(item.kpi)
        before = item.then.value if item.then else None
        after = item.now.value if item.now else None
        changes.append({"name": kpi.zh if kpi else item.kpi, "cut": CUT_LABELS.get(item.by, (item.by, item.by)),
                        "label": item.label, "then": _figure_text(kpi, before) if kpi else before,
                        "now": _figure_text(kpi, after) if kpi else after, "delta": _delta_text(kpi, before, after)})
    fragment = request.headers.get("hx-request") == "true"
    return render(request, "stats/_report_amendments.html" if fragment else "stats/report_amendments.html", {
        "report": row, "found": found, "changes": changes, "change_labels": CHANGE_LABELS,
        "amended_shown": AMENDED_SHOWN})
