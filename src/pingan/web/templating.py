"""Jinja2 environment shared by every domain's pages, with bilingual text and time helpers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader, pass_context

from pingan.config import get_settings

PKG = Path(__file__).resolve().parents[1]
TEMPLATE_DIRS = [PKG / "web" / "templates"] + sorted(p for p in PKG.glob("*/templates") if p.parent.name != "web")

templates = Jinja2Templates(directory=str(PKG / "web" / "templates"))
templates.env.loader = ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS])
_TZ = ZoneInfo(get_settings().timezone)


def request_language(request: Request) -> str:
    lang = request.cookies.get("lang")
    if lang in ("zh", "en"):
        return lang
    actor = getattr(request.state, "actor", None)
    return getattr(actor, "language", None) or "zh"


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if value is None:
        return ""
    return value.astimezone(_TZ).strftime(fmt)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60:02d}s"


@pass_context
def label(context, value, kind=None) -> str:
    """What people read for ``value`` in the page's language: a labelled enum member's name
    (``{{ inc.stage|label }}``), a stored value read as a member of ``kind``
    (``{{ e.stage|label(Stage) }}``), or a (zh, en) pair (``{{ action.label|label }}``)."""
    if value is None or value == "":
        return ""
    if isinstance(kind, type) and not isinstance(value, kind):
        try:
            value = kind(value)
        except ValueError:
            return str(value)
    en = context.get("lang") == "en"
    if isinstance(value, tuple):
        return value[1] if en else value[0]
    if hasattr(value, "label"):
        return value.label("en" if en else "zh")
    return str(value)


templates.env.filters["localtime"] = local_time
templates.env.filters["label"] = label
templates.env.filters["duration"] = duration
templates.env.globals["tile_url"] = lambda: get_settings().tile_url


def main_menu(actor) -> list:
    """The main menu's entries of every installed module that ``actor`` may open."""
    from pingan.registry import navigation

    return navigation(actor.permissions) if actor is not None else []


templates.env.globals["main_menu"] = main_menu


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200):
    lang = request_language(request)
    ctx = {
        "request": request,
        "actor": getattr(request.state, "actor", None),
        "lang": lang,
        "_": (lambda zh, en: en if lang == "en" else zh),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
