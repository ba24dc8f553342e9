"""Entity labels: each model names itself in Chinese and English (``__label__ = ("警情", "incident")``),
and whoever lists tables — the audit page, the demo's summary — reads the names from there."""

from __future__ import annotations

from pingan.db.base import Base
from pingan.db.enum import Label


def table_labels() -> dict[str, Label]:
    """{table name: (zh, en)} of every mapped model that carries ``__label__``."""
    labels: dict[str, Label] = {}
    for mapper in Base.registry.mappers:
        label = getattr(mapper.class_, "__label__", None)
        if label is not None and getattr(mapper.class_, "__tablename__", None):
            labels[mapper.class_.__tablename__] = label
    return labels
