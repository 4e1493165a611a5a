"""Sanitised revision HTML written into a python-docx document: headings, paragraphs,
inline formatting, lists (numbered lists restart at 1) and tables with merged cells."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm

MONO_FONT = "Courier New"
_MAX_TABLE_COLUMNS = 63  # Word's own limit


def write_html(document, html: str) -> None:
    """Append the blocks of `html` to `document`."""
    _BodyWriter(document).write(_parse_body(html))


# --- sanitised HTML -> a small block model -> Word -------------------------------

@dataclass
class _Para:
    kind: str  # p, h1..h4, li, pre, hr
    runs: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    list_tag: str = ""
    level: int = 0
    indent: int = 0
    list_id: int = 0


@dataclass
class _Cell:
    paras: list[_Para] = field(default_factory=list)
    colspan: int = 1
    rowspan: int = 1
    header: bool = False


@dataclass
class _TableModel:
    rows: list[list[_Cell]] = field(default_factory=list)


_INLINE_FORMATS = {
    "strong": "bold", "b": "bold", "em": "italic", "i": "italic", "u": "underline",
    "ins": "underline", "s": "strike", "del": "strike", "sub": "subscript",
    "sup": "superscript", "code": "code", "mark": "highlight", "a": "underline",
}
_PARAGRAPH_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "pre"})
_STYLE_FORMATS = (
    (re.compile(r"font-weight\s*:\s*(bold|[6-9]00)"), "bold"),
    (re.compile(r"font-style\s*:\s*italic"), "italic"),
    (re.compile(r"text-decoration\s*:[^;]*underline"), "underline"),
    (re.compile(r"text-decoration\s*:[^;]*line-through"), "strike"),
)


def _parse_body(html: str) -> list:
    parser = _BodyParser()
    parser.feed(html or "")
    parser.close()
    return parser.blocks


def _span(value: str | None) -> int:
    return min(int(value), 50) if value and value.isdecimal() and int(value) > 0 else 1


class _BodyParser(HTMLParser):
    """Reads sanitised HTML into _Para and _TableModel blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list = []
        self._para: _Para | None = None
        self._inline: list[tuple[str, frozenset[str]]] = []  # open inline tags
        self._lists: list[str] = []
        self._list_ids = 0
        self._current_list_ids: list[int] = []
        self._quote_depth = 0
        self._pre_depth = 0
        self._table: _TableModel | None = None
        self._table_depth = 0
        self._cell: _Cell | None = None

    # tags

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in _INLINE_FORMATS or tag == "span":
            self._inline.append((tag, _formats_of(tag, attributes.get("style"))))
        elif tag == "br":
            self._append_text("\n", raw=True)
        elif self._table_depth > 1:
            self._start_in_nested_table(tag)
        elif tag in _PARAGRAPH_TAGS:
            self._start_para(tag)
        else:
            self._start_structure(tag, attributes)

    def _start_structure(self, tag, attributes) -> None:
        if tag == "blockquote":
            self._finish_para()
            self._quote_depth += 1
        elif tag in ("ul", "ol"):
            self._finish_para()
            self._lists.append(tag)
            self._list_ids += 1
            self._current_list_ids.append(self._list_ids)
        elif tag == "li":
            self._start_list_item()
        elif tag == "hr":
            self._finish_para()
            self._emit(_Para("hr"))
        elif tag in ("table", "tr", "td", "th"):
            self._start_table_part(tag, attributes)

    def _start_table_part(self, tag, attributes) -> None:
        self._finish_para()
        if tag == "table":
            self._table_depth += 1
            self._table = _TableModel()
        elif tag == "tr" and self._table is not None:
            self._table.rows.append([])
        elif tag in ("td", "th") and self._table is not None:
            if not self._table.rows:
                self._table.rows.append([])
            self._cell = _Cell(colspan=_span(attributes.get("colspan")),
                               rowspan=_span(attributes.get("rowspan")), header=tag == "th")
            self._table.rows[-1].append(self._cell)

    def _start_in_nested_table(self, tag) -> None:
        # Tables inside table cells are flattened into the outer cell's text.
        if tag == "table":
            self._table_depth += 1
        elif tag == "tr" or tag in _PARAGRAPH_TAGS:
            self._finish_para()
        elif tag in ("td", "th"):
            self._append_text("\t", raw=True)

    def handle_endtag(self, tag):
        if tag in _INLINE_FORMATS or tag == "span":
            self._close_inline(tag)
        elif tag in _PARAGRAPH_TAGS or tag in ("li", "tr"):
            self._finish_para()
        elif tag == "blockquote":
            self._finish_para()
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag in ("ul", "ol") and self._lists:
            self._finish_para()
            self._lists.pop()
            self._current_list_ids.pop()
        elif tag in ("td", "th") and self._table_depth == 1:
            self._finish_para()
            self._cell = None
        elif tag == "table" and self._table_depth:
            self._end_table()

    def _end_table(self) -> None:
        self._finish_para()
        self._table_depth -= 1
        if self._table_depth == 0 and self._table is not None:
            table, self._table, self._cell = self._table, None, None
            if any(table.rows):
                self.blocks.append(table)

    def _close_inline(self, tag) -> None:
        for index in range(len(self._inline) - 1, -1, -1):
            if self._inline[index][0] == tag:
                del self._inline[index:]
                return

    # paragraphs and text

    def _start_para(self, tag) -> None:
        if tag in ("p", "div") and self._para is not None and self._para.kind == "li" \
                and not self._para.runs:
            return  # <li><p>…</p></li>: the paragraph is the list item itself
        self._finish_para()
        kind = "p" if tag == "div" else tag
        self._pre_depth += tag == "pre"
        self._para = _Para(kind, indent=self._quote_depth)

    def _start_list_item(self) -> None:
        self._finish_para()
        list_tag = self._lists[-1] if self._lists else "ul"
        list_id = self._current_list_ids[-1] if self._current_list_ids else 0
        self._para = _Para("li", list_tag=list_tag, level=max(len(self._lists) - 1, 0),
                           indent=self._quote_depth, list_id=list_id)

    def handle_data(self, data):
        self._append_text(data, raw=bool(self._pre_depth))

    def _append_text(self, text: str, raw: bool) -> None:
        if not raw:
            text = re.sub(r"\s+", " ", text)
            if self._para is None and not text.strip():
                return
        if self._para is None:
            self._para = _Para("p", indent=self._quote_depth)
        formats = frozenset().union(*(f for _, f in self._inline))
        self._para.runs.append((text, formats))

    def _finish_para(self) -> None:
        para, self._para = self._para, None
        if para is None:
            return
        if para.kind == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        else:
            para.runs = _trim_runs(para.runs)
        if any(text.strip() for text, _ in para.runs):
            self._emit(para)

    def _emit(self, para: _Para) -> None:
        if self._cell is not None:
            self._cell.paras.append(para)
        elif self._table_depth == 0:
            self.blocks.append(para)

    def close(self):
        super().close()
        self._finish_para()
        while self._table_depth:
            self._end_table()


def _formats_of(tag: str, style: str | None) -> frozenset[str]:
    formats = {_INLINE_FORMATS[tag]} if tag in _INLINE_FORMATS else set()
    for pattern, name in _STYLE_FORMATS:
        if style and pattern.search(style.lower()):
            formats.add(name)
    return frozenset(formats)


def _trim_runs(runs):
    """Drop the whitespace HTML leaves at the start and end of a block."""
    runs = list(runs)
    while runs and not runs[0][0].strip(" "):
        runs.pop(0)
    while runs and not runs[-1][0].strip(" "):
        runs.pop()
    if runs:
        runs[0] = (runs[0][0].lstrip(" "), runs[0][1])
        runs[-1] = (runs[-1][0].rstrip(" "), runs[-1][1])
    return runs


class _BodyWriter:
    """Writes the parsed block model into the document body."""

    def __init__(self, document) -> None:
        self._document = document
        self._numbering = _ListNumbering(document)

    def write(self, blocks: list) -> None:
        for block in blocks:
            if isinstance(block, _TableModel):
                self._write_table(block)
            else:
                self._write_para(block, self._document.add_paragraph())

    def _write_para(self, para: _Para, paragraph) -> None:
        if para.kind in ("h1", "h2", "h3", "h4"):
            paragraph.style = self._document.styles[f"Heading {para.kind[1]}"]
        elif para.kind == "li":
            self._make_list_item(para, paragraph)
        elif para.kind == "hr":
            _add_bottom_border(paragraph)
        if para.indent:
            paragraph.paragraph_format.left_indent = Cm(1 * para.indent)
        mono = para.kind == "pre"
        for text, formats in para.runs:
            _add_formatted_run(paragraph, text, formats | ({"code"} if mono else set()))

    def _make_list_item(self, para: _Para, paragraph) -> None:
        base = "List Number" if para.list_tag == "ol" else "List Bullet"
        level = min(para.level, 2)
        paragraph.style = self._document.styles[base if level == 0 else f"{base} {level + 1}"]
        if para.list_tag == "ol" and level == 0:
            self._numbering.restart_for(paragraph, para.list_id)

    def _write_table(self, model: _TableModel) -> None:
        placed, n_rows, n_cols = _lay_out(model)
        if not placed:
            return
        table = self._document.add_table(rows=n_rows, cols=n_cols)
        table.style = "Table Grid"
        for row, col, cell_model in placed:
            cell = table.cell(row, col)
            last_row, last_col = row + cell_model.rowspan - 1, col + cell_model.colspan - 1
            if (last_row, last_col) != (row, col):
                cell = cell.merge(table.cell(last_row, last_col))
            self._write_cell(cell, cell_model)
        self._document.add_paragraph()  # keeps consecutive tables apart

    def _write_cell(self, cell, model: _Cell) -> None:
        paragraphs = [cell.paragraphs[0]] + [cell.add_paragraph() for _ in model.paras[1:]]
        for para, paragraph in zip(model.paras, paragraphs):
            if model.header:
                para = replace(para, runs=[(t, f | {"bold"}) for t, f in para.runs])
            self._write_para(para, paragraph)


def _lay_out(model: _TableModel):
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
    for index, line in enumerate(text.split("\n")):
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
        abstract_id = self._abstract_id_of_list_number()
        if abstract_id is None:
            return None
        numbering = self._document.part.numbering_part.element
        num = numbering.add_num(int(abstract_id))
        override = num.add_lvlOverride(ilvl=0)
        override.add_startOverride(1)
        return str(num.numId)

    def _abstract_id_of_list_number(self) -> str | None:
        ppr = self._document.styles["List Number"].element.pPr
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is None or num_pr.numId is None:
            return None
        numbering = self._document.part.numbering_part.element
        num = numbering.num_having_numId(num_pr.numId.val)
        return str(num.abstractNumId.val)
