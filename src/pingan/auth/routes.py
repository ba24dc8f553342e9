"""JSON API: log in, log out, who am I, change one's own password."""

from __future__ import annotations

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from pingan.auth import policy, service, throttle
from pingan.auth.actor import Actor
from pingan.auth.schemas import LoginRequest, LoginResponse, MeRead, PasswordChange
from pingan.config import get_settings
from pingan.errors import DomainError
from pingan.web.deps import SESSION_COOKIE, _token_from, current_actor, get_db
from pingan.web.routing import api_router

router = api_router(prefix="/auth", tags=["auth"])
client_ip = throttle.client_ip  # the client's address, X-Forwarded-For only from trusted proxies


def me_of(actor: Actor) -> MeRead:
    return MeRead(id=actor.user_id, username=actor.username, display_name=actor.display_name,
                  role=actor.role, org_unit_id=actor.org_unit_id,
                  permissions=sorted(p.value for p in actor.permissions),
                  must_change_password=actor.must_change_password)


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings.cookie_secure, max_age=settings.session_hours * 3600, path="/")


def login_from(request: Request, db: Session, username: str, password: str):
    """service.login for this request: its client address and known-device cookie."""
    device = throttle.device_of(request, policy.throttle_key(username))
    return service.login(db=db, username=username, password=password, ip=client_ip(request), device=device)


def start_session(response: Response, request: Request, token: str, actor: Actor) -> None:
    """The cookies a successful login sets: the session, and this browser's known-device cookie."""
    set_session_cookie(response, token)
    throttle.set_device_cookie(response, request, policy.throttle_key(actor.username))


@router.post("/login", response_model=LoginResponse,
             responses={401: {"description": "wrong credentials"}, 429: {"description": "rate limited"}})
def login(body: LoginRequest, request: Request, response: Response, db: Session = Depends(get_db)):
    result = login_from(request, db, body.username, body.password)
    if result is None:
        # returned, not raised, so the failed attempt is committed and counted
        return JSONResponse(service.LOGIN_FAILED.as_dict(), status_code=401)
    token, row, actor = result
    start_session(response, request, token, actor)
    return LoginResponse(token=token, csrf_token=row.csrf_token, user=me_of(actor))


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, actor: Actor = Depends(current_actor),
           db: Session = Depends(get_db)):
    # the token that authenticated this request: a Bearer header, else the cookie (an
    # `Authorization: Basic …` header beside a cookie session does not hide the cookie)
    token, _from_cookie = _token_from(request)
    service.logout(db=db, token=token or "")
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=MeRead)
def me(actor: Actor = Depends(current_actor)) -> MeRead:
    return me_of(actor)


@router.post("/password", status_code=204,
             responses={422: {"description": "wrong current password, or a new password the policy refuses"}})
def change_password(body: PasswordChange, request: Request, response: Response,
                    actor: Actor = Depends(current_actor), db: Session = Depends(get_db)):
    """Change one's own password (修改密码): the current one is required; every other session ends."""
    token, _ = _token_from(request)
    if not service.change_own_password(db=db, actor=actor, current=body.current_password, new=body.new_password,
                                       token=token or "", ip=client_ip(request)):
        # returned, not raised, so the failed attempt is committed and counted
        return JSONResponse(service.WRONG_CURRENT_PASSWORD.as_dict(), status_code=422)
    response.status_code = 204
    return response


__all__ = ["router", "DomainError"]
