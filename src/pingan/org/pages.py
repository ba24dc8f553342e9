"""HTML: the duty-unit list (警力) and the organisation tree (机构), within the actor's subtree."""

from __future__ import annotations

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.org import repository
from pingan.org.models import OrgKind, UnitKind, UnitStatus
from pingan.web.deps import get_db, require
from pingan.web.params import ascii_id
from pingan.web.templating import render
from pingan.web.routing import api_router

router = api_router()

UNIT_KIND_LABELS: dict[str, tuple[str, str]] = {
    UnitKind.PATROL_CAR: ("巡逻车", "patrol car"),
    UnitKind.FOOT_PATROL: ("步巡", "foot patrol"),
    UnitKind.MOUNTED: ("骑警", "mounted team"),
    UnitKind.MOTORCYCLE: ("摩托巡逻", "motorcycle"),
}

UNIT_STATUS_LABELS: dict[str, tuple[str, str]] = {
    UnitStatus.AVAILABLE: ("空闲", "available"),
    UnitStatus.ASSIGNED: ("执行任务", "on a task"),
    UnitStatus.OFF_DUTY: ("不在岗", "off duty"),
}

ORG_KIND_LABELS: dict[str, tuple[str, str]] = {
    OrgKind.BUREAU: ("市公安局", "bureau"),
    OrgKind.BRANCH: ("分局", "branch"),
    OrgKind.STATION: ("派出所", "police station"),
    OrgKind.COMMUNITY_OFFICE: ("社区警务室", "community office"),
    OrgKind.COMMAND_CENTRE: ("指挥中心", "command centre"),
    OrgKind.TEAM: ("大队", "team"),
}


def _choice(value: str, allowed) -> str | None:
    """A filter value from the query string, or None when blank or unknown (a filter, not an error)."""
    value = (value or "").strip()
    return value if value in {str(a) for a in allowed} else None


@router.get("/units")
def units_page(
    request: Request,
    status: str = Query("", max_length=20),
    kind: str = Query("", max_length=20),
    org: str = Query("", max_length=12),
    actor: Actor = Depends(require(Perm.UNIT_READ)),
    db: Session = Depends(get_db),
):
    """警力一览：状态、所属单位、最后位置、当前任务。"""
    org_unit_id = ascii_id(org)
    rows = repository.list_units_overview(db=db, actor=actor, status=_choice(status, UnitStatus),
                                          kind=_choice(kind, UnitKind), org_unit_id=org_unit_id)
    orgs = repository.list_org_units(db=db, actor=actor)
    counts = {s.value: 0 for s in UnitStatus}
    for row in rows:
        counts[str(row.unit.status)] = counts.get(str(row.unit.status), 0) + 1
    return render(request, "org/units.html", {
        "rows": rows, "orgs": orgs, "counts": counts,
        "filters": {"status": _choice(status, UnitStatus) or "", "kind": _choice(kind, UnitKind) or "",
                    "org": org_unit_id},
        "kind_labels": UNIT_KIND_LABELS, "status_labels": UNIT_STATUS_LABELS, "org_kind_labels": ORG_KIND_LABELS,
        "assignment_labels": _assignment_labels(),
    })


def _assignment_labels() -> dict[str, tuple[str, str]]:
    from pingan.incident.schemas import ASSIGNMENT_LABELS

    return ASSIGNMENT_LABELS


@router.get("/org")
def org_page(request: Request, actor: Actor = Depends(require(Perm.ORG_READ)), db: Session = Depends(get_db)):
    """机构树：本单位及下级单位，含各级警力数（本级 / 含下级）。"""
    orgs = repository.list_org_units(db=db, actor=actor)
    own = repository.unit_counts_by_org(db=db, actor=actor)
    users = repository.user_counts_by_org(db=db, actor=actor)
    base_depth = min((o.path.count("/") for o in orgs), default=0)
    totals: dict[int, dict[str, int]] = {o.id: {s.value: 0 for s in UnitStatus} for o in orgs}
    for o in orgs:  # add each unit's own counts to itself and every visible ancestor
        for ancestor in (int(i) for i in o.path.strip("/").split("/") if i):
            if ancestor in totals:
                for status, n in own.get(o.id, {}).items():
                    totals[ancestor][status] = totals[ancestor].get(status, 0) + n
    nodes = [
        {"org": o, "depth": o.path.count("/") - base_depth, "own_units": sum(own.get(o.id, {}).values()),
         "total": totals[o.id], "total_units": sum(totals[o.id].values()), "users": users.get(o.id, 0)}
        for o in orgs  # ordered by path: a parent comes before its children
    ]
    return render(request, "org/tree.html", {
        "nodes": nodes, "org_kind_labels": ORG_KIND_LABELS, "status_labels": UNIT_STATUS_LABELS,
    })
