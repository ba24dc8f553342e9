"""The incident module's statistics contribution (统计): the incident fact source, its KPIs, its
category dimension table, its sections of the work summary and its dashboard panel.

Declared in the statistics' vocabulary (``stats.facts``, ``stats.metrics``, ``stats.report``,
``stats.contribution``) and named by ``incident/module.py`` (``statistics=``); the feeding
queries are in ``incident.system`` (unscoped by design), the records behind a figure are read
back through ``incident.repository`` (jurisdiction-filtered, masked).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pingan.geo.stats import ZONE_VALUES, zone_target_case
from pingan.incident import system
from pingan.incident.models import Disposition, Priority, Satisfaction
from pingan.stats.contribution import Breakdown, Contribution, Panel
from pingan.stats.facts import DimensionTable, Dimension, FactSource, seconds_between
from pingan.stats.metrics import COMMON_DIMENSIONS, Kind, Metric
from pingan.stats.report import (Breakdown as BreakdownPart, Distribution, ReportSection, Sentences, Trend,
                                 UnitChart, UnitRanking, UnitTable)

# --- the fact source ----------------------------------------------------------------------------------


def _records(db: Session, actor, ids: list[int]) -> list:
    from pingan.incident import repository
    from pingan.incident.schemas import IncidentRead

    return [IncidentRead.model_validate(r) for r in repository.list_by_ids(db=db, actor=actor, ids=ids)]


def _records_context(db: Session) -> dict:
    """What the records table (``incident/_stats_records.html``) names its values with."""
    from pingan.incident import repository

    return {"category_names": {c.code: c for c in repository.list_categories_unscoped(db=db)}}


CATEGORIES = DimensionTable(
    name="category",
    columns=(("code", "VARCHAR"), ("name", "VARCHAR"), ("name_en", "VARCHAR"), ("parent_code", "VARCHAR")),
    rows=system.category_rows,
    fingerprint=system.category_fingerprint,
    label_en="name_en",
    order="code",
)

INCIDENTS = FactSource(
    name="incident",
    zh="警情",
    en="Incidents",
    columns=(
        ("id", "BIGINT"), ("org_unit_id", "BIGINT"), ("grid_id", "BIGINT"), ("zone_class", "VARCHAR"),
        ("category_code", "VARCHAR"), ("top_category", "VARCHAR"), ("priority", "INTEGER"), ("stage", "VARCHAR"),
        ("disposition", "VARCHAR"), ("satisfaction", "VARCHAR"),
        ("received_at", "TIMESTAMP"), ("accepted_at", "TIMESTAMP"), ("dispatched_at", "TIMESTAMP"),
        ("departed_at", "TIMESTAMP"), ("arrived_at", "TIMESTAMP"), ("resolved_at", "TIMESTAMP"),
        ("closed_at", "TIMESTAMP"), ("escalated_at", "TIMESTAMP"), ("updated_at", "TIMESTAMP"),
    ),
    derived=(
        ("t_local", "TIMESTAMP", "timezone('{tz}', received_at::TIMESTAMPTZ)"),
        ("accept_s", "DOUBLE", seconds_between("accepted_at", "received_at")),
        ("dispatch_s", "DOUBLE", seconds_between("dispatched_at", "received_at")),
        ("depart_s", "DOUBLE", seconds_between("departed_at", "received_at")),
        ("arrive_s", "DOUBLE", seconds_between("arrived_at", "received_at")),
        ("resolve_s", "DOUBLE", seconds_between("resolved_at", "received_at")),
        # the zone's response target, once per row: a CASE over the zone's name in every
        # on-target count costs a third of the whole KPI set's query (bench/stats.py)
        ("zone_target_s", "INTEGER", zone_target_case("zone_class")),
    ),
    time_column="t_local",
    dimensions=(
        Dimension("grid", "网格", "grid", "f.grid_id", "grid"),
        Dimension("zone_class", "区域类别", "zone class", "f.zone_class", values=ZONE_VALUES),
        Dimension("category", "警情类别", "category", "f.category_code", "category"),
        Dimension("top_category", "警情大类", "top-level category", "f.top_category", "category"),
        Dimension("priority", "紧急程度", "priority", "f.priority",
                  values={str(p.value): p.pair for p in Priority}),
        Dimension("disposition", "处警结果", "disposition", "f.disposition",
                  values={d.value: d.pair for d in Disposition}),
    ),
    rows=system.incident_fact_rows,
    marks=system.incident_marks,
    changed_ids=system.incident_changed_ids,
    list_records=_records,
    permission="incident.read",
    unit=("起", "incidents"),
    records_template="incident/_stats_records.html",
    record_href="/incidents/{id}",
    records_context=_records_context,
)


# --- KPIs ---------------------------------------------------------------------------------------------

_METRICS: list[Metric] = []


def _declare(metric: Metric) -> Metric:
    _METRICS.append(metric)
    return metric


INCIDENT_DIMENSIONS = COMMON_DIMENSIONS + ("grid", "zone_class", "category", "top_category", "priority",
                                           "disposition")
RESPONSE_DIMENSIONS = COMMON_DIMENSIONS + ("grid", "zone_class", "category", "top_category", "priority")

NOT_VALID = (Disposition.INVALID_CALL, Disposition.DUPLICATE, Disposition.FALSE_REPORT)
REACHED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)
ZONE_TARGET = "f.zone_target_s"  # derived when rows are loaded (facts.INCIDENTS)


def _in(values) -> str:
    return "(" + ", ".join(f"'{v.value}'" for v in values) + ")"


def _count(slug: str, zh: str, en: str, where: str, dzh: str, den: str, *, higher: bool = False) -> Metric:
    return _declare(Metric(slug=slug, zh=zh, en=en, unit="起", unit_en="incidents", source=INCIDENTS,
                           kind=Kind.COUNT, numerator=where, dimensions=INCIDENT_DIMENSIONS,
                           higher_is_better=higher, definition_zh=dzh, definition_en=den))


def _share(slug: str, zh: str, en: str, *, numerator: str, denominator: str, dzh: str, den: str,
           higher: bool = True) -> Metric:
    return _declare(Metric(slug=slug, zh=zh, en=en, unit="%", unit_en="%", source=INCIDENTS, kind=Kind.RATE,
                           numerator=numerator, denominator=denominator, dimensions=RESPONSE_DIMENSIONS,
                           higher_is_better=higher, definition_zh=dzh, definition_en=den))


def _seconds(slug: str, zh: str, en: str, *, measure: str, kind: Kind = Kind.MEAN, dzh: str, den: str) -> Metric:
    return _declare(Metric(slug=slug, zh=zh, en=en, unit="秒", unit_en="s", source=INCIDENTS, kind=kind,
                           measure=measure, dimensions=RESPONSE_DIMENSIONS, higher_is_better=False,
                           definition_zh=dzh, definition_en=den))


RECEIVED_RULE_ZH = "按接警时间（本地时间）归入统计周期"
RECEIVED_RULE_EN = "counted in the period of its reception (local time)"

INCIDENTS_RECEIVED = _count(
    "incidents_received", "接警总数", "Incidents received", "TRUE",
    f"统计周期内接报的警情数（合并后的警情，不含被合并的重复来电）；{RECEIVED_RULE_ZH}",
    f"incidents received in the period (merged calls count once); {RECEIVED_RULE_EN}")
VALID_INCIDENTS = _count(
    "incidents_valid", "有效警情", "Valid incidents", f"f.disposition IS NULL OR f.disposition NOT IN {_in(NOT_VALID)}",
    "接报警情中处警结果不是无效警情、重复报警、谎报警情的（尚未结警的计入）",
    "incidents received less those closed as invalid, duplicate or false (open ones count)")
CRIMINAL_INCIDENTS = _count(
    "incidents_criminal", "刑事警情", "Criminal incidents", "f.top_category = '10'",
    "警情类别属于刑事警情（10）大类的接报警情", "incidents received in the criminal category (10)")
ESCALATIONS = _count(
    "escalations", "超时未签收预警", "Escalations (not accepted in time)", "f.escalated_at IS NOT NULL",
    "接报后超过签收时限仍未签收、被预警升级的警情数", "incidents flagged for not being accepted within their target")

ACCEPTED = "f.accept_s IS NOT NULL"
_ACCEPT_ZH, _ACCEPT_EN = "已签收警情中，签收用时（接警至签收）", "of the incidents accepted, the time from reception to acceptance"
for _limit, _zh, _en in ((30, "30秒", "30 s"), (60, "1分钟", "1 min"), (120, "2分钟", "2 min"), (180, "3分钟", "3 min")):
    _share(f"accepted_within_{_limit}s", f"{_zh}内签收率", f"Accepted within {_en}",
           numerator=f"f.accept_s <= {_limit}", denominator=ACCEPTED,
           dzh=f"{_ACCEPT_ZH}不超过{_zh}的占比", den=f"{_ACCEPT_EN} is at most {_en}: share")
# The acceptance-time bands: (0, 30], (30, 60] … seconds, the first from 0 and the last open above.
ACCEPT_BANDS = ("accept_0_30s", "accept_30_60s", "accept_60_120s", "accept_120_180s", "accept_over_180s")
for _lo, _hi, _zh, _en in ((0, 30, "0–30秒", "0–30 s"), (30, 60, "30–60秒", "30–60 s"), (60, 120, "1–2分钟", "1–2 min"),
                           (120, 180, "2–3分钟", "2–3 min")):
    _cond = (f"f.accept_s > {_lo}" if _lo else "f.accept_s >= 0") + f" AND f.accept_s <= {_hi}"
    _share(f"accept_{_lo}_{_hi}s", f"签收用时{_zh}占比", f"Acceptance time {_en}",
           numerator=_cond, denominator=ACCEPTED, higher=_lo == 0,
           dzh=f"{_ACCEPT_ZH}落在{_zh}区间（含上限）的占比", den=f"{_ACCEPT_EN} falls in {_en} (upper bound included): share")
_share("accept_over_180s", "签收用时3分钟以上占比", "Acceptance time over 3 min",
       numerator="f.accept_s > 180", denominator=ACCEPTED, higher=False,
       dzh=f"{_ACCEPT_ZH}超过3分钟的占比", den=f"{_ACCEPT_EN} is over 3 min: share")

DEPARTED_ON_TARGET = _share(
    "departed_within_target", "按时出警率", "Departed within the zone target",
    numerator=f"f.depart_s <= {ZONE_TARGET}", denominator="f.depart_s IS NOT NULL AND f.zone_class IS NOT NULL",
    dzh="已出警且有区域类别的警情中，接警至出警用时不超过所在区域时限（城市中心区3分钟、城区5分钟、城郊10分钟）的占比",
    den="of the incidents with a departure and a zone class, the share departed within the zone's target "
        "(centre 3 min, urban 5, suburban 10) of reception")
ARRIVED_ON_TARGET = _share(
    "arrived_within_target", "按时到场率", "Arrived within the zone target",
    numerator=f"f.arrive_s <= {ZONE_TARGET}", denominator="f.arrive_s IS NOT NULL AND f.zone_class IS NOT NULL",
    dzh="已到场且有区域类别的警情中，接警至到场用时不超过所在区域时限的占比",
    den="of the incidents with an arrival and a zone class, the share arrived within the zone's target of reception")
P1_ON_TARGET = _share(
    "priority1_on_target", "一级警情按时到场率", "Priority-1 incidents on target",
    numerator=f"f.arrive_s <= {ZONE_TARGET}",
    denominator="f.priority = 1 AND f.arrive_s IS NOT NULL AND f.zone_class IS NOT NULL",
    dzh="一级（最紧急）且已到场的警情中，接警至到场用时不超过所在区域时限的占比",
    den="of the priority-1 incidents with an arrival, the share arrived within the zone's target")
SATISFACTION_RATE = _share(
    "satisfaction_rate", "回访满意率", "Callback satisfaction rate",
    numerator=f"f.satisfaction IN {_in(SATISFIED)}", denominator=f"f.satisfaction IN {_in(REACHED)}",
    dzh="已回访且联系上的警情中（以最近一次回访为准），满意和基本满意的占比",
    den="of the incidents whose caller was reached on callback (the latest callback counts), "
        "the share satisfied or basically satisfied")

MEAN_ACCEPT = _seconds("mean_accept_seconds", "平均签收用时", "Mean time to accept", measure="f.accept_s",
                       dzh="已签收警情接警至签收用时的平均值", den="mean time from reception to acceptance")
P90_ACCEPT = _seconds("p90_accept_seconds", "签收用时90分位", "Time to accept, 90th percentile",
                      measure="f.accept_s", kind=Kind.QUANTILE,
                      dzh="已签收警情接警至签收用时的90%分位数", den="90th percentile of the time to accept")
MEAN_ARRIVE = _seconds("mean_arrive_seconds", "平均到场用时", "Mean time to arrive", measure="f.arrive_s",
                       dzh="已到场警情接警至到场用时的平均值", den="mean time from reception to arrival")
P90_ARRIVE = _seconds("p90_arrive_seconds", "到场用时90分位", "Time to arrive, 90th percentile",
                      measure="f.arrive_s", kind=Kind.QUANTILE,
                      dzh="已到场警情接警至到场用时的90%分位数", den="90th percentile of the time to arrive")


# --- the work summary (接处警) -------------------------------------------------------------------------

SECTIONS = (
    ReportSection("incident_lead", None, 0, parts=(
        Sentences(("incidents_received", "arrived_within_target", "satisfaction_rate"), intro="{span}，{scope}",
                  closing="现将有关情况综述如下。"),
    )),
    ReportSection("incident_overall", "接处警总体情况", 10, parts=(
        Sentences(("incidents_received", "incidents_valid", "incidents_criminal", "escalations"), intro="{scope}",
                  names={"incidents_valid": "其中有效警情"}),
        Trend("incidents_received"),
    )),
    ReportSection("incident_response", "接警响应情况", 20, parts=(
        Distribution(ACCEPT_BANDS, ("30秒以内", "30秒至1分钟", "1至2分钟", "2至3分钟", "3分钟以上"),
                     intro="从签收用时看，已签收警情中", caption="签收用时分布"),
        Sentences(("departed_within_target", "arrived_within_target", "priority1_on_target"), intro="出警到场方面，"),
        Sentences(("mean_accept_seconds", "p90_accept_seconds", "mean_arrive_seconds", "p90_arrive_seconds"),
                  intro="响应用时方面，"),
        Sentences(("satisfaction_rate",), intro="群众评价方面，"),
    )),
    ReportSection("incident_units", "各{units}工作情况", 30, parts=(
        UnitTable(("incidents_received", "incidents_criminal", "arrived_within_target", "satisfaction_rate")),
        UnitRanking(("arrived_within_target", "priority1_on_target", "accepted_within_60s", "satisfaction_rate")),
        UnitChart("incidents_received"),
    )),
    ReportSection("incident_categories", "警情类别构成", 40, parts=(
        BreakdownPart("incidents_received", "top_category", intro="从警情类别看，", caption="警情类别构成"),
    )),
)

# --- the dashboards -----------------------------------------------------------------------------------

PANEL = Panel(
    source="incident",
    distribution=ACCEPT_BANDS,
    distribution_title=("签收用时分布", "Time to accept"),
    distribution_labels=(("0–30秒", "0–30 s"), ("30–60秒", "30–60 s"), ("1–2分钟", "1–2 min"),
                         ("2–3分钟", "2–3 min"), ("3分钟以上", "over 3 min")),
    breakdowns=(
        Breakdown("zone", ("区域类别", "Zone class"), "zone_class",
                  ("arrived_within_target", "departed_within_target"),
                  title=("按区域类别的按时率", "Within the zone target")),
        Breakdown("hours", ("时段", "Hour"), "hour", ("incidents_received",), last_year=True),
        Breakdown("categories", ("警情大类", "Category"), "top_category", ("incidents_received",),
                  order="value", horizontal=True, last_year=True),
    ),
    chart="incidents_received",
    rank="arrived_within_target",
    map="incidents_received",
    grid_table=("incidents_received", "incidents_criminal", "arrived_within_target", "mean_arrive_seconds",
                "satisfaction_rate"),
)

CONTRIBUTION = Contribution(
    sources=(INCIDENTS,),
    metrics=tuple(_METRICS),
    dimension_tables=(CATEGORIES,),
    sections=SECTIONS,
    panels=(PANEL,),
    renamed={"accept_180_mores": "accept_over_180s"},  # the open band's old slug, in reports issued before
)
