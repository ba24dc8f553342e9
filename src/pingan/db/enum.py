"""Store StrEnums as their string values (VARCHAR + CHECK), portable across backends."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def enum_column_type(enum_cls: type[StrEnum], length: int = 24) -> Enum:
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )
