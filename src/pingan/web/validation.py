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
