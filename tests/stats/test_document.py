"""The work-summary document: official-document layout, fonts, tables, charts, definitions, PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import docx
import pytest
from docx.enum.text import WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

from pingan.stats.document import (
    OFFICIAL_FONTS,
    OPEN_FONTS,
    Chart,
    Definition,
    Document,
    Paragraph,
    Section,
    Series,
    Table,
    docx_to_pdf,
    render_chart_png,
    render_docx,
    write_docx,
)


def _summary() -> Document:
    return Document(
        title="某市公安局2026年工作综述",
        issuer="某市公安局",
        issued_at=datetime(2027, 1, 5, 9, 30, tzinfo=UTC),
        lead=[Paragraph("2026年，全局接处警 1,234 起，同比上升 3.2%。", refs=["incidents"])],
        sections=[
            Section("接处警工作", blocks=[
                Paragraph("一级警情按时签收率 98.1%。", refs=["p1_on_time", "incidents"]),
                Table("各分局接警量", ["分局", "接警量", "同比"], [["甲分局", "700", "+3.0%"], ["乙分局", "534", "去年同期为零"]]),
                Chart("月度接警量", "line", ["1月", "2月", "3月"],
                      [Series("2026年", [100, 120, None]), Series("2025年", [90, 95, 99])], unit="起"),
            ], subsections=[Section("到场时效", blocks=[Paragraph("城区 3 分钟到场率 90.0%。")])]),
            Section("队伍建设", blocks=[Paragraph("全年开展培训 12 期。")]),
        ],
        definitions=[Definition("incidents", "接警量", "期间接报并登记的警情数"),
                     Definition("p1_on_time", "一级警情按时签收率", "一级警情中在目标时间内签收的占比")],
    )


def _open(data: bytes):
    return docx.Document(io.BytesIO(data))


def _texts(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.text.strip()]


def test_layout_follows_the_official_document_standard():
    out = _open(render_docx(_summary()))
    page = out.sections[0]
    mm = [round(v.mm) for v in (page.page_width, page.page_height, page.top_margin, page.bottom_margin,
                                page.left_margin, page.right_margin)]  # stored in twips
    assert mm == [210, 297, 37, 35, 28, 26]
    texts = _texts(out)
    assert texts[0] == "某市公安局2026年工作综述"
    assert "一、接处警工作" in texts and "（一）到场时效" in texts and "二、队伍建设" in texts
    assert texts[-2:] == ["某市公安局", "2027年1月5日"]

    title = out.paragraphs[0].runs[0]
    assert title.font.size == Pt(22)
    assert title._element.rPr.rFonts.get(qn("w:eastAsia")) == OFFICIAL_FONTS.title
    body = next(p for p in out.paragraphs if p.text.startswith("一级警情"))
    assert body.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert body.paragraph_format.line_spacing == Pt(28)
    assert body.paragraph_format.first_line_indent == Pt(32)
    chinese = body.runs[0]
    assert chinese.text == "一级警情按时签收率" and chinese.font.size == Pt(16)
    assert chinese._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert chinese._element.rPr.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    heading = next(p for p in out.paragraphs if p.text == "一、接处警工作")
    assert heading.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"


def test_figures_point_at_their_definitions_in_the_appendix():
    out = _open(render_docx(_summary()))
    body = next(p for p in out.paragraphs if p.text.startswith("一级警情"))
    marks = [r.text for r in body.runs if r.font.superscript]
    assert marks == ["[2]", "[1]"]  # numbered in the order the definitions are listed
    texts = _texts(out)
    appendix = texts.index("附：指标口径")
    assert texts[appendix + 1] == "[1] 接警量：期间接报并登记的警情数"
    assert texts[appendix + 2] == "[2] 一级警情按时签收率：一级警情中在目标时间内签收的占比"


def test_a_paragraph_citing_an_undefined_figure_is_refused():
    document = _summary()
    document.lead.append(Paragraph("破案 10 起。", refs=["cases_solved"]))
    with pytest.raises(ValueError, match="cases_solved"):
        render_docx(document)


def test_tables_and_charts_are_numbered_and_captioned():
    out = _open(render_docx(_summary()))
    (table,) = out.tables
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["分局", "接警量", "同比"], ["甲分局", "700", "+3.0%"], ["乙分局", "534", "去年同期为零"]]
    texts = _texts(out)
    assert "表1　各分局接警量" in texts and "图1　月度接警量" in texts
    assert len(out.inline_shapes) == 1


def test_a_table_row_of_the_wrong_width_is_refused():
    document = _summary()
    document.sections[1].blocks.append(Table("坏表", ["甲", "乙"], [["1"]]))
    with pytest.raises(ValueError, match="row 1"):
        render_docx(document)


def test_the_same_document_renders_to_the_same_bytes():
    assert render_docx(_summary()) == render_docx(_summary())


def test_charts_render_chinese_labels_with_the_installed_font():
    png = render_chart_png(Chart("各分局接警量同比", "bar", ["甲分局", "乙分局"],
                                 [Series("2026年", [3, None]), Series("2025年", [0, 2])], unit="起"))
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_pdf_from_the_document(tmp_path):
    path = write_docx(_summary(), tmp_path / "summary.docx", fonts=OPEN_FONTS)
    pdf = docx_to_pdf(path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"NotoSerifCJK" in data  # the open CJK font is embedded


def test_tables_and_charts_cite_their_definitions_and_a_chart_drawn_ahead_is_used_as_is():
    from pingan.stats.document import charts_of, render_charts

    document = _summary()
    table = document.sections[0].blocks[1]
    chart = document.sections[0].blocks[2]
    table.refs, chart.refs = ["incidents"], ["incidents", "p1_on_time"]
    assert charts_of(document) == [chart] and render_charts(document) == 1 and render_charts(document) == 0
    assert chart.png.startswith(b"\x89PNG")
    out = _open(render_docx(document))
    captions = {p.text.split("　")[0]: [r.text for r in p.runs if r.font.superscript] for p in out.paragraphs
                if p.text.startswith(("表1", "图1"))}
    assert captions == {"表1": ["[1]"], "图1": ["[1]", "[2]"]}


def test_pdf_of_a_document_naming_the_official_fonts_draws_them_in_noto(tmp_path):
    path = write_docx(_summary(), tmp_path / "official.docx")  # 仿宋_GB2312, 方正小标宋简体 … are not installed
    data = docx_to_pdf(path).read_bytes()
    assert b"NotoSerifCJK" in data and b"NotoSansCJK" in data  # body and headings; no DejaVu fallback
    assert b"DejaVu" not in data
