"""The API docs page (``/api/docs``): Swagger UI served from the project's own static files (no
CDN, so it works offline and under ``script-src 'self'``), started by ``static/swagger-init.js``.

``PINGAN_API_DOCS`` decides who sees it: ``login`` (default) signed-in users, ``public`` anyone,
``off`` no one (the page and ``/openapi.json`` are not served). The OpenAPI document itself stays
public unless ``off``: it describes the open-source project's API, nothing of a deployment's data.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from pingan.auth.actor import Actor
from pingan.web.deps import optional_actor
from pingan.web.routing import UnitOfWorkRoute
from pingan.web.templating import render

DOCS_PATH = "/api/docs"


def docs_router(mode: str, openapi_url: str) -> APIRouter:
    router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

    def page(request: Request):
        return render(request, "api_docs.html", {"openapi_url": openapi_url})

    if mode == "public":
        @router.get(DOCS_PATH)
        def public_docs(request: Request):
            return page(request)
    elif mode == "login":
        @router.get(DOCS_PATH)
        def signed_in_docs(request: Request, actor: Actor | None = Depends(optional_actor)):
            if actor is None:
                return RedirectResponse(f"/login?next={quote(DOCS_PATH)}", status_code=303)
            return page(request)
    return router
