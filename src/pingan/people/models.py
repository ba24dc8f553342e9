"""The person record (人员) and its phones and documents.

Only what a module needs is stored (PIPL 最小必要): name, the citizen id and what it says (birth
date, sex), other identity documents, phones, the registered residence (户籍地) and the current
address (现住址). No ethnicity, religion, political affiliation, biometrics or photographs are
kept here, and none may be added without a decision record saying which module needs it and why.

A person belongs to the org unit that registered them (``org_unit_id``, jurisdiction). A merged
record stays, pointing to the one that survived (``merged_into_id``); links from other modules
follow that pointer (``people.system.current_person_ids``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pingan.db.base import Base
from pingan.db.enum import LabelledEnum, enum_column_type
from pingan.db.mixins import IdMixin, TimestampMixin
from pingan.db.types import UTCDateTime
from pingan.people.idnumber import Sex

NAME_LENGTH = 40
PHONE_LENGTH = 20
DOCUMENT_LENGTH = 30
TEXT_LENGTH = 255


class DocumentKind(LabelledEnum):
    """Identity documents other than the citizen id (其他证件)."""

    PASSPORT = "passport", "护照", "passport"
    HK_MACAO_PERMIT = "hk_macao_permit", "港澳居民来往内地通行证", "Mainland travel permit for Hong Kong and Macao residents"
    TAIWAN_PERMIT = "taiwan_permit", "台湾居民来往大陆通行证", "Mainland travel permit for Taiwan residents"
    EXIT_ENTRY_PERMIT = "exit_entry_permit", "往来港澳通行证", "Exit-entry permit to Hong Kong and Macao"


class Person(IdMixin, TimestampMixin, Base):
    """A person (人员). ``id_number`` is the 18-character citizen id, normalised (X upper-case),
    unique; None for a person known by another document or by name and phone only."""

    __tablename__ = "person"
    __label__ = ("人员", "person")
    __auditable__ = True
    __audit_exclude__ = ("updated_at",)
    # the log keeps them masked, as every schema shows them (audit.mechanism._MASKS)
    __personal_fields__ = {"name": "name", "id_number": "id_number"}

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[Sex | None] = mapped_column(enum_column_type(Sex))
    residence_text: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="")  # 户籍地
    residence_division_code: Mapped[str | None] = mapped_column(String(12))
    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))  # 现住址: a standard address
    address_text: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="")  # 现住址 as told
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    phones: Mapped[list[PersonPhone]] = relationship(lazy="raise", order_by="PersonPhone.id")
    documents: Mapped[list[PersonDocument]] = relationship(lazy="raise", order_by="PersonDocument.id")

    __table_args__ = (Index("ix_person_name_birth_date", "name", "birth_date"),)


class PersonPhone(IdMixin, Base):
    """One of a person's phone numbers."""

    __tablename__ = "person_phone"
    __label__ = ("人员电话", "person's phone")
    __auditable__ = True
    __personal_fields__ = {"phone": "phone"}

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    phone: Mapped[str] = mapped_column(String(PHONE_LENGTH), index=True)


class PersonDocument(IdMixin, Base):
    """An identity document other than the citizen id: its kind and number."""

    __tablename__ = "person_document"
    __label__ = ("人员证件", "person's document")
    __auditable__ = True
    __personal_fields__ = {"number": "document"}

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column_type(DocumentKind))
    number: Mapped[str] = mapped_column(String(DOCUMENT_LENGTH))

    __table_args__ = (Index("ix_person_document_number", "number"),)
