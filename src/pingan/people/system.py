"""Reads of people that serve the machinery (no actor): where a link to a merged person leads."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.people.models import Person


def current_person_ids(*, db: Session, person_ids: Iterable[int]) -> dict[int, int]:
    """{person id: the id of the record it now is}: a link to a merged person follows the merge
    (a merge of a merge too). Another module reading its links calls this."""
    current = {i: i for i in person_ids}
    pending = set(current)
    while pending:
        pointers = dict(db.execute(select(Person.id, Person.merged_into_id)
                                   .where(Person.id.in_(pending), Person.merged_into_id.is_not(None))).all())
        pending = set()
        for start, at in current.items():
            if at in pointers:
                current[start] = pointers[at]
                pending.add(pointers[at])
    return current
