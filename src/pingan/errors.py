"""Domain errors: each carries its HTTP status and a message in Chinese and English.

One handler in app.py renders them as JSON for the API and as a fragment or page for HTML.
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, zh: str, en: str, *, field: str | None = None, status_code: int | None = None):
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.field = field
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict:
        detail = {"code": self.code, "message": self.zh, "message_en": self.en}
        if self.field:
            detail["field"] = self.field
        return {"error": detail}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_failed"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"


class Unavailable(DomainError):
    """A service this request needs is not available here (e.g. no LibreOffice for a PDF)."""

    status_code = 503
    code = "unavailable"


def not_found(what, *, field: str | None = None, error: type[DomainError] = NotFound) -> DomainError:
    """The one wording of a record the actor cannot reach — missing or outside their jurisdiction,
    deliberately the same (…不存在或不在辖区内 / No such … in your jurisdiction). ``what`` is a
    model carrying ``__label__`` or a (zh, en) label; ``error`` another class where the record is
    a field of a form (422)."""
    zh, en = getattr(what, "__label__", what)
    return error(f"{zh}不存在或不在辖区内", f"No such {en} in your jurisdiction", field=field)
