"""422 responses that name the field, in Chinese and English."""

from __future__ import annotations

_ZH = {
    "missing": "必填",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为是/否",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "格式不正确",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "datetime_parsing": "不是有效的时间",
    "datetime_type": "不是有效的时间",
    "date_parsing": "不是有效的日期",
    "value_error": "取值无效",
    "extra_forbidden": "不允许的字段",
    "string_unicode": "编码无效",
    "string_nul": "不能包含空字符（NUL）",
}


def translate_errors(errors) -> list[dict]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else ""
        field = ".".join(loc[1:]) if len(loc) > 1 else where
        msg_en = err.get("msg", "invalid")
        zh = _ZH.get(err.get("type", ""), "取值无效")
        if err.get("type") == "value_error" and err.get("ctx", {}).get("error"):
            # our own validators raise ValueError("中文 / English")
            text = str(err["ctx"]["error"])
            if " / " in text:
                zh, msg_en = text.split(" / ", 1)
        out.append({"field": field, "in": where, "message": f"{field}：{zh}", "message_en": f"{field}: {msg_en}"})
    return out


# NUL (U+0000) in text: PostgreSQL refuses it in a text value or parameter (a 500 there), SQLite
# stores it. Refused on both, before the handler runs, with a 422 naming the field.
_NUL_ZH, _NUL_EN = "不能包含空字符（NUL）", "must not contain NUL characters"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _nul_paths(value, path: tuple) -> list[tuple]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items()
                for p in ([(*path, k)] if "\x00" in str(k) else []) + _nul_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, (*path, i))]
    return []


def _nul_error(loc: tuple) -> dict:
    return {"type": "string_nul", "loc": loc, "msg": _NUL_EN, "input": None}


async def refuse_nul(request) -> None:
    """Raise a 422 (``RequestValidationError``) when a path parameter, query parameter, form field
    or JSON string carries a NUL. Costs a byte search on the usual request: the query string and
    the body are scanned as bytes, and parsed only when the byte sequence is there. The body is
    read once (Starlette keeps it for the handler, which reads the same bytes)."""
    from fastapi.exceptions import RequestValidationError
    from urllib.parse import parse_qsl

    errors = [_nul_error(("path", name)) for name, value in request.path_params.items()
              if isinstance(value, str) and "\x00" in value]
    query = request.scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        errors += [_nul_error(("query", k)) for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                   if "\x00" in k or "\x00" in v]
    if request.method not in ("GET", "HEAD", "OPTIONS", "DELETE"):
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(_FORM_TYPES):
            body = await request.body() if content_type.startswith(_FORM_TYPES[0]) else None
            if body is None or b"%00" in body or b"\x00" in body:
                form = await request.form()
                errors += [_nul_error(("body", k)) for k, v in form.multi_items()
                           if "\x00" in k or (isinstance(v, str) and "\x00" in v)]
        elif "json" in content_type:
            body = await request.body()
            if b"\\u0000" in body:
                import json

                try:
                    errors += [_nul_error(("body", *p)) for p in _nul_paths(json.loads(body), ())]
                except ValueError:
                    pass  # not JSON: FastAPI answers it
    if errors:
        raise RequestValidationError(errors)
