"""HTML: the login page, logout, language switch and the home redirect by role."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pingan.auth import service
from pingan.auth.actor import Actor
from pingan.auth.routes import client_ip, set_session_cookie
from pingan.errors import DomainError
from pingan.org.models import Role
from pingan.web.deps import SESSION_COOKIE, current_actor, get_db, optional_actor
from pingan.web.templating import render
from pingan.web.routing import api_router

router = api_router()
LOGIN_CSRF_COOKIE = "pingan_login_csrf"

HOME_BY_ROLE = {
    Role.DISPATCHER: "/incidents/board",
    Role.PATROL: "/patrol",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/incidents/board",
    Role.STATION_CHIEF: "/incidents/board",
    Role.COMMUNITY: "/incidents",
}


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return None


@router.get("/")
def home(actor: Actor | None = Depends(optional_actor)):
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME_BY_ROLE.get(actor.role, "/incidents"), status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None):
    token = secrets.token_urlsafe(24)
    response = render(request, "auth/login.html", {"next": _safe_next(next) or "", "login_csrf": token})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
    db: Session = Depends(get_db),
):
    def again(zh: str, en: str, status: int):
        token = secrets.token_urlsafe(24)
        resp = render(request, "auth/login.html",
                      {"next": _safe_next(next) or "", "login_csrf": token, "username": username,
                       "error_zh": zh, "error_en": en}, status_code=status)
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
        return resp

    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return again("表单已失效，请重新登录", "The form expired; please log in again", 403)
    if not username or not password:
        return again("请输入用户名和密码", "Enter username and password", 422)
    try:
        result = service.login(db=db, username=username, password=password, ip=client_ip(request))
    except DomainError as exc:
        return again(exc.zh, exc.en, exc.status_code)
    if result is None:
        return again(service.LOGIN_FAILED.zh, service.LOGIN_FAILED.en, 401)
    token, _row, actor = result
    target = _safe_next(next) or HOME_BY_ROLE.get(actor.role, "/incidents")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout_submit(request: Request, actor: Actor = Depends(current_actor), db: Session = Depends(get_db)):
    service.logout(db=db, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, request: Request):
    target = _safe_next(request.headers.get("referer", "").split(str(request.base_url).rstrip("/"), 1)[-1]) or "/"
    response = RedirectResponse(target, status_code=303)
    if lang in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax", path="/", max_age=365 * 86400)
    return response
