"""Page layout shared by the Word reports people file (内审报告, 不符合项报告, 纠正措施报告, 管理评审报告).

Chinese companies file these on A4; a US Letter page with equal columns squeezes the 事实描述 into
1.5 cm. Tables here repeat their header row on every page (w:tblHeader), never split a row across
a page (w:cantSplit) and take weighted widths in cm, scaled down to the text width when they
would overflow it. Every text is cleaned with xml_safe, so whatever is stored, the file opens.
"""
from __future__ import annotations

import io

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from flask import current_app, has_app_context

from portal.validation import xml_safe

PAGE_WIDTH_MM, PAGE_HEIGHT_MM, MARGIN_MM = 210, 297, 20
TEXT_WIDTH_CM = (PAGE_WIDTH_MM - 2 * MARGIN_MM) / 10


def new_document():
    """An empty A4 document with the Chinese fonts of the controlled-document exports."""
    from portal.documents.docx_export import _set_up_fonts  # one font set-up for every export

    document = docx.Document()
    _set_up_fonts(document)
    a4_section(document)
    return document


def a4_section(document) -> None:
    """Every section of `document` on A4 portrait with 2 cm margins."""
    for section in document.sections:
        section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
        for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
            setattr(section, side, Mm(MARGIN_MM))
        section.header_distance, section.footer_distance = Mm(10), Mm(10)


def company_name() -> str:
    return (current_app.config.get("COMPANY_NAME") or "") if has_app_context() else ""


def company_heading(document, title: str) -> None:
    """The company name (PORTAL_COMPANY_NAME, when set) above the centred title."""
    name = company_name()
    if name:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(xml_safe(name))
        run.bold, run.font.size = True, Pt(14)
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(xml_safe(title))
    run.bold, run.font.size = True, Pt(16)


def footer_note(document, text: str) -> None:
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run(xml_safe(text)).font.size = Pt(9)


def heading(document, text: str) -> None:
    document.add_heading(xml_safe(text), level=2)


def paragraph(document, text: str | None) -> None:
    document.add_paragraph(xml_safe(text or "—"))


def table(document, headers, rows, widths_cm):
    """A grid with `headers` repeated on every page; no row breaks across a page.

    `widths_cm` weights the columns (事实描述 wide, codes narrow); if they add up to more than
    the text width they are scaled down to it.
    """
    widths = _fit(widths_cm)
    grid = document.add_table(rows=0, cols=len(widths))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False  # w:tblLayout fixed: the widths hold whatever the text
    if headers:
        cells = _add_row(grid, widths)
        _mark_row(cells[0]._tc.getparent(), "w:tblHeader")
        for cell, label in zip(cells, headers):
            cell.paragraphs[0].add_run(xml_safe(label)).bold = True
    for values in rows:
        for cell, value in zip(_add_row(grid, widths), values):
            cell.paragraphs[0].add_run(xml_safe(value if value is not None else ""))
    for column, width in zip(grid.columns, widths):  # LibreOffice reads the grid columns
        column.width = width
    return grid


def fields_table(document, pairs, widths_cm=(3.5, 13.5)):
    """Label / value rows (the plan of an audit, the head of a finding report)."""
    grid = table(document, None, pairs, widths_cm)
    for row in grid.rows:
        for run in row.cells[0].paragraphs[0].runs:
            run.bold = True
    return grid


def signature_lines(document, roles) -> None:
    """签字 rows: each role is a label (blank name and date to sign by hand) or (label, name, date)."""
    rows = [(role, "", "") if isinstance(role, str) else tuple(role) for role in roles]
    document.add_paragraph()
    table(document, ("签字", "姓名", "日期"), rows, (4, 7, 6))


def to_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _fit(widths_cm):
    total = sum(widths_cm)
    scale = min(1.0, TEXT_WIDTH_CM / total) if total else 1.0
    return [Cm(w * scale) for w in widths_cm]


def _add_row(grid, widths):
    row = grid.add_row()
    _mark_row(row._tr, "w:cantSplit")
    for cell, width in zip(row.cells, widths):  # Word reads the cell widths
        cell.width = width
    return row.cells


def _mark_row(tr, tag: str) -> None:
    tr_pr = tr.get_or_add_trPr()
    if tr_pr.find(qn(tag)) is None:
        tr_pr.append(OxmlElement(tag))

