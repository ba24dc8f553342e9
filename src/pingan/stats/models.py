"""Tables of the statistics module (统计): the issued work summaries.

The figures themselves live in the statistics store (DuckDB), which is a copy that follows the
records. An issued report (签发的工作综述) is the opposite: a record that never changes. It
keeps what was issued — the .docx bytes and their SHA-256 —, every figure in it with the
period as counted and the KPI definitions as they were (``figures``: a ``stats.report.Snapshot``
as JSON; the document can be made again from it, byte for byte), and what is needed to say
later whether records counted in it were amended (``records``: the ids and fingerprints of
every record counted, see ``stats.service.amendments``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.db.base import Base
from pingan.db.mixins import IdMixin
from pingan.db.types import UTCDateTime, utcnow


class StatsReport(IdMixin, Base):
    """An issued work summary (工作综述). Written once by ``stats.service.issue``; never updated.
    The large columns are deferred and raise when read unasked: a list of reports loads none of
    them, and each reader asks for what it needs (``stats.repository.get_report``)."""

    __tablename__ = "stats_report"
    __auditable__ = True
    # The audit row of an issue names the report, its org unit, period, title and SHA-256; the
    # bytes and the figures stay here.
    __audit_exclude__ = ("figures", "definitions", "docx", "records")

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    org_name: Mapped[str] = mapped_column(String(80))  # as printed on the document
    period_label: Mapped[str] = mapped_column(String(30))  # 2026, 2026-Q3, 2026-07, 2026-03-01..2026-06-30
    span: Mapped[str] = mapped_column(String(80))  # the span counted, in words
    counted_from: Mapped[datetime] = mapped_column(UTCDateTime())  # first instant counted
    counted_until: Mapped[datetime] = mapped_column(UTCDateTime())  # counting stopped here (exclusive)
    to_date: Mapped[bool] = mapped_column(default=False)  # the period had not ended at issue
    title: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    issued_by_name: Mapped[str] = mapped_column(String(80))
    data_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the store's last sync at issue
    figure_count: Mapped[int] = mapped_column(Integer)
    record_count: Mapped[int] = mapped_column(Integer)  # records counted (period and baselines)
    docx_sha256: Mapped[str] = mapped_column(String(64))
    docx_size: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON, deferred=True, deferred_raiseload=True)
    definitions: Mapped[list] = mapped_column(JSON, deferred=True, deferred_raiseload=True)
    docx: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    records: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)

    __table_args__ = (Index("ix_stats_report_org_issued", "org_unit_id", "issued_at"),)
