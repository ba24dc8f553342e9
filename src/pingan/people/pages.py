"""HTML of people (人员): the list and search, a person's page (masked, with the audited reveal),
the registration and correction forms, the possible duplicates and the merge confirmation. Every
action runs through ``web.actions.form_action``; a page never touches the transaction."""

from __future__ import annotations

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.errors import DomainError, ValidationFailed, not_found
from pingan.org.repository import list_org_units
from pingan.people import idnumber, repository, service
from pingan.people.models import DocumentKind, Person
from pingan.people.schemas import PersonCreate, PersonRead, PersonRevealed
from pingan.web.actions import form_action
from pingan.web.deps import get_db, require
from pingan.web.params import PathId, ascii_id
from pingan.web.routing import api_router
from pingan.web.templating import render
from pingan.web.validation import translate_errors

router = api_router()
DOCUMENT_ROWS = 2  # document rows on the form


@router.get("/people")
def people_page(request: Request, id_number: str = Query("", max_length=20), name: str = Query("", max_length=40),
                phone: str = Query("", max_length=20), actor: Actor = Depends(require(Perm.PERSON_READ)),
                db: Session = Depends(get_db)):
    """人员：按证件号码、姓名、电话查找（辖区内）。"""
    filters = {"id_number": id_number.strip(), "name": name.strip(), "phone": phone.strip()}
    found = repository.search_persons(db=db, actor=actor, id_number=idnumber.normalise(id_number) or None,
                                      name=filters["name"] or None, phone="".join(phone.split()) or None)
    return render(request, "people/list.html", {"rows": [PersonRead.of(p) for p in found], "filters": filters})


def _form_data(form: dict) -> PersonCreate:
    """The form's fields as the API's shape; a refusal names the field."""
    documents = [{"kind": form[f"doc_kind_{i}"], "number": form[f"doc_number_{i}"]}
                 for i in range(DOCUMENT_ROWS) if form.get(f"doc_kind_{i}") or form.get(f"doc_number_{i}")]
    raw = {"name": form["name"], "id_number": form["id_number"].strip() or None,
           "phones": [p for p in form["phones"].replace("，", ",").replace("\n", ",").split(",") if p.strip()],
           "documents": documents, "residence_text": form["residence_text"],
           "residence_division_code": form["residence_division_code"].strip() or None,
           "address_id": ascii_id(form["address_id"]) if form["address_id"].strip() else None,
           "address_text": form["address_text"], "org_unit_id": ascii_id(form.get("org_unit_id", ""))}
    if form["address_id"].strip() and raw["address_id"] is None:
        raise ValidationFailed("标准地址编号无效", "The standard address id is not a number", field="address_id")
    try:
        return PersonCreate.model_validate(raw)
    except ValidationError as exc:
        first = translate_errors(exc.errors())[0]
        raise ValidationFailed(first["message"], first["message_en"], field=first["field"]) from None


def _form_of(person: Person) -> dict:
    form = {"name": person.name, "id_number": person.id_number or "",
            "phones": ", ".join(p.phone for p in person.phones),
            "residence_text": person.residence_text, "residence_division_code": person.residence_division_code or "",
            "address_id": str(person.address_id or ""), "address_text": person.address_text}
    for i, d in enumerate(person.documents[:DOCUMENT_ROWS]):
        form[f"doc_kind_{i}"], form[f"doc_number_{i}"] = str(d.kind), d.number
    return form


def _edit_form(request: Request, db: Session, actor: Actor, *, person_id: int | None = None, form: dict | None = None,
               error: DomainError | None = None, status: int = 200):
    return render(request, "people/form.html", {
        "person_id": person_id, "form": form or {}, "error": error, "kinds": DocumentKind,
        "rows": range(DOCUMENT_ROWS), "orgs": list_org_units(db=db, actor=actor) if person_id is None else [],
    }, status_code=status)


class _Fields:
    """The form's fields (one definition for the new and the edit form)."""

    def __init__(self, name: str = Form("", max_length=200), id_number: str = Form("", max_length=40),
                 phones: str = Form("", max_length=200), residence_text: str = Form("", max_length=300),
                 residence_division_code: str = Form("", max_length=20), address_id: str = Form("", max_length=12),
                 address_text: str = Form("", max_length=300), org_unit_id: str = Form("", max_length=12),
                 doc_kind_0: str = Form("", max_length=30), doc_number_0: str = Form("", max_length=60),
                 doc_kind_1: str = Form("", max_length=30), doc_number_1: str = Form("", max_length=60)):
        self.values = {k: v for k, v in locals().items() if k != "self"}


@router.get("/people/new")
def person_new_form(request: Request, actor: Actor = Depends(require(Perm.PERSON_WRITE)),
                    db: Session = Depends(get_db)):
    return _edit_form(request, db, actor, form={"org_unit_id": str(actor.org_unit_id)})


@router.post("/people/new")
def person_new_submit(request: Request, fields: _Fields = Depends(), actor: Actor = Depends(require(Perm.PERSON_WRITE)),
                      db: Session = Depends(get_db)):
    """登记人员。"""
    form = fields.values
    return form_action(
        db, lambda: service.create(db=db, actor=actor, data=_form_data(form).data()),
        done=lambda person: RedirectResponse(f"/people/{person.id}?done=created", status_code=303),
        refused=lambda exc: _edit_form(request, db, actor, form=form, error=exc, status=exc.status_code))


def _readable(db: Session, actor: Actor, person_id: int) -> Person:
    person = repository.get_person(db=db, actor=actor, person_id=person_id)
    if person is None:
        raise not_found(Person)
    return person


def _detail(request: Request, db: Session, actor: Actor, person: Person, *, revealed: bool = False,
            purpose: str = "", error: DomainError | None = None, status: int = 200):
    shown = PersonRevealed.of(person) if revealed else PersonRead.of(person)
    return render(request, "people/detail.html", {
        "p": shown, "revealed": revealed, "purpose": purpose, "error": error,
        "can_reveal": Perm.PERSON_REVEAL in actor.permissions, "can_write": Perm.PERSON_WRITE in actor.permissions,
        "done": request.query_params.get("done", "")[:20],
    }, status_code=status)


@router.get("/people/{person_id:int}")
def person_page(request: Request, person_id: PathId, actor: Actor = Depends(require(Perm.PERSON_READ)),
                db: Session = Depends(get_db)):
    """人员详情（脱敏）。"""
    return _detail(request, db, actor, _readable(db, actor, person_id))


@router.post("/people/{person_id:int}/reveal")
def person_reveal(request: Request, person_id: PathId, purpose: str = Form("", max_length=400),
                  actor: Actor = Depends(require(Perm.PERSON_REVEAL)), db: Session = Depends(get_db)):
    """显示完整信息：须填写事由，记入审计日志。"""
    person = _readable(db, actor, person_id)

    def reveal():
        if len(purpose) > 200:
            raise ValidationFailed("查看事由不超过 200 字", "The purpose may have at most 200 characters", field="purpose")
        return repository.get_person_revealed(db=db, actor=actor, person_id=person_id, purpose=purpose)

    return form_action(db, reveal, done=lambda p: _detail(request, db, actor, p, revealed=True, purpose=purpose),
                       refused=lambda exc: _detail(request, db, actor, person, purpose=purpose, error=exc,
                                                   status=exc.status_code))


@router.get("/people/{person_id:int}/edit")
def person_edit_form(request: Request, person_id: PathId, actor: Actor = Depends(require(Perm.PERSON_WRITE)),
                     db: Session = Depends(get_db)):
    """The correction form. It holds the record unmasked: opening it is an audited read."""
    person = repository.get_person_revealed(db=db, actor=actor, person_id=person_id, purpose="更正人员信息 / correction")
    if person is None:
        raise not_found(Person)
    return _edit_form(request, db, actor, person_id=person.id, form=_form_of(person))


@router.post("/people/{person_id:int}/edit")
def person_edit_submit(request: Request, person_id: PathId, fields: _Fields = Depends(),
                       actor: Actor = Depends(require(Perm.PERSON_WRITE)), db: Session = Depends(get_db)):
    """更正人员信息。"""
    form = fields.values
    _readable(db, actor, person_id)
    return form_action(
        db, lambda: service.update(db=db, actor=actor, person_id=person_id, data=_form_data(form).data()),
        done=lambda person: RedirectResponse(f"/people/{person.id}?done=updated", status_code=303),
        refused=lambda exc: _edit_form(request, db, actor, person_id=person_id, form=form, error=exc,
                                       status=exc.status_code))


@router.get("/people/duplicates")
def duplicates_page(request: Request, actor: Actor = Depends(require(Perm.PERSON_MERGE)),
                    db: Session = Depends(get_db)):
    """疑似重复人员，待合并。"""
    pairs = [(PersonRead.of(a), PersonRead.of(b), reason)
             for a, b, reason in repository.duplicate_pairs(db=db, actor=actor)]
    return render(request, "people/duplicates.html", {"pairs": pairs})


def _merge_page(request: Request, db: Session, actor: Actor, survivor: Person, merged: Person | None, *,
                error: DomainError | None = None, status: int = 200):
    return render(request, "people/merge.html", {
        "survivor": PersonRead.of(survivor), "merged": PersonRead.of(merged) if merged else None, "error": error,
    }, status_code=status)


@router.get("/people/{person_id:int}/merge")
def merge_confirm(request: Request, person_id: PathId, other: str = Query("", max_length=12),
                  actor: Actor = Depends(require(Perm.PERSON_MERGE)), db: Session = Depends(get_db)):
    """合并确认：保留本记录，另一记录并入。"""
    survivor = _readable(db, actor, person_id)
    other_id = ascii_id(other)
    merged = repository.get_person(db=db, actor=actor, person_id=other_id) if other_id else None
    return _merge_page(request, db, actor, survivor, merged)


@router.post("/people/{person_id:int}/merge")
def merge_submit(request: Request, person_id: PathId, merged_id: str = Form("", max_length=12),
                 actor: Actor = Depends(require(Perm.PERSON_MERGE)), db: Session = Depends(get_db)):
    survivor = _readable(db, actor, person_id)

    def merge():
        other = ascii_id(merged_id)
        if other is None:
            raise ValidationFailed("请选择被合并的人员", "Choose the person to merge", field="merged_id")
        return service.merge(db=db, actor=actor, survivor_id=person_id, merged_id=other)

    return form_action(
        db, merge, done=lambda p: RedirectResponse(f"/people/{p.id}?done=merged", status_code=303),
        refused=lambda exc: _merge_page(request, db, actor, survivor, None, error=exc, status=exc.status_code))
