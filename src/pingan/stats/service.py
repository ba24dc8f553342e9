"""Issued work summaries (签发工作综述): issue and freeze, amendments, the PDF.

**Issuing** (``issue``) takes an org unit (default: the top of the actor's jurisdiction) and a
period, counts the period to the minute of issue when it has not ended, gathers every figure
from the engine, composes and renders the document, and stores one :class:`StatsReport` row:
the .docx bytes with their SHA-256, every figure with its baselines and changes and the KPI
definitions as JSON (``figures``: a ``stats.report.Snapshot``), and the records counted. It
never changes after that: downloading gives the issued bytes, and composing the frozen figures
again gives the same document (``regenerate``) whatever the records have become since.

**Amended after issue** (``amendments``), precisely: a record of a fact source the report reads
is amended when the statistics store now holds it differently from when the report was issued,
in anything a figure counts —

- *changed*: counted at issue and now, and one of its fact columns differs (a stage time, the
  disposition, the category, the latest callback's satisfaction …; ``updated_at`` itself is not
  a counted value);
- *added*: counted now but not at issue — a record entered late, or one whose time or org unit
  changed so that it now falls in the report's scope and span (or a baseline's);
- *removed*: counted at issue but not now — deleted, or moved out of the scope or span.

"Counted" means: inside the report's org subtree and received in the report's period as counted
or in either of its baselines (last year, previous period), since those are figures of the
report too. It is detected against the ids and 32-bit fingerprints of every such record, frozen
at issue (``stats.report.records_counted``; the fingerprint is the MD5 of the record's fact
columns), compared with the same read of the store now. The store follows the operational
records by one sync interval, so an amendment shows up after the next sync (``data_as_of``). A
change in a field no figure counts (a description, a caller's phone) is not an amendment. Which
figures would change, and by how much, comes from gathering the same figures again live and
comparing them with the frozen ones (``stats.report.compare_figures``).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import utcnow
from pingan.errors import NotFound, Unavailable, ValidationFailed
from pingan.org import repository as org_repository
from pingan.stats import contribution, engine, repository, wording
from pingan.stats import report as summary
from pingan.stats.document import PdfUnavailable, docx_to_pdf, render_charts, render_docx
from pingan.stats.engine import OrgNode
from pingan.stats.facts import SOURCES
from pingan.stats.models import StatsReport
from pingan.stats.period import Period, parse_period
from pingan.stats.store import Store

# The steps of an issue, in order, for a progress bar: (key, 中文, English).
STEPS = (("figures", "计算指标", "figures"), ("compose", "编排文稿", "composing"), ("charts", "绘制图表", "charts"),
         ("docx", "生成文档", ".docx"), ("records", "登记计入记录", "records counted"),
         ("freeze", "冻结存档", "freezing"))

Progress = Callable[[str], None]  # called with a step's key as the step starts


def _not_found() -> NotFound:
    return NotFound("机构不存在或不在辖区内", "No such org unit in your jurisdiction", field="org")


def issue(*, db: Session, store: Store, actor: Actor, period: str | Period, org_unit_id: int | None = None,
          now: datetime | None = None, progress: Progress | None = None) -> StatsReport:
    """Issue (and so freeze) the work summary of an org unit for a period (see the module
    docstring). 403 without ``stats.report``; 404 for an org unit outside the jurisdiction;
    422 for a bad period or one that has not begun. Flushes, never commits."""
    actor.require(Perm.STATS_REPORT)
    step = progress or (lambda _key: None)
    wanted = parse_period(period, field="period") if isinstance(period, str) else period
    if org_unit_id is None:
        unit = org_repository.get_jurisdiction_root(db=db, actor=actor)
    else:
        unit = org_repository.get_org_unit(db=db, actor=actor, org_unit_id=org_unit_id)
    if unit is None:
        raise _not_found()
    issued_at = (now or utcnow()).astimezone(ZoneInfo(store.timezone)).replace(microsecond=0)
    local_now = issued_at.replace(tzinfo=None)
    if wanted.begin > local_now:
        raise ValidationFailed(f"period：统计周期 {wanted.label} 尚未开始，不能签发",
                               f"period: {wanted.label} has not begun; it cannot be issued", field="period")
    counted = engine.to_date(store, wanted, now=local_now)

    step("figures")
    snapshot = summary.gather(store=store, actor=actor, org=OrgNode(id=unit.id, name=unit.name, kind=str(unit.kind)),
                              org_code=unit.code, period=counted, issued_at=issued_at)
    step("compose")
    document = summary.compose(snapshot)
    step("charts")
    render_charts(document)
    step("docx")
    data = render_docx(document)
    step("records")
    records = summary.records_counted(store=store, actor=actor, snapshot=snapshot)
    step("freeze")
    as_of = engine.synced_at(store=store, sources=sorted({k.source for k in snapshot.kpis.values()}))
    zone = ZoneInfo(store.timezone)
    row = StatsReport(
        org_unit_id=unit.id, org_name=unit.name, period_label=counted.label, span=wording.span_words(counted),
        counted_from=counted.begin.replace(tzinfo=zone), counted_until=counted.stop.replace(tzinfo=zone),
        to_date=counted.until is not None, title=document.title, issued_at=issued_at,
        issued_by_id=actor.user_id, issued_by_name=actor.display_name or actor.username,
        data_as_of=as_of.replace(tzinfo=UTC) if as_of else None, figure_count=len(snapshot.figures),
        record_count=summary.record_count(records), docx_sha256=hashlib.sha256(data).hexdigest(),
        docx_size=len(data), figures=snapshot.to_json(),
        definitions=[{"number": i, "kpi": d.key, "name": d.name, "text": d.text}
                     for i, d in enumerate(document.definitions, start=1)],
        docx=data, records=summary.encode_records(records))
    repository.add_report_unscoped(db=db, report=row)
    return row


def get(*, db: Session, actor: Actor, report_id: int, load: tuple[str, ...] = ()) -> StatsReport:
    """An issued report of the actor's jurisdiction (404 otherwise)."""
    row = repository.get_report(db=db, actor=actor, report_id=report_id, load=load)
    if row is None:
        raise NotFound("工作综述不存在或不在辖区内", "No such report in your jurisdiction")
    return row


def regenerate(report: StatsReport) -> bytes:
    """The .docx composed again from the report's frozen figures (needs ``figures`` loaded)."""
    document = summary.compose(summary.Snapshot.from_json(report.figures))
    render_charts(document)
    return render_docx(document)


# --- amendments -------------------------------------------------------------------------------------


@dataclass
class Amendments:
    """What changed since a report was issued (see the module docstring)."""

    checked_at: datetime
    data_as_of: datetime | None  # the store's last sync: amendments are known up to then
    records: list[summary.RecordChanges]
    figures: list[summary.FigureChange]
    kpis: dict[str, summary.KpiInfo]  # as frozen, to name the figures
    problem: tuple[str, str] | None = None  # why they could not be checked

    @property
    def record_total(self) -> int:
        return sum(r.total for r in self.records)

    @property
    def amended(self) -> bool:
        return bool(self.record_total or self.figures)


def _unchecked(then: summary.Snapshot, zh: str, en: str) -> Amendments:
    return Amendments(checked_at=utcnow(), data_as_of=None, records=[], figures=[], kpis=then.kpis,
                      problem=(zh, en))


def record_changes(*, store: Store, actor: Actor, report: StatsReport) -> list[summary.RecordChanges]:
    """How the records counted in the report differ now (needs ``figures`` and ``records`` loaded)."""
    then = summary.Snapshot.from_json(report.figures)
    now = summary.records_counted(store=store, actor=actor, snapshot=then)
    return summary.compare_records(summary.decode_records(report.records), now)


def amendments(*, store: Store, actor: Actor, report: StatsReport) -> Amendments:
    """The records amended since issue and the figures that would change now (needs ``figures``
    and ``records`` loaded)."""
    then = summary.Snapshot.from_json(report.figures)
    unknown = sorted({k.source for k in then.kpis.values()} - set(SOURCES))
    if unknown:
        return _unchecked(then, f"统计库中已无数据源 {', '.join(unknown)}，无法比对",
                          f"the store no longer has the fact source(s) {', '.join(unknown)}")
    try:
        now = summary.gather(store=store, actor=actor, org=then.org, org_code=then.org_code, period=then.period,
                             issued_at=then.issued_at)
        records = record_changes(store=store, actor=actor, report=report)
    except NotFound:
        return _unchecked(then, "该机构已不在统计库中（已撤销或调整），无法比对",
                          "the org unit is no longer in the statistics store (removed or moved)")
    as_of = engine.synced_at(store=store, sources=sorted({k.source for k in then.kpis.values()}))
    return Amendments(checked_at=utcnow(), data_as_of=as_of.replace(tzinfo=UTC) if as_of else None,
                      records=records, figures=summary.compare_figures(then, now), kpis=then.kpis)


def amended_records(*, db: Session, store: Store, actor: Actor, report: StatsReport, change: str,
                    source: str = "incident", limit: int = 50, offset: int = 0) -> tuple[list[int], int, list]:
    """The records of one kind of amendment ('added', 'removed', 'changed'): a page of their ids,
    how many there are, and those still readable through their domain's repository (masked,
    jurisdiction-filtered; a deleted record has an id and nothing more)."""
    if change not in ("added", "removed", "changed"):
        raise ValidationFailed("change：应为 added、removed 或 changed", "change: added, removed or changed",
                               field="change")
    found = next((r for r in record_changes(store=store, actor=actor, report=report) if r.source == source), None)
    if found is None:
        raise ValidationFailed(f"source：该综述未计入数据源 {source[:40]}", f"source: the report counts no {source[:40]!r}",
                               field="source")
    ids = sorted(getattr(found, change), reverse=True)
    page = ids[offset:offset + limit]
    declared = SOURCES.get(source)
    readable = declared is not None and contribution.may_read(actor, declared)
    return page, len(ids), declared.list_records(db, actor, page) if readable else []


# --- PDF ----------------------------------------------------------------------------------------------


def pdf(report: StatsReport) -> bytes:
    """The PDF of the issued .docx bytes (LibreOffice; the official fonts drawn in Noto CJK).
    503 where LibreOffice is missing or the conversion fails."""
    with tempfile.TemporaryDirectory(prefix="pingan-report-") as directory:
        path = Path(directory) / f"report-{report.id}.docx"
        path.write_bytes(report.docx)
        try:
            return docx_to_pdf(path).read_bytes()
        except PdfUnavailable as exc:
            zh, _, en = str(exc).partition(" / ")
            raise Unavailable(zh, en or zh) from exc
