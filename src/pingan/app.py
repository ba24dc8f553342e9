"""The FastAPI application: routers, error handlers, middleware, background jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from pingan import __version__
from pingan.errors import DomainError, NotAuthenticated
from pingan.web.context import RequestIdMiddleware, request_id_var
from pingan.web.routing import UnitOfWorkRoute
from pingan.web.security_headers import SecurityHeadersMiddleware
from pingan.web.validation import translate_errors

log = logging.getLogger("pingan")
STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error_page(request: Request, status: int, zh: str, en: str):
    from pingan.web.templating import render

    if request.headers.get("hx-request"):
        return render(request, "_error_fragment.html", {"zh": zh, "en": en, "status": status}, status)
    return render(request, "error.html", {"zh": zh, "en": en, "status": status}, status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        if not _wants_json(request):
            if isinstance(exc, NotAuthenticated):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.headers.get("hx-request"):
                    return Response(status_code=401, headers={"HX-Redirect": f"/login?next={quote(target)}"})
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            response = _error_page(request, exc.status_code, exc.zh, exc.en)
        else:
            response = JSONResponse(exc.as_dict(), status_code=exc.status_code)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = translate_errors(exc.errors())
        if not _wants_json(request):
            zh = "；".join(e["message"] for e in errors)
            en = "; ".join(e["message_en"] for e in errors)
            return _error_page(request, 422, zh, en)
        body = {
            "error": {
                "code": "validation_failed",
                "message": "输入有误：" + "；".join(e["message"] for e in errors),
                "message_en": "Invalid input: " + "; ".join(e["message_en"] for e in errors),
                "fields": errors,
            }
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        zh = {404: "页面或记录不存在", 405: "不支持的请求方法"}.get(exc.status_code, "请求无法处理")
        en = str(exc.detail) if exc.detail else "Request failed"
        if not _wants_json(request):
            return _error_page(request, exc.status_code, zh, en)
        return JSONResponse({"error": {"code": "http_error", "message": zh, "message_en": en}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        rid = request_id_var.get()
        log.exception("unhandled error, request %s", rid)
        zh, en = f"系统内部错误，请联系管理员（请求号 {rid}）", f"Internal error; contact the administrator (request {rid})"
        if not _wants_json(request):
            return _error_page(request, 500, zh, en)
        return JSONResponse({"error": {"code": "internal", "message": zh, "message_en": en}}, status_code=500)


async def _escalation_loop(interval: float) -> None:
    from pingan.incident.jobs import run_escalation

    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(run_escalation)
        except Exception:  # keep the loop alive; the error is logged
            log.exception("escalation job failed")


class _App(FastAPI):
    """FastAPI with the request id and the security headers outside every other layer, even
    Starlette's ``ServerErrorMiddleware`` (which answers an unhandled exception through the
    ``unexpected`` handler): a 500 carries its ``X-Request-ID``, names it, and has the headers."""

    def build_middleware_stack(self):
        from pingan.config import get_settings

        inner = SecurityHeadersMiddleware(super().build_middleware_stack(), tile_url=get_settings().tile_url)
        return RequestIdMiddleware(inner)


def create_app(*, background_jobs: bool = True) -> FastAPI:
    from pingan.audit import pages as audit_pages
    from pingan.audit import routes as audit_routes
    from pingan.auth import pages as auth_pages
    from pingan.auth import routes as auth_routes
    from pingan.config import get_settings
    from pingan.geo import matcher
    from pingan.geo import pages as geo_pages
    from pingan.geo import routes as geo_routes
    from pingan.incident import pages as incident_pages
    from pingan.incident import routes as incident_routes
    from pingan.org import pages as org_pages
    from pingan.org import routes as org_routes
    from pingan.stats import pages as stats_pages
    from pingan.stats import routes as stats_routes
    from pingan.stats.store import close_store
    from pingan.web.docs import docs_router

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        tasks = []
        if background_jobs:
            settings = get_settings()
            tasks.append(asyncio.create_task(_escalation_loop(settings.escalation_interval_seconds)))
            # The statistics store is kept current by the statistics process (stats.server),
            # not here: a web worker only holds its client.
            # Build the address index off the request path and keep it current from a
            # watcher thread, so that the first call taken after start-up does not wait.
            matcher.warm_up()
        yield
        if tasks:
            for task in tasks:
                task.cancel()
            await asyncio.to_thread(matcher.stop_watching)
        await asyncio.to_thread(close_store)  # the statistics client's idle connections

    api_docs = get_settings().api_docs
    app = _App(
        title="Ping'an 平安 API",
        version=__version__,
        description="公安业务平台 API — public-safety operations platform",
        openapi_url=None if api_docs == "off" else "/openapi.json",
        docs_url=None,  # web.docs: Swagger UI from our static files, by PINGAN_API_DOCS
        redoc_url=None,
        lifespan=lifespan,
    )
    app.router.route_class = UnitOfWorkRoute
    _install_error_handlers(app)

    @app.get("/healthz", tags=["system"])
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    # Routes are matched in order, router by router: the incident API (taking calls, the board)
    # goes first. No two routers share a path, so the order changes nothing else.
    for module in (incident_routes, auth_routes, org_routes, geo_routes, audit_routes, stats_routes):
        app.include_router(module.router, prefix="/api/v1")
    for module in (auth_pages, incident_pages, geo_pages, org_pages, audit_pages, stats_pages):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(docs_router(api_docs, app.openapi_url or ""))
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
