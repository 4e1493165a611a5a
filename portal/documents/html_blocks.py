"""Sanitised revision HTML read into a small block model (paragraphs, list items, tables
with merged cells) that html_to_docx writes into Word."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from portal.validation import parse_int


@dataclass
class Para:
    kind: str  # p, h1..h4, li, pre, hr
    runs: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    list_tag: str = ""
    level: int = 0
    indent: int = 0
    list_id: int = 0


@dataclass
class Cell:
    paras: list[Para] = field(default_factory=list)
    colspan: int = 1
    rowspan: int = 1
    header: bool = False


@dataclass
class TableModel:
    rows: list[list[Cell]] = field(default_factory=list)


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


def parse_body(html: str) -> list:
    parser = _BodyParser()
    parser.feed(html or "")
    parser.close()
    return parser.blocks


def _span(value: str | None) -> int:
    return min(parse_int(value) or 1, 50)


class _BodyParser(HTMLParser):
    """Reads sanitised HTML into Para and TableModel blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list = []
        self._para: Para | None = None
        self._inline: list[tuple[str, frozenset[str]]] = []  # open inline tags
        self._lists: list[str] = []
        self._list_ids = 0
        self._current_list_ids: list[int] = []
        self._quote_depth = 0
        self._pre_depth = 0
        self._table: TableModel | None = None
        self._table_depth = 0
        self._cell: Cell | None = None

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
            self._emit(Para("hr"))
        elif tag in ("table", "tr", "td", "th"):
            self._start_table_part(tag, attributes)

    def _start_table_part(self, tag, attributes) -> None:
        self._finish_para()
        if tag == "table":
            self._table_depth += 1
            self._table = TableModel()
        elif tag == "tr" and self._table is not None:
            self._table.rows.append([])
        elif tag in ("td", "th") and self._table is not None:
            if not self._table.rows:
                self._table.rows.append([])
            self._cell = Cell(colspan=_span(attributes.get("colspan")),
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
        self._para = Para(kind, indent=self._quote_depth)

    def _start_list_item(self) -> None:
        self._finish_para()
        list_tag = self._lists[-1] if self._lists else "ul"
        list_id = self._current_list_ids[-1] if self._current_list_ids else 0
        self._para = Para("li", list_tag=list_tag, level=max(len(self._lists) - 1, 0),
                           indent=self._quote_depth, list_id=list_id)

    def handle_data(self, data):
        self._append_text(data, raw=bool(self._pre_depth))

    def _append_text(self, text: str, raw: bool) -> None:
        if not raw:
            text = re.sub(r"\s+", " ", text)
            if self._para is None and not text.strip():
                return
        if self._para is None:
            self._para = Para("p", indent=self._quote_depth)
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

    def _emit(self, para: Para) -> None:
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
    start, end = 0, len(runs)  # slicing once: pop(0) per run would be quadratic
    while start < end and not runs[start][0].strip(" "):
        start += 1
    while end > start and not runs[end - 1][0].strip(" "):
        end -= 1
    runs = runs[start:end]
    if runs:
        runs[0] = (runs[0][0].lstrip(" "), runs[0][1])
        runs[-1] = (runs[-1][0].rstrip(" "), runs[-1][1])
    return runs
