"""Enums: stored as their string values (VARCHAR + CHECK), portable across backends, and
labelled — each member carries its name in Chinese and English."""

from __future__ import annotations

from enum import IntEnum, StrEnum

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


Label = tuple[str, str]  # (中文, English)


class _Labelled:
    """What a labelled enum's members carry: their names in Chinese and English."""

    zh: str
    en: str

    @property
    def pair(self) -> Label:
        return (self.zh, self.en)

    def label(self, lang: str = "zh") -> str:
        """The member's name in ``lang`` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh


def _labelled_member(base: type, cls, value, zh: str, en: str):
    member = base.__new__(cls, value)
    member._value_ = value
    member.zh, member.en = zh, en
    return member


class LabelledEnum(_Labelled, StrEnum):
    """A StrEnum whose members carry (zh, en): ``RECEIVED = "received", "已接警", "received"``.

    The value is what the database, the API and forms hold; ``Member.zh``, ``.en`` and
    ``.label(lang)`` are what people read. Labels live here, never in per-page dicts.
    """

    def __new__(cls, value: str, zh: str, en: str):
        return _labelled_member(str, cls, value, zh, en)


class LabelledIntEnum(_Labelled, IntEnum):
    """An IntEnum whose members carry (zh, en), for codes that are numbers (a priority)."""

    def __new__(cls, value: int, zh: str, en: str):
        return _labelled_member(int, cls, value, zh, en)


def labels_of(enum_cls: type[LabelledEnum] | type[LabelledIntEnum]) -> dict:
    """{member: (zh, en)} of a labelled enum, in declaration order."""
    return {member: member.pair for member in enum_cls}


def from_label(enum_cls, text: str):
    """The member whose value, Chinese or English name is ``text`` (case-insensitive for
    value and English), or None: how an import reads a column people typed."""
    text = text.strip()
    folded = text.casefold()
    for member in enum_cls:
        if text == member.zh or folded in (str(member.value).casefold(), member.en.casefold()):
            return member
    return None
