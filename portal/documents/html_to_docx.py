"""Sanitised revision HTML written into a python-docx document: headings, paragraphs,
inline formatting, lists (numbered lists restart at 1) and tables with merged cells."""

from __future__ import annotations

from dataclasses import replace

from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.numbering import CT_Num
from docx.oxml.table import CT_Tbl
from docx.shared import Cm
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from portal.documents.html_blocks import Cell, Para, TableModel, parse_body
from portal.validation import xml_safe

MONO_FONT = "Courier New"
_MAX_TABLE_COLUMNS = 63  # Word's own limit


def write_html(document, html: str) -> None:
    """Append the blocks of `html` to `document`."""
    _BodyWriter(document).write(parse_body(html))


class _BodyWriter:
    """Writes the parsed block model into the document body.

    python-docx's own add_paragraph/add_table, paragraph.style = …, table.cell() and
    add_num each scan the whole body, the styles, the table or the numbering part, which
    makes a long body quadratic; the writer keeps what they look up instead."""

    def __init__(self, document) -> None:
        self._document = document
        self._numbering = _ListNumbering(document)
        self._body = document.element.body
        self._end = self._body.sectPr  # new blocks go just before it
        self._width = document._block_width
        self._style_ids: dict[tuple[str, WD_STYLE_TYPE], str | None] = {}

    def write(self, blocks: list) -> None:
        for block in blocks:
            if isinstance(block, TableModel):
                self._write_table(block)
            else:
                self._write_para(block, self._new_paragraph())

    def _append(self, element) -> None:
        if self._end is None:
            self._body.append(element)
        else:
            self._end.addprevious(element)

    def _new_paragraph(self) -> Paragraph:
        p = OxmlElement("w:p")
        self._append(p)
        return Paragraph(p, self._document._body)

    def _style_id(self, name: str, kind=WD_STYLE_TYPE.PARAGRAPH) -> str | None:
        if (name, kind) not in self._style_ids:
            style = self._document.styles[name]
            self._style_ids[name, kind] = self._document.part.get_style_id(style, kind)
        return self._style_ids[name, kind]

    def _write_para(self, para: Para, paragraph) -> None:
        if para.kind in ("h1", "h2", "h3", "h4"):
            paragraph._p.style = self._style_id(f"Heading {para.kind[1]}")
        elif para.kind == "li":
            self._make_list_item(para, paragraph)
        elif para.kind == "hr":
            _add_bottom_border(paragraph)
        if para.indent:
            paragraph.paragraph_format.left_indent = Cm(1 * para.indent)
        mono = para.kind == "pre"
        for text, formats in para.runs:
            _add_formatted_run(paragraph, text, formats | ({"code"} if mono else set()))

    def _make_list_item(self, para: Para, paragraph) -> None:
        base = "List Number" if para.list_tag == "ol" else "List Bullet"
        level = min(para.level, 2)
        paragraph._p.style = self._style_id(base if level == 0 else f"{base} {level + 1}")
        if para.list_tag == "ol" and level == 0:
            self._numbering.restart_for(paragraph, para.list_id)

    def _write_table(self, model: TableModel) -> None:
        placed, n_rows, n_cols = _lay_out(model)
        if not placed:
            return
        tbl = CT_Tbl.new_tbl(n_rows, n_cols, self._width)
        self._append(tbl)
        table = Table(tbl, self._document._body)
        tbl.tblStyle_val = self._style_id("Table Grid", WD_STYLE_TYPE.TABLE)
        rows = tbl.tr_lst
        for row, col, cell_model in placed:
            cell = _Cell(rows[row].tc_at_grid_offset(col), table)
            last_row, last_col = row + cell_model.rowspan - 1, col + cell_model.colspan - 1
            if (last_row, last_col) != (row, col):
                cell = cell.merge(_Cell(rows[last_row].tc_at_grid_offset(last_col), table))
            self._write_cell(cell, cell_model)
        self._new_paragraph()  # keeps consecutive tables apart

    def _write_cell(self, cell, model: Cell) -> None:
        paragraphs = [cell.paragraphs[0]] + [cell.add_paragraph() for _ in model.paras[1:]]
        for para, paragraph in zip(model.paras, paragraphs):
            if model.header:
                para = replace(para, runs=[(t, f | {"bold"}) for t, f in para.runs])
            self._write_para(para, paragraph)


def _lay_out(model: TableModel):
    """Place cells on a grid honouring colspan/rowspan; return (cells, rows, cols)."""
    n_rows = len(model.rows)
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, row in enumerate(model.rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            if c >= _MAX_TABLE_COLUMNS:
                break
            cell.rowspan = min(cell.rowspan, n_rows - r)
            cell.colspan = min(cell.colspan, _MAX_TABLE_COLUMNS - c)
            cell.colspan = _free_width(taken, r, c, cell)
            taken.update((r + dr, c + dc) for dr in range(cell.rowspan)
                         for dc in range(cell.colspan))
            placed.append((r, c, cell))
            c += cell.colspan
    n_cols = max((c for _, c in taken), default=-1) + 1
    return placed, n_rows, n_cols


def _free_width(taken, r, c, cell) -> int:
    """Shrink a colspan so the cell does not overlap a cell spanning down from above."""
    for width in range(1, cell.colspan):
        if any((r + dr, c + width) in taken for dr in range(cell.rowspan)):
            return width
    return cell.colspan


def _add_formatted_run(paragraph, text: str, formats: frozenset[str]) -> None:
    # a character reference such as &#12; decodes to a character XML cannot hold
    for index, line in enumerate(xml_safe(text).split("\n")):
        if index:
            paragraph.add_run().add_break()
        if not line:
            continue
        font = paragraph.add_run(line).font
        font.bold = "bold" in formats or None
        font.italic = "italic" in formats or None
        font.underline = "underline" in formats or None
        font.strike = "strike" in formats or None
        font.subscript = "subscript" in formats or None
        font.superscript = "superscript" in formats or None
        if "code" in formats:
            font.name = MONO_FONT
        if "highlight" in formats:
            font.highlight_color = WD_COLOR_INDEX.YELLOW


def _add_bottom_border(paragraph) -> None:
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for attribute, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"),
                             ("w:color", "auto")):
        bottom.set(qn(attribute), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().append(border)


class _ListNumbering:
    """Gives each numbered list its own w:num so numbering restarts at 1.

    Without this every 'List Number' paragraph in the document continues one count.
    """

    def __init__(self, document) -> None:
        self._document = document
        self._num_ids: dict[int, str] = {}
        self._abstract_id: str | None = None
        self._next_id = 0
        self._after_nums = None

    def restart_for(self, paragraph, list_id: int) -> None:
        num_id = self._num_ids.get(list_id)
        if num_id is None:
            num_id = self._new_num()
            if num_id is None:
                return
            self._num_ids[list_id] = num_id
        num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = 0
        num_pr.get_or_add_numId().val = int(num_id)

    def _new_num(self) -> str | None:
        # numbering.add_num scans every w:num for a free id (quadratic over many lists):
        # the ids are counted here instead, and each w:num goes at the end.
        numbering = self._document.part.numbering_part.element
        if not self._next_id:
            self._abstract_id = self._abstract_id_of_list_number()
            self._next_id = 1 + max((int(v) for v in numbering.xpath("./w:num/@w:numId")), default=0)
            self._after_nums = numbering.find(qn("w:numIdMacAtCleanup"))  # the one child after them
        if self._abstract_id is None:
            return None
        num = CT_Num.new(self._next_id, int(self._abstract_id))
        self._next_id += 1
        if self._after_nums is None:
            numbering.append(num)
        else:
            self._after_nums.addprevious(num)
        num.add_lvlOverride(ilvl=0).add_startOverride(1)
        return str(num.numId)

    def _abstract_id_of_list_number(self) -> str | None:
        ppr = self._document.styles["List Number"].element.pPr
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is None or num_pr.numId is None:
            return None
        numbering = self._document.part.numbering_part.element
        num = numbering.num_having_numId(num_pr.numId.val)
        return str(num.abstractNumId.val)
