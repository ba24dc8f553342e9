"""The sample module's statistics contribution: a fact source over its own table ``sample_item``
(each item kept by an org unit and received at a time), read by those who may read the audit
log, with one KPI. The table is on a metadata of its own: the tests create it where they need it,
so that the migrations' tables stay those of ``src/``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, func, select
from sqlalchemy.orm import Session

from pingan.org.repository import subtree_ids
from pingan.stats.contribution import Contribution
from pingan.stats.facts import FactSource
from pingan.stats.metrics import COMMON_DIMENSIONS, Kind, Metric

metadata = MetaData()
sample_item = Table(
    "sample_item", metadata,
    Column("id", Integer, primary_key=True),
    Column("org_unit_id", BigInteger, nullable=False),
    Column("name", String(40), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


def rows(ids):
    stmt = select(sample_item.c.id, sample_item.c.org_unit_id, sample_item.c.received_at)
    return stmt if ids is None else stmt.where(sample_item.c.id.in_(ids))


def marks(db: Session) -> dict:
    max_id = db.scalar(select(func.max(sample_item.c.id))) or 0
    count = db.scalar(select(func.count()).select_from(sample_item).where(sample_item.c.id <= max_id)) or 0
    return {"max_id": max_id, "count": count}


def changed_ids(since: dict, upto: dict):
    return select(sample_item.c.id).where(sample_item.c.id > since.get("max_id", 0), sample_item.c.id <= upto["max_id"])


def list_records(db: Session, actor, ids: list[int]) -> list[dict]:
    """The items of ``ids`` inside the actor's jurisdiction, in the order of ``ids``."""
    found = {r.id: dict(r._mapping) for r in db.execute(
        select(sample_item.c.id, sample_item.c.name, sample_item.c.org_unit_id)
        .where(sample_item.c.id.in_(ids), sample_item.c.org_unit_id.in_(subtree_ids(actor))))}
    return [found[i] for i in ids if i in found]


ITEMS = FactSource(
    name="sample", zh="样例记录", en="Sample items",
    columns=(("id", "BIGINT"), ("org_unit_id", "BIGINT"), ("received_at", "TIMESTAMP")),
    derived=(("t_local", "TIMESTAMP", "timezone('{tz}', received_at::TIMESTAMPTZ)"),),
    time_column="t_local", dimensions=(), rows=rows, marks=marks, changed_ids=changed_ids,
    list_records=list_records, permission="audit.read", unit=("条", "items"),
)

ITEMS_RECEIVED = Metric(
    slug="sample_items", zh="样例记录数", en="Sample items", unit="条", unit_en="items", source=ITEMS,
    kind=Kind.COUNT, definition_zh="统计周期内收到的样例记录", definition_en="sample items received in the period",
    dimensions=COMMON_DIMENSIONS,
)

CONTRIBUTION = Contribution(sources=(ITEMS,), metrics=(ITEMS_RECEIVED,))
