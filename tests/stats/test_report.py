"""The work summary assembled from the engine, issued and frozen; every expected figure is worked
out by hand in the comments.

side a = 新华社区警务室 under 西街派出所 / 红旗分局, grid A, city centre: arrival target 180 s
side b = 胜利路派出所 / 卫滨分局, grid B, suburban: arrival target 600 s
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import docx
import pytest
from sqlalchemy import select

from pingan.audit.models import AuditLog
from pingan.errors import NotFound, ValidationFailed
from pingan.incident.models import Satisfaction
from pingan.stats import engine, ranking, report, service
from pingan.stats.metrics import METRICS
from pingan.stats.period import parse_period
from tests.stats.conftest import actor_of, local, make_incident

AFTER_JULY = local("2026-08-05 09:00:00")  # July 2026 has ended: counted whole


@pytest.fixture
def july(db, world):
    return {
        # July 2026 — P1, accepted in 20 s, departed 60 s, arrived 150 s (≤ 180: on target), satisfied
        "i1": make_incident(db, world, at="2026-07-10 09:00:00", side="a", priority=1, accept=20, depart=60,
                            arrive=150, satisfaction=Satisfaction.SATISFIED),
        # P2, accepted 45 s, departed 100 s, arrived 200 s (> 180: late), unsatisfied
        "i2": make_incident(db, world, at="2026-07-11 10:00:00", side="a", accept=45, depart=100, arrive=200,
                            satisfaction=Satisfaction.UNSATISFIED),
        # P1, accepted after 200 s (escalated), never arrived, caller unreachable
        "i3": make_incident(db, world, at="2026-07-12 11:00:00", side="a", priority=1, accept=200, escalated=True,
                            satisfaction=Satisfaction.UNREACHABLE),
        # P1, accepted 10 s, departed 120 s, arrived 500 s (≤ 600: on target), basically satisfied
        "i4": make_incident(db, world, at="2026-07-13 12:00:00", side="b", priority=1, accept=10, depart=120,
                            arrive=500, satisfaction=Satisfaction.BASICALLY),
        # a theft (1001, criminal), not accepted yet
        "i5": make_incident(db, world, at="2026-07-14 13:00:00", side="b", category="1001", priority=3),
        # July 2025 (同比): accepted in 30 s, arrived in 170 s (on target); and one with no stage
        "y1": make_incident(db, world, at="2025-07-01 08:00:00", side="a", accept=30, arrive=170),
        "y2": make_incident(db, world, at="2025-07-31 23:00:00", side="b"),
        # June 2026 (环比): two, one of them a theft on side b
        "p1": make_incident(db, world, at="2026-06-03 08:00:00", side="a"),
        "p2": make_incident(db, world, at="2026-06-04 08:00:00", side="b"),
        "p3": make_incident(db, world, at="2026-06-05 08:00:00", side="b", category="1001"),
    }


def opened(data: bytes):
    return docx.Document(io.BytesIO(data))


def text_of(paragraph) -> str:
    """A paragraph's text without its superscript definition marks."""
    return "".join(r.text for r in paragraph.runs if not r.font.superscript)


def marks_of(paragraph) -> list[int]:
    return [int(r.text.strip("[]")) for r in paragraph.runs if r.font.superscript]


def paragraphs(data: bytes) -> list[str]:
    return [text_of(p) for p in opened(data).paragraphs if p.text.strip()]


def starting(data: bytes, prefix: str) -> str:
    found = [t for t in paragraphs(data) if t.startswith(prefix)]
    assert len(found) == 1, (prefix, paragraphs(data))
    return found[0]


def table(data: bytes, caption: str) -> list[list[str]]:
    document = opened(data)
    body = [p for p in document.paragraphs if p.text.strip()]
    number = next(int(text_of(p).split("　")[0][1:]) for p in body
                  if text_of(p).startswith("表") and text_of(p).endswith(caption))
    return [[c.text for c in row.cells] for row in document.tables[number - 1].rows]


def issue(db, store, actor, period="2026-07", **kw):
    return service.issue(db=db, store=store, actor=actor, period=period, now=kw.pop("now", AFTER_JULY), **kw)


def test_the_sentences_carry_the_figures_and_their_changes(db, world, july, store, admin):
    store.sync(db=db)
    row = issue(db, store, admin)
    data = row.docx
    assert paragraphs(data)[0] == row.title == "新乡市公安局2026年7月工作综述"
    assert row.span == "2026年7月1日至7月31日" and not row.to_date
    assert starting(data, "本综述") == (
        "本综述统计时段为2026年7月1日至7月31日；同比为与2025年7月1日至7月31日同期比较，环比为与上期2026年6月1日"
        "至6月30日比较。各项数据均由业务记录按指标口径计算，口径见附。")
    # received 5; last July 2 → +150.0 %; June 3 → +66.7 %. Arrived on target: i1 yes, i2 no, i4 yes →
    # 2/3 = 66.7 %; last July y1 on target → 100 %: −33.3 points; June had no arrival: no 环比.
    # Satisfied: i1 and i4 of the three reached (i3 unreachable) → 66.7 %; nobody was called back before.
    assert starting(data, "2026年7月1日至7月31日，") == (
        "2026年7月1日至7月31日，全局接警总数 5 起，同比上升 150.0%，环比上升 66.7%；按时到场率 66.7%，同比下降 "
        "33.3 个百分点；回访满意率 66.7%。现将有关情况综述如下。")
    # valid = received (nothing closed as invalid); criminal: i5 against none last July (a zero
    # baseline, said so) and p3 in June (持平); escalated: i3, none before in either baseline.
    assert starting(data, "全局接警总数") == (
        "全局接警总数 5 起，同比上升 150.0%，环比上升 66.7%；其中有效警情 5 起，同比上升 150.0%，环比上升 66.7%；"
        "刑事警情 1 起，去年同期为零，环比持平；超时未签收预警 1 起，去年同期为零，上期为零。")
    # accepted: i1 20 s, i2 45 s, i3 200 s, i4 10 s → 0–30 s 2/4, 30–60 s 1/4, > 3 min 1/4; last July
    # y1 in 30 s → 0–30 s 100 %, every other band 0 % (a rate from 0 % changes by points). June: none
    # accepted, so no 环比.
    assert starting(data, "从签收用时看") == (
        "从签收用时看，已签收警情中30秒以内的占 50.0%（同比下降 50.0 个百分点），30秒至1分钟的占 25.0%（同比上升 "
        "25.0 个百分点），1至2分钟的占 0.0%（同比持平），2至3分钟的占 0.0%（同比持平），3分钟以上的占 25.0%（同比"
        "上升 25.0 个百分点）。")
    # departed: i1 60, i2 100 (≤ 180), i4 120 (≤ 600) → 100 %, y1 never departed: no baseline.
    # priority 1 with an arrival: i1, i4, both on target; none last July.
    assert starting(data, "出警到场方面") == (
        "出警到场方面，按时出警率 100.0%；按时到场率 66.7%，同比下降 33.3 个百分点；一级警情按时到场率 100.0%。")
    # mean accept (20 + 45 + 200 + 10) / 4 = 68.75 s ≈ 1 min 9 s against 30 s: +129.2 %; p90 of
    # 10, 20, 45, 200 at 2.7 → 45 + 0.7 × 155 = 153.5 s ≈ 2 min 34 s against 30: +411.7 %; mean arrival
    # (150 + 200 + 500) / 3 = 283.3 s ≈ 4 min 43 s against 170: +66.7 %; p90 of 150, 200, 500 at 1.8 →
    # 440 s = 7 min 20 s against 170: +158.8 %.
    assert starting(data, "响应用时方面") == (
        "响应用时方面，平均签收用时 1分9秒，同比上升 129.2%；签收用时90分位 2分34秒，同比上升 411.7%；平均到场用时 "
        "4分43秒，同比上升 66.7%；到场用时90分位 7分20秒，同比上升 158.8%。")
    assert starting(data, "群众评价方面") == "群众评价方面，回访满意率 66.7%。"
    # 治安 (20): i1–i4 = 4 of 5, against y1, y2 and p1, p2 (2 each); 刑事 (10): i5, against 0 and p3.
    assert starting(data, "从警情类别看") == (
        "从警情类别看，治安警情 4 起，占 80.0%，同比上升 100.0%，环比上升 100.0%；刑事警情 1 起，占 20.0%，去年同期"
        "为零，环比持平。")
    assert paragraphs(data)[-2:] == ["新乡市公安局", "2026年8月5日"]


def test_the_units_table_and_rankings_are_the_engines(db, world, july, store, admin):
    store.sync(db=db)
    data = issue(db, store, admin).docx
    # 红旗分局: i1–i3, last July y1 → +200 %; criminal none either year; arrived 1 of 2 (50 %) against
    # y1's 100 %; satisfied 1 of 2 reached. 卫滨分局: i4, i5 against y2 → +100 %; criminal i5 against
    # none; arrived i4 (100 %), y2 never arrived; satisfied 1 of 1. No callback last July: no 同比
    # column for satisfaction. The command centre under the bureau has no records: not listed.
    assert table(data, "各分局主要指标") == [
        ["单位", "接警总数（起）", "同比", "刑事警情（起）", "同比", "按时到场率", "同比", "回访满意率"],
        ["红旗分局", "3", "+200.0%", "0", "持平", "50.0%", "-50.0个百分点", "50.0%"],
        ["卫滨分局", "2", "+100.0%", "1", "基数为零", "100.0%", "—", "100.0%"],
        ["合计", "5", "+150.0%", "1", "基数为零", "66.7%", "-33.3个百分点", "66.7%"],
    ]
    # the rows are the engine's cells, cut by the next level down
    cells = engine.compute(store=store, actor=admin, metrics=[METRICS["incidents_received"]], period=parse_period(
        "2026-07"), by=("child",))[0].cells
    assert {c.labels["child"]: c.value for c in cells} == {"红旗分局": 3, "卫滨分局": 2}
    # ranked as stats.ranking ranks them; with two units one is named at each end. Accepted within
    # a minute: 红旗 i1, i2 of i1–i3 (66.7 %), 卫滨 i4 (100 %); P1 on target: both 100 %.
    assert starting(data, "从各分局排名看") == (
        "从各分局排名看，按时到场率居前的是卫滨分局（100.0%），居后的是红旗分局（50.0%）；各分局一级警情按时到场率均为 "
        "100.0%；1分钟内签收率居前的是卫滨分局（100.0%），居后的是红旗分局（66.7%）；回访满意率居前的是卫滨分局"
        "（100.0%），居后的是红旗分局（50.0%）。")
    for slug in ("arrived_within_target", "accepted_within_60s", "satisfaction_rate"):
        ranked = ranking.rank(store=store, actor=admin, metric=METRICS[slug], period=parse_period("2026-07"),
                              level="branch", bottom=1)
        assert [r.name for r in ranked.bottom] == ["红旗分局"]
    assert table(data, "警情类别构成") == [["类别", "接警总数（起）", "占比", "同比"],
                                         ["治安警情", "4", "80.0%", "+100.0%"], ["刑事警情", "1", "20.0%", "基数为零"]]


def test_every_figure_cites_a_definition_listed_in_the_appendix(db, world, july, store, admin):
    store.sync(db=db)
    row = issue(db, store, admin)
    document = opened(row.docx)
    texts = [p.text for p in document.paragraphs if p.text.strip()]
    appendix = texts.index("附：指标口径")
    listed = texts[appendix + 1:-2]
    cited: list[int] = []
    for p in document.paragraphs[:[p.text for p in document.paragraphs].index("附：指标口径")]:
        cited += marks_of(p)
    # numbered in the order first cited: the lead cites 1–3, and every number cited is listed
    assert cited[:3] == [1, 2, 3] and sorted(set(cited)) == list(range(1, len(listed) + 1))
    names = {d["number"]: d["name"] for d in row.definitions}
    for i, line in enumerate(listed, start=1):
        slug = row.definitions[i - 1]["kpi"]
        assert line == f"[{i}] {names[i]}：{METRICS[slug].definition_zh}"
    # the figures quoted: the lead's three, the overall's four, the five bands, three shares, four times,
    # and the ranking's 1-minute rate: 18 KPIs, each defined once
    assert len(listed) == 18 and len({d["kpi"] for d in row.definitions}) == 18
    # tables and charts cite theirs in their captions
    assert [marks_of(p) for p in document.paragraphs if p.text.startswith("表1")] == [[1, 5, 2, 3]]


def test_a_count_with_nothing_to_say_is_left_out_and_so_is_an_empty_section(db, world, july, store, admin):
    store.sync(db=db)
    data = issue(db, store, admin, org_unit_id=world.org["branch_a"].id).docx
    overall = starting(data, "全分局接警总数")
    # 红旗分局 had no criminal incident in July 2026, last July or June: not a word about it
    assert "刑事" not in overall and overall.startswith("全分局接警总数 3 起，同比上升 200.0%，环比上升 200.0%")
    # one station below it: no table, ranking or chart of units — the section is left out
    texts = paragraphs(data)
    assert not any("各派出所" in t or "工作情况" in t for t in texts)
    assert [t for t in texts if t[1:2] == "、"] == ["一、接处警总体情况", "二、接警响应情况", "三、警情类别构成"]
    # a month before the first record: nothing counted, no baseline — no section, and it says so once
    empty = issue(db, store, admin, period="2024-07").docx
    assert paragraphs(empty)[1:] == [
        "本综述统计时段为2024年7月1日至7月31日；去年同期与上期无数据记录，不作比较。各项数据均由业务记录按指标口径"
        "计算，口径见附。", "统计时段内无可统计的业务记录。", "新乡市公安局", "2026年8月5日"]
    assert "无去年同期数据" not in " ".join(paragraphs(data) + paragraphs(empty))


def test_a_year_is_compared_with_last_year_only(db, world, july, store, admin):
    store.sync(db=db)
    data = issue(db, store, admin, period="2026", now=local("2026-07-12 10:30:00")).docx
    texts = paragraphs(data)
    assert texts[0] == "新乡市公安局2026年工作综述（截至7月12日）"
    # for a year the previous period is last year: 环比 would repeat 同比
    assert not any("环比" in t or "上期" in t for t in texts)
    # counted to date: 1 January – 12 July 10:30 against the same span of 2025; i1, i2 and the June
    # three so far (i3 comes at 11:00); y1 of 1 July 2025 in the baseline → 5 against 1: +400 %
    assert texts[1] == ("本综述统计时段为2026年1月1日至7月12日10时30分（本期尚未结束，数据统计至签发时）；同比为与"
                        "2025年1月1日至7月12日10时30分同口径比较。各项数据均由业务记录按指标口径计算，口径见附。")
    assert starting(data, "全局接警总数").startswith("全局接警总数 5 起，同比上升 400.0%；")
    # the trend by month: June (3) is the highest alone; July is still running, so it is not the lowest,
    # and the lowest (0) is shared by January–May: not named
    assert starting(data, "从走势看") == "从走势看，6月接警总数最多，为 3 起。"


def test_issuing_freezes_the_figures_the_bytes_and_the_records(db, world, july, store, admin):
    store.sync(db=db)
    row = issue(db, store, admin)
    frozen = dict(row.figures)
    assert row.docx_sha256 == hashlib.sha256(row.docx).hexdigest() and row.docx_size == len(row.docx)
    # July 2026, July 2025 and June 2026: 5 + 2 + 3 records counted
    assert row.record_count == 10
    # composing the frozen figures again gives the same document, byte for byte
    assert service.regenerate(row) == row.docx
    assert report.Snapshot.from_json(row.figures).to_json() == row.figures
    # the issue is audited through the one mechanism: the row, its SHA-256, not its bytes
    (entry,) = db.scalars(select(AuditLog).where(AuditLog.entity == "stats_report")).all()
    assert entry.changes["after"]["docx_sha256"] == row.docx_sha256 and "docx" not in entry.changes["after"]
    assert not service.amendments(store=store, actor=admin, report=row).amended

    # after issue: i2 arrives on time after all (100 s), a late July incident is entered, i5 turns
    # out to have been received in June, and i1's description is corrected (counted nowhere)
    i2, i5 = july["i2"], july["i5"]
    i2.arrived_at = i2.received_at + timedelta(seconds=100)
    i5.received_at = local("2026-06-30 13:00:00")
    july["i1"].description = "补充说明"
    late = make_incident(db, world, at="2026-07-20 08:00:00", side="b")
    db.flush()
    store.sync(db=db)

    db.expire(row)  # read back what was stored
    row = service.get(db=db, actor=admin, report_id=row.id, load=("figures", "definitions", "docx", "records"))
    assert row.figures == frozen and service.regenerate(row) == row.docx  # the issued report stands
    assert hashlib.sha256(row.docx).hexdigest() == row.docx_sha256
    found = service.amendments(store=store, actor=admin, report=row)
    (records,) = found.records
    # i5 is still counted (now in the June baseline), with another time: changed, like i2
    assert (records.changed, records.added, records.removed) == (sorted([i2.id, i5.id]), [late.id], [])
    changes = {(c.kpi, c.by, c.label): c for c in found.figures}
    # arrived on target, bureau: 2 of 3 → 3 of 3; 红旗分局: 1 of 2 → 2 of 2
    arrived = changes[("arrived_within_target", "", "新乡市公安局")]
    assert (arrived.then.value, arrived.now.value) == (pytest.approx(200 / 3), 100.0)
    assert changes[("arrived_within_target", "child", "红旗分局")].now.value == 100.0
    # received: still 5 (i5 left, the late one came), but June's baseline is 4 now
    received = changes[("incidents_received", "", "新乡市公安局")]
    assert (received.then.value, received.now.value) == (5, 5)
    assert (received.then.previous.baseline, received.now.previous.baseline) == (3, 4)
    # criminal: i5 moved to June → 0 in July
    assert changes[("incidents_criminal", "", "新乡市公安局")].now.value == 0
    # the ranking figure of a unit nobody amended does not move
    assert ("satisfaction_rate", "child", "卫滨分局") not in changes

    ids, total, items = service.amended_records(db=db, store=store, actor=admin, report=row, change="changed")
    assert total == 2 and ids == sorted([i2.id, i5.id], reverse=True) and [i.id for i in items] == ids


def test_a_deleted_record_is_removed_from_what_is_counted(db, world, july, store, admin):
    store.sync(db=db)
    row = issue(db, store, admin)
    db.delete(july["y2"])
    db.flush()
    store.sync(db=db)
    (records,) = service.amendments(store=store, actor=admin, report=row).records
    assert (records.changed, records.added, records.removed) == ([], [], [july["y2"].id])
    ids, total, items = service.amended_records(db=db, store=store, actor=admin, report=row, change="removed")
    assert (ids, total, items) == ([july["y2"].id], 1, [])  # deleted: an id, nothing more to read


def test_jurisdiction_bad_periods_and_permissions(db, world, july, store, admin):
    store.sync(db=db)
    chief_a = actor_of(db, world, "chief_a")
    # a station chief issues for their own station by default: its only unit is its community office
    own = issue(db, store, chief_a)
    assert own.org_unit_id == world.org["station_a"].id and own.title == "西街派出所2026年7月工作综述"
    assert starting(own.docx, "全所接警总数").startswith("全所接警总数 3 起")
    with pytest.raises(NotFound) as err:
        issue(db, store, chief_a, org_unit_id=world.org["branch_b"].id)
    assert err.value.field == "org" and "辖区" in err.value.zh
    with pytest.raises(ValidationFailed) as err:
        issue(db, store, admin, period="2026-13")
    assert err.value.field == "period"
    with pytest.raises(ValidationFailed) as err:
        issue(db, store, admin, period="2026-09")  # not begun on 5 August
    assert err.value.field == "period" and "尚未开始" in err.value.zh
    from pingan.errors import Forbidden

    with pytest.raises(Forbidden):
        issue(db, store, actor_of(db, world, "dispatcher"))  # reads statistics, does not issue


def test_outline_declarations_are_checked_and_added_without_touching_the_assembly(db, world, july, store, admin):
    from pingan.geo import stats as geo_stats
    from pingan.incident.stats import CONTRIBUTION
    from pingan.stats.contribution import Contribution, _merge

    with pytest.raises(ValueError, match="no KPI"):
        report.check_section(report.ReportSection("x", "测试", 99, parts=(report.Sentences(("no_such_kpi",)),)), METRICS)
    with pytest.raises(ValueError, match="cannot be cut"):
        report.check_section(report.ReportSection(
            "x", "测试", 99, parts=(report.Breakdown("satisfaction_rate", "disposition", intro="", caption=""),)),
            METRICS)
    with pytest.raises(ValueError, match="declared twice"):
        _merge([("incident", CONTRIBUTION), ("geo", geo_stats.CONTRIBUTION),
                ("other", Contribution(sections=(report.ReportSection("incident_overall", "重复", 1),)))])
    # a section declared by another module appears in its place, with its figures gathered
    extra = report.ReportSection("test_extra", "测试专项", 15, parts=(
        report.Sentences(("p90_arrive_seconds",), intro="专项看，"),))
    store.sync(db=db)
    snapshot = report.gather(store=store, actor=admin, org=engine.OrgNode(world.org["bureau"].id, "新乡市公安局",
                                                                           "bureau"),
                             org_code="410700000000", period=parse_period("2026-07"), issued_at=AFTER_JULY,
                             sections=[*report.outline(), extra])
    document = report.compose(snapshot, sections=sorted([*report.outline(), extra], key=lambda s: s.order))
    assert [s.heading for s in document.sections] == ["接处警总体情况", "测试专项", "接警响应情况", "各分局工作情况",
                                                      "警情类别构成"]
    assert document.sections[1].blocks[0].text == "专项看，到场用时90分位 7分20秒，同比上升 158.8%。"


def test_the_records_counted_are_read_in_chunks_of_ids(db, world, july, store, admin, monkeypatch):
    store.sync(db=db)
    snapshot = report.Snapshot.from_json(issue(db, store, admin).figures)
    whole = report.records_counted(store=store, actor=admin, snapshot=snapshot)["incident"]
    monkeypatch.setattr(engine, "FINGERPRINT_CHUNK", 3)  # 10 consecutive ids: ranges of 3, 3, 3, 1
    chunked = report.records_counted(store=store, actor=admin, snapshot=snapshot)["incident"]
    assert whole[0].tolist() == chunked[0].tolist() == sorted(r.id for r in july.values())
    assert whole[1].tolist() == chunked[1].tolist()
    assert report.decode_records(report.encode_records({"incident": whole}))["incident"][0].tolist() == whole[0].tolist()


def test_a_report_issued_under_a_kpis_old_slug_reads_as_the_renamed_kpi(db, world, july, store, admin):
    """The open acceptance band was 'accept_180_mores' (issue 14): a report frozen then keeps the
    old slug in its snapshot; read back, it is the renamed KPI, so the document composes to the
    same bytes and its amendments compare like with like."""
    import json

    store.sync(db=db)
    row = issue(db, store, admin)
    assert "accept_over_180s" in row.figures["kpis"]
    old = json.loads(json.dumps(row.figures).replace("accept_over_180s", "accept_180_mores"))
    assert "accept_over_180s" not in json.dumps(old)
    snapshot = report.Snapshot.from_json(old)
    assert "accept_over_180s" in snapshot.kpis and {f.kpi for f in snapshot.figures} >= {"accept_over_180s"}
    row.figures = old
    assert service.regenerate(row) == row.docx
    assert not service.amendments(store=store, actor=admin, report=row).amended
    assert engine.get_metric("accept_180_mores").slug == "accept_over_180s"  # an old records link
    definition = METRICS["accept_over_180s"].definition_zh
    assert "超过3分钟" in definition and "含上限" not in definition
