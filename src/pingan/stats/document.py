"""The work-summary document (工作综述) as a .docx in Chinese official-document style.

`render_docx` turns a :class:`Document` — title, issuing unit, date, sections of paragraphs,
tables and charts, and the definitions of the figures quoted — into a Word file laid out after
GB/T 9704 (党政机关公文格式): A4, margins 37 / 35 / 28 / 26 mm, title in 小标宋 二号 (22 pt)
centred, body in 仿宋_GB2312 三号 (16 pt) with a two-character first-line indent and a fixed
28-pt line, first-level headings (一、) in 黑体, second-level ((一)) in 楷体_GB2312.

The official fonts are proprietary and not on a server: the document names them (``fonts=
OFFICIAL_FONTS``), so it prints correctly in an office that has them; ``fonts=OPEN_FONTS`` names
Noto CJK instead, which the project installs, for documents rendered here (PDF). Every run
sets the ``w:eastAsia`` font explicitly — without it Word falls back badly for Chinese.

Charts are drawn by matplotlib with Noto Sans CJK into PNG and placed as pictures with a
caption. Every figure quoted in a paragraph can point at the definition it came from
(``Paragraph.refs``): a superscript number in the text, and the definitions listed in an
appendix (附：指标口径), so a reader can check how each number was counted.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt


@dataclass(frozen=True)
class Fonts:
    title: str  # 小标宋
    body: str  # 仿宋
    heading1: str  # 黑体
    heading2: str  # 楷体
    latin: str  # digits and Latin text


OFFICIAL_FONTS = Fonts(title="方正小标宋简体", body="仿宋_GB2312", heading1="黑体", heading2="楷体_GB2312",
                       latin="Times New Roman")
OPEN_FONTS = Fonts(title="Noto Serif CJK SC", body="Noto Serif CJK SC", heading1="Noto Sans CJK SC",
                   heading2="Noto Serif CJK SC", latin="Noto Serif CJK SC")

TITLE_PT, BODY_PT, TABLE_PT, CAPTION_PT = 22, 16, 12, 12
LINE_PT = 28
CHART_WIDTH_MM = 150
CHART_FONT = "Noto Sans CJK SC"


@dataclass
class Definition:
    """How a figure is counted (指标口径): quoted in the appendix, numbered in the text."""

    key: str
    name: str
    text: str


@dataclass
class Paragraph:
    text: str
    refs: list[str] = field(default_factory=list)  # Definition keys of the figures it quotes


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]
    refs: list[str] = field(default_factory=list)  # Definition keys of the figures in it (after the caption)


@dataclass
class Series:
    name: str
    values: list[float | None]


@dataclass
class Chart:
    """A line or bar chart over categories (months, stations...)."""

    caption: str
    kind: str  # "line" or "bar"
    categories: list[str]
    series: list[Series]
    unit: str = ""
    refs: list[str] = field(default_factory=list)  # Definition keys of the figures drawn (after the caption)
    # The picture, when drawn already (``render_charts``); otherwise drawn while writing.
    png: bytes | None = field(default=None, repr=False, compare=False)


Block = Paragraph | Table | Chart


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class Document:
    title: str
    issuer: str  # 发文机关署名
    issued_at: datetime  # 成文日期; also the file's core-property dates, so a rerun is identical
    sections: list[Section]
    definitions: list[Definition] = field(default_factory=list)
    lead: list[Paragraph] = field(default_factory=list)  # the paragraphs before the first heading


_CN_ORDINALS = "一二三四五六七八九十"


def _ordinal(n: int) -> str:
    if n <= 10:
        return _CN_ORDINALS[n - 1]
    tens, ones = divmod(n, 10)
    return (_CN_ORDINALS[tens - 1] if tens > 1 else "") + "十" + (_CN_ORDINALS[ones - 1] if ones else "")


def _set_fonts(run, east_asia: str, latin: str, size_pt: float, *, bold: bool = False) -> None:
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run.font.name = latin
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    # Chinese text is marked as such: a renderer picks Simplified Chinese glyph forms from a
    # pan-CJK font instead of Japanese ones.
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _layout(paragraph, *, indent: bool, align=WD_ALIGN_PARAGRAPH.JUSTIFY, line_pt: float = LINE_PT) -> None:
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(line_pt)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(BODY_PT * 2)


def _text_runs(paragraph, text: str, fonts: Fonts, size_pt: float, east_asia: str, *, bold: bool = False) -> None:
    """Chinese in the East Asian font, digits and Latin in the Latin font (one run each stretch)."""
    for piece in re.split(r"([0-9A-Za-z.,%+\-:/ ]+)", text):
        if piece:
            _set_fonts(paragraph.add_run(piece), east_asia, fonts.latin, size_pt, bold=bold)


def _page(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


def render_chart_png(chart: Chart) -> bytes:
    """The chart as a PNG (150 dpi), Chinese labels in Noto Sans CJK. Raises if a glyph is missing,
    so a machine without the font fails loudly instead of printing boxes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": [CHART_FONT],
                             "axes.unicode_minus": False}):
            fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=150)
            try:
                positions = range(len(chart.categories))
                width = 0.8 / max(1, len(chart.series))
                for i, s in enumerate(chart.series):
                    values = [float("nan") if v is None else v for v in s.values]
                    if chart.kind == "bar":
                        offset = (i - (len(chart.series) - 1) / 2) * width
                        ax.bar([p + offset for p in positions], values, width=width, label=s.name)
                    else:
                        ax.plot(list(positions), values, marker="o", linewidth=1.8, label=s.name)
                ax.set_xticks(list(positions), chart.categories,
                              rotation=30 if max((len(c) for c in chart.categories), default=0) > 4 else 0)
                ax.set_title(chart.caption, fontsize=12)
                if chart.unit:
                    ax.set_ylabel(chart.unit)
                ax.grid(axis="y", alpha=0.3)
                if len(chart.series) > 1:
                    ax.legend(frameon=False)
                fig.tight_layout()
                out = io.BytesIO()
                fig.savefig(out, format="png")
                fig.canvas.draw()  # lays out every text, so a missing glyph warns here too
            finally:
                plt.close(fig)
    return out.getvalue()


class _Writer:
    def __init__(self, document: Document, fonts: Fonts):
        self.document = document
        self.fonts = fonts
        self.doc = new_docx()
        self.ref_numbers = {d.key: i + 1 for i, d in enumerate(document.definitions)}
        self.tables = 0
        self.charts = 0

    def marks(self, p, refs: Sequence[str], size_pt: float) -> None:
        """Superscript numbers pointing at the definitions in the appendix."""
        for key in refs:
            number = self.ref_numbers.get(key)
            if number is None:
                raise ValueError(f"paragraph cites an undefined figure: {key}")
            run = p.add_run(f"[{number}]")
            _set_fonts(run, self.fonts.body, self.fonts.latin, size_pt * 0.6)
            run.font.superscript = True

    def paragraph(self, block: Paragraph) -> None:
        p = self.doc.add_paragraph()
        _layout(p, indent=True)
        _text_runs(p, block.text, self.fonts, BODY_PT, self.fonts.body)
        self.marks(p, block.refs, BODY_PT)

    def caption(self, text: str, refs: Sequence[str] = ()) -> None:
        p = self.doc.add_paragraph()
        _layout(p, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=LINE_PT * 0.8)
        _text_runs(p, text, self.fonts, CAPTION_PT, self.fonts.heading1)
        self.marks(p, refs, CAPTION_PT)

    def table(self, block: Table) -> None:
        self.tables += 1
        self.caption(f"表{self.tables}　{block.caption}", block.refs)
        table = self.doc.add_table(rows=1 + len(block.rows), cols=len(block.header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r, row in enumerate([block.header, *block.rows]):
            if len(row) != len(block.header):
                raise ValueError(f"table {block.caption!r}: row {r} has {len(row)} cells, header {len(block.header)}")
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                p = cell.paragraphs[0]
                _layout(p, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=TABLE_PT * 1.5)
                font = self.fonts.heading1 if r == 0 else self.fonts.body
                _text_runs(p, str(value), self.fonts, TABLE_PT, font, bold=False)

    def chart(self, block: Chart) -> None:
        self.charts += 1
        picture = self.doc.add_paragraph()
        _layout(picture, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=LINE_PT)
        picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # a fixed line would clip it
        png = block.png if block.png is not None else render_chart_png(block)
        picture.add_run().add_picture(io.BytesIO(png), width=Mm(CHART_WIDTH_MM))
        self.caption(f"图{self.charts}　{block.caption}", block.refs)

    def heading(self, text: str, level: int) -> None:
        p = self.doc.add_paragraph()
        _layout(p, indent=True)
        font = self.fonts.heading1 if level == 1 else self.fonts.heading2
        _text_runs(p, text, self.fonts, BODY_PT, font)

    def blocks(self, blocks: Sequence[Block]) -> None:
        for block in blocks:
            if isinstance(block, Paragraph):
                self.paragraph(block)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Chart):
                self.chart(block)
            else:
                raise TypeError(f"not a document block: {block!r}")

    def write(self) -> bytes:
        d = self.document
        _page(self.doc)
        title = self.doc.add_paragraph()
        _layout(title, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=LINE_PT * 1.3)
        _text_runs(title, d.title, self.fonts, TITLE_PT, self.fonts.title)
        self.doc.add_paragraph()
        self.blocks(d.lead)
        for i, section in enumerate(d.sections, start=1):
            self.heading(f"{_ordinal(i)}、{section.heading}", 1)
            self.blocks(section.blocks)
            for j, sub in enumerate(section.subsections, start=1):
                self.heading(f"（{_ordinal(j)}）{sub.heading}", 2)
                self.blocks(sub.blocks)
        if d.definitions:
            self.heading("附：指标口径", 1)
            for number, definition in enumerate(d.definitions, start=1):
                p = self.doc.add_paragraph()
                _layout(p, indent=True)
                _text_runs(p, f"[{number}] {definition.name}：{definition.text}", self.fonts, BODY_PT * 0.875,
                           self.fonts.body)
        for text in (d.issuer, f"{d.issued_at.year}年{d.issued_at.month}月{d.issued_at.day}日"):
            p = self.doc.add_paragraph()
            _layout(p, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
            _text_runs(p, text, self.fonts, BODY_PT, self.fonts.body)
        props = self.doc.core_properties
        props.title, props.author, props.last_modified_by = d.title, d.issuer, d.issuer
        props.created = props.modified = d.issued_at.replace(tzinfo=None, microsecond=0)
        props.revision = 1
        out = io.BytesIO()
        self.doc.save(out)
        return _fixed_zip_times(out.getvalue(), d.issued_at)


def _fixed_zip_times(package: bytes, moment: datetime) -> bytes:
    """The .docx package with every member stamped ``moment`` instead of the time of writing, so
    the same document renders to the same bytes whenever it is rendered."""
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second // 2 * 2)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, source.read(info))
    return out.getvalue()


def charts_of(document: Document) -> list[Chart]:
    """Every chart of the document, in reading order."""
    out: list[Chart] = []

    def walk(blocks: Sequence[Block]) -> None:
        out.extend(b for b in blocks if isinstance(b, Chart))

    walk(document.lead)
    for section in document.sections:
        walk(section.blocks)
        for sub in section.subsections:
            walk(sub.blocks)
    return out


def render_charts(document: Document) -> int:
    """Draw every chart not drawn yet (so that drawing can be timed and reported on its own);
    how many were drawn."""
    drawn = 0
    for chart in charts_of(document):
        if chart.png is None:
            chart.png = render_chart_png(chart)
            drawn += 1
    return drawn


def render_docx(document: Document, *, fonts: Fonts = OFFICIAL_FONTS) -> bytes:
    """The document as .docx bytes."""
    return _Writer(document, fonts).write()


def write_docx(document: Document, path: Path, *, fonts: Fonts = OFFICIAL_FONTS) -> Path:
    path.write_bytes(render_docx(document, fonts=fonts))
    return path


class PdfUnavailable(RuntimeError):
    """This machine cannot make a PDF (no LibreOffice), or the conversion failed."""


# The official fonts, absent on a server, drawn in the open ones when LibreOffice makes a PDF.
_PDF_SUBSTITUTES = {OFFICIAL_FONTS.title: OPEN_FONTS.title, OFFICIAL_FONTS.body: OPEN_FONTS.body,
                    OFFICIAL_FONTS.heading1: OPEN_FONTS.heading1, OFFICIAL_FONTS.heading2: OPEN_FONTS.heading2,
                    OFFICIAL_FONTS.latin: OPEN_FONTS.latin}


def _fontconfig(directory: Path) -> Path:
    """A fontconfig file: the system's, plus each official font replaced by its open substitute
    (without it LibreOffice falls back to a sans-serif face for the body and DejaVu for digits)."""
    import os
    from xml.sax.saxutils import escape

    base = os.environ.get("FONTCONFIG_FILE", "/etc/fonts/fonts.conf")
    rules = "".join(
        f'<match target="pattern"><test name="family" qual="any"><string>{escape(official)}</string></test>'
        f'<edit name="family" mode="assign" binding="strong"><string>{escape(open_font)}</string></edit></match>'
        for official, open_font in _PDF_SUBSTITUTES.items())
    path = directory / "fonts.conf"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f'<include ignore_missing="yes">{escape(base)}</include>{rules}</fontconfig>', encoding="utf-8")
    return path


def docx_to_pdf(docx_path: Path, *, timeout_s: float = 180.0) -> Path:
    """Convert with LibreOffice (``soffice --headless``), next to the .docx. Each call uses its own
    LibreOffice profile, so conversions running at once do not lock each other out. A document
    naming the official fonts is drawn in Noto CJK (``_PDF_SUBSTITUTES``): the PDF of an issued
    .docx is made from its very bytes."""
    import os
    import shutil
    import subprocess
    import tempfile

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise PdfUnavailable("本机未安装 LibreOffice，无法生成 PDF / LibreOffice is not installed: no PDF")
    with tempfile.TemporaryDirectory(prefix="pingan-soffice-") as profile:
        env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig(Path(profile)))}
        try:
            done = subprocess.run(
                [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(docx_path.parent), str(docx_path)],
                capture_output=True, text=True, timeout=timeout_s, check=False, env=env)
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(f"PDF 转换超时 / PDF conversion timed out after {timeout_s:.0f} s") from exc
    pdf = docx_path.with_suffix(".pdf")
    if done.returncode != 0 or not pdf.exists():
        raise PdfUnavailable(f"PDF 转换失败 / PDF conversion failed: {(done.stderr or done.stdout).strip()[:300]}")
    return pdf
