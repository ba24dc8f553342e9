"""JSON API: log in, log out, who am I."""

from __future__ import annotations

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from pingan.auth import service
from pingan.auth.actor import Actor
from pingan.auth.schemas import LoginRequest, LoginResponse, MeRead
from pingan.config import get_settings
from pingan.errors import DomainError
from pingan.web.deps import SESSION_COOKIE, current_actor, get_db
from pingan.web.routing import api_router

router = api_router(prefix="/auth", tags=["auth"])


def me_of(actor: Actor) -> MeRead:
    return MeRead(id=actor.user_id, username=actor.username, display_name=actor.display_name,
                  role=actor.role, org_unit_id=actor.org_unit_id,
                  permissions=sorted(p.value for p in actor.permissions))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings.cookie_secure, max_age=settings.session_hours * 3600, path="/")


@router.post("/login", response_model=LoginResponse,
             responses={401: {"description": "wrong credentials"}, 429: {"description": "rate limited"}})
def login(body: LoginRequest, request: Request, response: Response, db: Session = Depends(get_db)):
    result = service.login(db=db, username=body.username, password=body.password, ip=client_ip(request))
    if result is None:
        # returned, not raised, so the failed attempt is committed and counted
        return JSONResponse(service.LOGIN_FAILED.as_dict(), status_code=401)
    token, row, actor = result
    set_session_cookie(response, token)
    return LoginResponse(token=token, csrf_token=row.csrf_token, user=me_of(actor))


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, actor: Actor = Depends(current_actor),
           db: Session = Depends(get_db)):
    token = request.headers.get("authorization", "")[7:].strip() or request.cookies.get(SESSION_COOKIE, "")
    service.logout(db=db, token=token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=MeRead)
def me(actor: Actor = Depends(current_actor)) -> MeRead:
    return me_of(actor)


__all__ = ["router", "DomainError"]
