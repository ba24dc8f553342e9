"""The OpenAPI document as the API really answers (issue 12, item 15).

FastAPI documents a 422 with its own ``HTTPValidationError`` shape, and no 404 at all. Every
error of this API is one shape (``pingan.app``'s handlers): ``{"error": {"code", "message",
"message_en", "fields"?}}``. :func:`install` makes the document say so, once for every route:

- every error response documented is that shape (the ``Error`` component);
- an operation with a path parameter documents 404 (the record does not exist or is outside the
  reader's jurisdiction: the two are not told apart);
- an operation with parameters or a body documents 422 in that shape;
- an operation that needs a session documents 401.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "message_en"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "中文说明"},
                "message_en": {"type": "string", "description": "English message"},
                "fields": {
                    "type": "array",
                    "description": "the fields refused, for a 422",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "message_en": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
_REF = {"$ref": "#/components/schemas/Error"}
_DESCRIPTIONS = {
    "403": "您的角色无此权限 / your role may not do this",
    "409": "状态不允许此操作 / not allowed in the record's state",
    "429": "请求过多，请稍后再试 / too many requests, try again later",
    "401": "未登录 / not signed in",
    "404": "记录不存在或不在您的管辖范围内 / not found or outside your jurisdiction",
    "422": "输入有误（指明字段）/ invalid input, naming the field",
}
_OPEN = {"/api/v1/auth/login"}  # operations that need no session


def _error(responses: dict, status: str, *, replace: bool = False) -> None:
    """Document ``status`` as an error of our shape, keeping a description the route gave."""
    entry = responses.setdefault(status, {"description": _DESCRIPTIONS.get(status, "")})
    if replace or "content" not in entry:
        entry["content"] = {"application/json": {"schema": _REF}}


def document(app: FastAPI) -> dict:
    """The app's OpenAPI document with its error responses as they are answered."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in doc.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            params = operation.get("parameters", [])
            if "422" in responses or params or "requestBody" in operation:
                if responses.get("422", {}).get("description") == "Validation Error":
                    responses["422"]["description"] = _DESCRIPTIONS["422"]
                _error(responses, "422", replace=True)
            if any(p.get("in") == "path" for p in params):
                _error(responses, "404")
            if path.startswith("/api/") and path not in _OPEN:
                _error(responses, "401")
            for status in [s for s in responses if s.startswith("4")]:
                _error(responses, status)  # a status a route named with words only: its shape too
    return doc


def install(app: FastAPI) -> None:
    """Serve :func:`document` as the app's ``/openapi.json`` (built once, on first request)."""
    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
