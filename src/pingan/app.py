"""The FastAPI application: routers, error handlers, middleware, the modules' warm-ups."""

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


class _App(FastAPI):
    """FastAPI with the request id and the security headers outside every other layer, even
    Starlette's ``ServerErrorMiddleware`` (which answers an unhandled exception through the
    ``unexpected`` handler): a 500 carries its ``X-Request-ID``, names it, and has the headers."""

    def build_middleware_stack(self):
        from pingan.config import get_settings

        inner = SecurityHeadersMiddleware(super().build_middleware_stack(), tile_url=get_settings().tile_url)
        return RequestIdMiddleware(inner)


def create_app(*, background_jobs: bool = True) -> FastAPI:
    """The web app. ``background_jobs``: build the modules' in-process indexes in the background at
    start (their warm-ups). The modules' scheduled jobs never run in a web process: the job
    worker runs them once per deployment (``pingan.worker``, decision 0018)."""
    from pingan.config import get_settings
    from pingan.registry import installed, resolve
    from pingan.web.docs import docs_router
    from pingan.web.openapi import install as install_openapi

    modules = installed()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Each module's in-process indexes are built off the request path.
        warm_ups = [w for m in modules for w in m.warm_ups]
        if background_jobs:
            for warm_up in warm_ups:
                resolve(warm_up.start)()
        yield
        if background_jobs:
            for warm_up in warm_ups:
                await asyncio.to_thread(resolve(warm_up.stop))
        for release in (r for m in modules for r in m.on_shutdown):
            await asyncio.to_thread(resolve(release))

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

    # Routes are matched in order, router by router, in the order of pingan.modules: the
    # incident API (taking calls, the board) goes first. No two routers share a path.
    for router in (r for m in modules for r in m.api_routers):
        app.include_router(resolve(router), prefix="/api/v1")
    for router in (r for m in modules for r in m.page_routers):
        app.include_router(resolve(router), include_in_schema=False)
    app.include_router(docs_router(api_docs, app.openapi_url or ""))
    install_openapi(app)
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
