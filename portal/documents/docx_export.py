"""Renders a revision as a Word .docx carrying the controlled-document header block.

The header block (文件编号, 文件名称, 版本, 受控状态, dates, 密级, 页次) sits in the section
header so it repeats on every page; 页次 uses real PAGE / NUMPAGES fields. The body
follows the signature table, and the 修订履历 table closes the document.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, fields, is_dataclass, replace

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from portal.documents.html_to_docx import write_html
from portal.validation import xml_safe

BODY_FONT_EAST_ASIA = "宋体"
HEADING_FONT_EAST_ASIA = "黑体"
LATIN_FONT = "Times New Roman"
OBSOLETE_STAMP = "作废"
STAMP_RED = RGBColor(0xC0, 0x00, 0x00)
DEFAULT_SIGNATURE_LABELS = ("编制", "审核", "批准")
HISTORY_COLUMNS = ("版本", "日期", "更改内容", "更改原因", "编制", "批准")


@dataclass(frozen=True)
class SignatureLine:
    """One signature of the revision: meaning (编制/审核/批准), printed name, time."""

    meaning_label: str
    name: str
    signed_at: str


@dataclass(frozen=True)
class HistoryLine:
    """One row of the 修订履历 (revision history)."""

    label: str
    date: str
    change_summary: str
    change_reason: str
    author: str
    approver: str


@dataclass
class ExportContext:
    """Everything printed on an exported revision; all values are display strings."""

    code: str
    title: str
    revision_label: str
    stamp: str
    effective_date: str | None
    issued_date: str | None
    confidentiality: str
    company: str = ""
    signatures: list[SignatureLine] = field(default_factory=list)
    body_html: str = ""
    history: list[HistoryLine] = field(default_factory=list)
    footer_note: str = ""


def render_docx(ctx: ExportContext) -> bytes:
    """Build the .docx for ``ctx`` and return its bytes."""
    ctx = _xml_safe(ctx)
    document = docx.Document()
    _set_up_fonts(document)
    section = document.sections[0]
    _set_up_a4(section)
    _write_header(section, ctx)
    _write_footer(section, ctx.footer_note)
    _write_signatures(document, ctx.signatures)
    write_html(document, ctx.body_html)
    _write_history(document, ctx.history)
    document.core_properties.title = f"{ctx.code} {ctx.title}".strip()
    document.core_properties.author = ctx.company
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xml_safe(value):
    """`value` with every text cleaned for XML: whatever a revision holds, its export opens."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    if is_dataclass(value):
        return replace(value, **{f.name: _xml_safe(getattr(value, f.name)) for f in fields(value)})
    return value


# --- page set-up and fonts -------------------------------------------------------------

def _set_up_a4(section) -> None:
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(25), Mm(20)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)


def _set_up_fonts(document) -> None:
    _set_east_asia_font(document.styles.element.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}"), BODY_FONT_EAST_ASIA)
    normal = document.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(10.5)  # 五号, the usual size of Chinese documents
    _set_east_asia_font(normal.element.get_or_add_rPr(), BODY_FONT_EAST_ASIA)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Heading 4"):
        style = document.styles[name]
        style.font.color.rgb = RGBColor(0, 0, 0)
        _set_east_asia_font(style.element.get_or_add_rPr(), HEADING_FONT_EAST_ASIA)


def _set_east_asia_font(rpr, font_name: str) -> None:
    if rpr is None:
        return
    rfonts = rpr.get_or_add_rFonts()
    # A theme attribute beats the explicit name, so it has to go.
    rfonts.attrib.pop(qn("w:eastAsiaTheme"), None)
    rfonts.set(qn("w:eastAsia"), font_name)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")


# --- header and footer -----------------------------------------------------------------

def _write_header(section, ctx: ExportContext) -> None:
    header = section.header
    header.is_linked_to_previous = False
    first = header.paragraphs[0]
    if ctx.company:
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _styled_run(first, ctx.company, bold=True, size=Pt(14))
    else:
        first._p.getparent().remove(first._p)
    widths = (Cm(2.2), Cm(6.3), Cm(2.2), Cm(5.8))
    table = header.add_table(rows=4, cols=4, width=sum(widths, Cm(0)))
    _format_table(table, widths)
    _fill_header_table(table, ctx)
    header.add_paragraph()  # Word expects a paragraph after a table


def _fill_header_table(table, ctx: ExportContext) -> None:
    rows = (("文件编号", ctx.code, "版本", ctx.revision_label),
            ("文件名称", ctx.title, "受控状态", None),
            ("发布日期", ctx.issued_date or "", "实施日期", ctx.effective_date or ""),
            ("密级", ctx.confidentiality, "页次", None))
    for row, values in zip(table.rows, rows):
        for cell, value in zip(row.cells, values):
            if value is not None:
                cell.paragraphs[0].add_run(value)
    _write_stamp(table.cell(1, 3).paragraphs[0], ctx.stamp)
    _write_page_x_of_y(table.cell(3, 3).paragraphs[0])


def _write_stamp(paragraph, stamp: str) -> None:
    color = STAMP_RED if stamp == OBSOLETE_STAMP else None
    _styled_run(paragraph, stamp, bold=True, size=Pt(16), color=color)


def _write_page_x_of_y(paragraph) -> None:
    paragraph.add_run("第 ")
    _add_field(paragraph, "PAGE")
    paragraph.add_run(" 页 共 ")
    _add_field(paragraph, "NUMPAGES")
    paragraph.add_run(" 页")


def _add_field(paragraph, instruction: str) -> None:
    """Append a complex field (begin / instrText / separate / result / end)."""
    paragraph.add_run()._r.append(_fld_char("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} \\* MERGEFORMAT "
    paragraph.add_run()._r.append(instr)
    paragraph.add_run()._r.append(_fld_char("separate"))
    paragraph.add_run("1")  # placeholder result until the reader updates the field
    paragraph.add_run()._r.append(_fld_char("end"))


def _fld_char(kind: str):
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    return element


def _write_footer(section, footer_note: str) -> None:
    footer = section.footer
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if footer_note:
        _styled_run(paragraph, footer_note, size=Pt(9))


# --- signatures and history ------------------------------------------------------------

def _write_signatures(document, signatures: list[SignatureLine]) -> None:
    lines = signatures or [SignatureLine(label, "", "") for label in DEFAULT_SIGNATURE_LABELS]
    rows = [(line.meaning_label, line.name, line.signed_at) for line in lines]
    _write_simple_table(document, ("签署", "姓名", "日期"), rows,
                        (Cm(3), Cm(6), Cm(6)))


def _write_history(document, history: list[HistoryLine]) -> None:
    document.add_heading("修订履历", level=1)
    rows = [(h.label, h.date, h.change_summary, h.change_reason, h.author, h.approver)
            for h in history]
    widths = (Cm(1.6), Cm(2.4), Cm(5), Cm(3.5), Cm(1.75), Cm(1.75))
    _write_simple_table(document, HISTORY_COLUMNS, rows, widths)


def _write_simple_table(document, headings, rows, widths) -> None:
    table = document.add_table(rows=1 + len(rows), cols=len(headings))
    _format_table(table, widths)
    for cell, heading in zip(table.rows[0].cells, headings):
        _styled_run(cell.paragraphs[0], heading, bold=True)
    for row, values in zip(table.rows[1:], rows):
        for cell, value in zip(row.cells, values):
            cell.paragraphs[0].add_run(value or "")
    document.add_paragraph()


def _format_table(table, widths) -> None:
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Word reads the cell widths, LibreOffice the grid columns: set both.
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def _styled_run(paragraph, text: str, bold=False, size=None, color=None):
    run = paragraph.add_run(text)
    run.bold = bold or None
    if size is not None:
        run.font.size = size
    if color is not None:
        run.font.color.rgb = color
    return run
