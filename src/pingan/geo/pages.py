"""HTML: the standard-address search page (live candidates) and the grid map."""

from __future__ import annotations

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.errors import DomainError
from pingan.geo import repository, service
from pingan.geo.models import ZONE_TARGET_SECONDS, ZoneClass
from pingan.web.deps import get_db, require
from pingan.web.templating import render
from pingan.web.routing import api_router

router = api_router()

ZONE_COLOURS = {ZoneClass.CENTRE: "#c0392b", ZoneClass.URBAN: "#e67e22", ZoneClass.SUBURBAN: "#27ae60"}


def _candidates_context(*, db: Session, actor: Actor, q: str) -> dict:
    q = (q or "").strip()[:200]
    if not q:
        return {"q": "", "result": None, "error": None}
    try:
        return {"q": q, "result": service.parse(q, db=db, actor=actor, limit=8), "error": None}
    except DomainError as exc:
        return {"q": q, "result": None, "error": exc}


@router.get("/addresses")
def addresses_page(request: Request, q: str = Query("", max_length=200),
                   actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """标准地址查询：输入地址，实时显示候选标准地址和行政区划解析。"""
    return render(request, "geo/addresses.html", _candidates_context(db=db, actor=actor, q=q))


@router.get("/addresses/candidates")
def address_candidates(request: Request, q: str = Query("", max_length=200),
                       actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """The live-search fragment (htmx)."""
    return render(request, "geo/_candidates.html", _candidates_context(db=db, actor=actor, q=q))


@router.get("/grids")
def grids_page(request: Request, actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """网格地图：按区域类别着色。"""
    counts = repository.count_grids_by_zone(db=db, actor=actor)
    zones = [
        {"value": z.value, "zh": z.zh, "en": z.en, "colour": ZONE_COLOURS[z],
         "target_minutes": ZONE_TARGET_SECONDS[z] // 60, "count": counts.get(z.value, 0)}
        for z in ZoneClass
    ]
    return render(request, "geo/grids.html", {"zones": zones, "total": sum(counts.values())})
