"""API shapes of people. Every read is masked (name 张*三, id 4107**********1234, phone
138****1234, document E*****678, birth year only) except ``PersonRevealed``, which only the
audited reveal returns."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from pingan.people import idnumber
from pingan.people.models import DOCUMENT_LENGTH, NAME_LENGTH, PHONE_LENGTH, TEXT_LENGTH, DocumentKind, Person
from pingan.people.service import PersonData
from pingan.privacy import mask_document, mask_id_number, mask_name, mask_phone


class DocumentIn(BaseModel):
    kind: DocumentKind
    number: str = Field(..., min_length=1, max_length=DOCUMENT_LENGTH)

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        return "".join(v.split()).upper()


class PersonCreate(BaseModel):
    """登记人员 / register a person. ``id_number``: 18 characters checked by GB 11643 (a 15-digit
    old number is converted); birth date and sex are read from it."""

    name: str = Field(..., min_length=1, max_length=NAME_LENGTH)
    id_number: str | None = Field(None, max_length=20)
    phones: list[str] = Field(default_factory=list, max_length=5)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=5)
    residence_text: str = Field("", max_length=TEXT_LENGTH)
    residence_division_code: str | None = Field(None, pattern=r"^\d{6}(\d{3})?$")
    address_id: int | None = Field(None, ge=1, le=2**31 - 1)
    address_text: str = Field("", max_length=TEXT_LENGTH)
    org_unit_id: int | None = Field(None, ge=1, le=2**31 - 1)

    @field_validator("phones")
    @classmethod
    def _phones(cls, v: list[str]) -> list[str]:
        cleaned = []
        for phone in v:
            phone = "".join(phone.split())
            if not (3 <= len(phone) <= PHONE_LENGTH) or not phone.replace("-", "").isdigit():
                raise ValueError("电话号码格式错误 / a phone is digits (and dashes), 3 to 20 of them")
            if phone not in cleaned:
                cleaned.append(phone)
        return cleaned

    def data(self) -> PersonData:
        return PersonData(
            name=self.name.strip(), id_number=self.id_number or None, phones=self.phones,
            documents=[(d.kind, d.number) for d in self.documents], residence_text=self.residence_text.strip(),
            residence_division_code=self.residence_division_code, address_id=self.address_id,
            address_text=self.address_text.strip(), org_unit_id=self.org_unit_id)


class PersonUpdate(PersonCreate):
    """更正人员信息 / correct a person: the whole record as it should be (the unit stays)."""


class DocumentRead(BaseModel):
    kind: DocumentKind
    number: str


class PersonRead(BaseModel):
    """A person, masked."""

    id: int
    name: str
    id_number: str | None
    birth_year: int | None
    sex: idnumber.Sex | None
    phones: list[str]
    documents: list[DocumentRead]
    residence_text: str
    residence_division_code: str | None
    address_id: int | None
    address_text: str
    org_unit_id: int
    merged_into_id: int | None

    @classmethod
    def of(cls, p: Person) -> PersonRead:
        return cls(id=p.id, name=mask_name(p.name), id_number=mask_id_number(p.id_number),
                   birth_year=p.birth_date.year if p.birth_date else None, sex=p.sex,
                   phones=[mask_phone(x.phone) for x in p.phones],
                   documents=[DocumentRead(kind=d.kind, number=mask_document(d.number)) for d in p.documents],
                   residence_text=p.residence_text, residence_division_code=p.residence_division_code,
                   address_id=p.address_id, address_text=p.address_text, org_unit_id=p.org_unit_id,
                   merged_into_id=p.merged_into_id)


class PersonRevealed(PersonRead):
    """A person unmasked: only the audited reveal returns it."""

    birth_date: date | None

    @classmethod
    def of(cls, p: Person) -> PersonRevealed:
        return cls(id=p.id, name=p.name, id_number=p.id_number, birth_year=p.birth_date.year if p.birth_date else None,
                   birth_date=p.birth_date, sex=p.sex, phones=[x.phone for x in p.phones],
                   documents=[DocumentRead(kind=d.kind, number=d.number) for d in p.documents],
                   residence_text=p.residence_text, residence_division_code=p.residence_division_code,
                   address_id=p.address_id, address_text=p.address_text, org_unit_id=p.org_unit_id,
                   merged_into_id=p.merged_into_id)


class RevealRequest(BaseModel):
    """An unmasked read needs a purpose; it is written to the audit log."""

    purpose: str = Field(..., min_length=2, max_length=200, description="查看事由 / why you need it")


class DuplicateRead(BaseModel):
    """A proposal to merge (疑似重复): two persons and why."""

    older: PersonRead
    newer: PersonRead
    reason: str  # "phone": same name and phone; "birth_address": same name, birth date and address


class MergeRequest(BaseModel):
    merged_id: int = Field(..., ge=1, le=2**31 - 1, description="被合并的人员 / the record merged away")
