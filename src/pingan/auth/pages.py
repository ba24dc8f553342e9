"""HTML: the login page, logout, one's own password, language switch and the home redirect by role."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pingan.auth import service
from pingan.auth.actor import Actor
from pingan.auth.models import USERNAME_LENGTH
from pingan.auth.routes import client_ip, login_from, start_session
from pingan.errors import DomainError
from pingan.org.models import Role
from pingan.web.deps import SESSION_COOKIE, _token_from, current_actor, get_db, optional_actor
from pingan.web.templating import render
from pingan.web.routing import api_router

router = api_router()
LOGIN_CSRF_COOKIE = "pingan_login_csrf"
PASSWORD_PAGE = "/account/password"

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
    if actor.must_change_password:
        return RedirectResponse(PASSWORD_PAGE, status_code=303)
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
    if len(username.strip()) > USERNAME_LENGTH:
        return again(f"用户名（username）最多 {USERNAME_LENGTH} 个字符",
                     f"The username is at most {USERNAME_LENGTH} characters", 422)
    try:
        result = login_from(request, db, username, password)
    except DomainError as exc:
        return again(exc.zh, exc.en, exc.status_code)
    if result is None:
        return again(service.LOGIN_FAILED.zh, service.LOGIN_FAILED.en, 401)
    token, _row, actor = result
    if actor.must_change_password:
        target = PASSWORD_PAGE
    else:
        target = _safe_next(next) or HOME_BY_ROLE.get(actor.role, "/incidents")
    response = RedirectResponse(target, status_code=303)
    start_session(response, request, token, actor)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout_submit(request: Request, actor: Actor = Depends(current_actor), db: Session = Depends(get_db)):
    token, _from_cookie = _token_from(request)
    service.logout(db=db, token=token or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(PASSWORD_PAGE)
def password_form(request: Request, actor: Actor = Depends(current_actor)):
    """修改密码 (change one's own password); the only page of a user whose password was reset."""
    return render(request, "auth/password.html", {})


@router.post(PASSWORD_PAGE)
def password_submit(
    request: Request,
    current_password: str = Form("", max_length=200),
    new_password: str = Form("", max_length=200),
    confirm_password: str = Form("", max_length=200),
    actor: Actor = Depends(current_actor),
    db: Session = Depends(get_db),
):
    def again(zh: str, en: str, status: int):
        return render(request, "auth/password.html", {"error_zh": zh, "error_en": en}, status_code=status)

    if new_password != confirm_password:
        return again("两次输入的新密码不一致（confirm_password）", "The new passwords do not match (confirm_password)", 422)
    token, _ = _token_from(request)
    try:
        changed = service.change_own_password(db=db, actor=actor, current=current_password, new=new_password,
                                              token=token or "", ip=client_ip(request))
    except DomainError as exc:
        return again(exc.zh, exc.en, exc.status_code)
    if not changed:
        wrong = service.WRONG_CURRENT_PASSWORD
        return again(wrong.zh, wrong.en, wrong.status_code)
    return render(request, "auth/password.html", {"changed": True})


@router.get("/lang/{lang}")
def switch_language(lang: str, request: Request):
    target = _safe_next(request.headers.get("referer", "").split(str(request.base_url).rstrip("/"), 1)[-1]) or "/"
    response = RedirectResponse(target, status_code=303)
    if lang in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax", path="/", max_age=365 * 86400)
    return response
