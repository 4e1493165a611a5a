"""Turns an uploaded Word .docx into HTML for a revision body.

The output is plain structural HTML (headings, paragraphs, lists, tables, basic run
formatting). It is not trusted: the caller passes it through the portal's sanitiser.
"""

from __future__ import annotations

import functools
import io
import re
from html import escape

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from flask_babel import gettext as _

from portal.errors import ValidationFailed
from portal.security.uploads import UploadRejected
from portal.validation import parse_int

_HEADING_STYLE_RE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "标题"})
# (run attribute, HTML tag), outermost first.
_RUN_TAGS = (("bold", "strong"), ("italic", "em"), ("underline", "u"),
             ("strike", "s"), ("subscript", "sub"), ("superscript", "sup"))
# Paragraphs (table cells' included) one .docx may hold: about 1,000 pages of text.
# Converting costs about 0.1 ms each, and the HTML must fit a revision body anyway.
MAX_PARAGRAPHS = 50_000


def docx_to_html(data: bytes) -> str:
    """Convert .docx bytes into HTML, walking paragraphs and tables in document order.

    Raises :class:`UploadRejected` (``corrupt_docx``, 422) when Word's XML cannot be read,
    which :func:`check_docx` cannot see without parsing.
    """
    document = _open_document(data)
    _refuse_too_many_paragraphs(document.element.body)
    _cache_style_lookups(document)
    converter = _BlockConverter(_numbering_element(document))
    return converter.convert(document.element.body, document._body)


def _refuse_too_many_paragraphs(body) -> None:
    count = sum(1 for _p in body.iter(qn("w:p")))  # lxml counts in C: fast at any size
    if count > MAX_PARAGRAPHS:
        raise ValidationFailed(
            _("The document has %(count)d paragraphs; at most %(limit)d can be imported.",
              count=count, limit=MAX_PARAGRAPHS), code="docx_too_long")


def _cache_style_lookups(document) -> None:
    """python-docx finds a paragraph's or run's style by scanning every style of the
    document, for every paragraph and run; the styles do not change while reading."""
    part = document.part
    part.get_style = functools.lru_cache(maxsize=None)(part.get_style)


def _open_document(data: bytes):
    # python-docx reports a malformed package with whatever its parsing hits
    # (KeyError, AttributeError, lxml errors…); for untrusted input they all mean "unreadable".
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise UploadRejected("corrupt_docx", _("The .docx file cannot be read as a Word "
                               "document."), 422) from exc


class _BlockConverter:
    """Renders block-level content (paragraphs, tables), grouping list items."""

    def __init__(self, numbering) -> None:
        self._numbering = numbering
        self._list_tags: dict[tuple[str, int], str] = {}

    def convert(self, container, parent) -> str:
        out: list[str] = []
        lists = _ListNesting(out)
        for element in _block_elements(container):
            if element.tag == qn("w:tbl"):
                lists.close_all()
                out.append(self._table_html(Table(element, parent)))
                continue
            paragraph = Paragraph(element, parent)
            content = _inline_html(paragraph)
            if not content:
                continue  # Word users space text with empty paragraphs; HTML has CSS
            item = self._list_item(paragraph)
            if item is None:
                lists.close_all()
                out.append(_paragraph_html(paragraph, content))
            else:
                lists.add_item(*item, content)
        lists.close_all()
        return "".join(out)

    def _list_item(self, paragraph: Paragraph) -> tuple[str, int] | None:
        """(list tag, nesting level) when the paragraph is a list item, else None."""
        style = _style_name(paragraph).lower()
        num_id, level = _numbering_of(paragraph)
        for prefix, tag in (("list number", "ol"), ("list bullet", "ul")):
            if style.startswith(prefix):
                return tag, (level if num_id else _level_from_style(style, prefix))
        if num_id is None or num_id == "0":
            return None
        return self._list_tag(num_id, level), level

    def _list_tag(self, num_id: str, level: int) -> str:
        """'ol' when the numbering level counts (decimal, 一二三, …), 'ul' for bullets."""
        if (num_id, level) not in self._list_tags:  # each lookup scans the numbering part
            fmt = _numbering_format(self._numbering, num_id, level)
            self._list_tags[num_id, level] = "ul" if fmt in (None, "bullet", "none") else "ol"
        return self._list_tags[num_id, level]

    def _table_html(self, table: Table) -> str:
        rows = []
        for tr in table._tbl.tr_lst:
            cells = [self._cell_html(tc, table) for tc in tr.tc_lst if tc.vMerge != "continue"]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return "<table>" + "".join(rows) + "</table>"

    def _cell_html(self, tc, table: Table) -> str:
        attrs = ""
        if tc.grid_span > 1:
            attrs += f' colspan="{tc.grid_span}"'
        if tc.vMerge == "restart":
            attrs += f' rowspan="{_rowspan(tc)}"'
        blocks = list(_block_elements(tc))
        if len(blocks) == 1 and blocks[0].tag == qn("w:p"):
            content = _inline_html(Paragraph(blocks[0], table))
        else:
            content = self.convert(tc, table)
        return f"<td{attrs}>{content}</td>"


class _ListNesting:
    """Opens and closes <ul>/<ol> so consecutive items share a list, nested by level."""

    def __init__(self, out: list[str]) -> None:
        self._out = out
        self._open: list[str] = []  # one list tag per open level, each with an open <li>

    def add_item(self, tag: str, level: int, content: str) -> None:
        depth = level + 1
        while len(self._open) > depth:
            self._close_level()
        if len(self._open) == depth and self._open[-1] != tag:
            self._close_level()
        if len(self._open) == depth:
            self._out.append("</li>")
        while len(self._open) < depth - 1:
            self._out.append(f"<{tag}><li>")
            self._open.append(tag)
        if len(self._open) < depth:
            self._out.append(f"<{tag}>")
            self._open.append(tag)
        self._out.append(f"<li>{content}")

    def close_all(self) -> None:
        while self._open:
            self._close_level()

    def _close_level(self) -> None:
        self._out.append(f"</li></{self._open.pop()}>")


def _numbering_element(document):
    """The w:numbering root, or None for documents without a numbering part."""
    try:
        return document.part.numbering_part.element
    except NotImplementedError:  # python-docx cannot create the missing part
        return None


def _numbering_format(numbering, num_id: str, level: int) -> str | None:
    """w:numFmt of level ``level`` of numbering instance ``num_id``, if defined."""
    if numbering is None:
        return None
    num = _child_with(numbering, "w:num", "w:numId", num_id)
    abstract_ref = num.find(qn("w:abstractNumId")) if num is not None else None
    if abstract_ref is None:
        return None
    abstract = _child_with(numbering, "w:abstractNum", "w:abstractNumId",
                           abstract_ref.get(qn("w:val")))
    lvl = _child_with(abstract, "w:lvl", "w:ilvl", str(level)) if abstract is not None else None
    fmt = lvl.find(qn("w:numFmt")) if lvl is not None else None
    return fmt.get(qn("w:val")) if fmt is not None else None


def _child_with(parent, tag: str, attribute: str, value: str | None):
    for child in parent.iterchildren(qn(tag)):
        if child.get(qn(attribute)) == value:
            return child
    return None


def _level_from_style(style_name: str, prefix: str) -> int:
    """'List Bullet 2' is the second level (ilvl 1)."""
    suffix = style_name[len(prefix):].strip()
    level = parse_int(suffix, 0)
    return min(level - 1, 8) if level > 0 else 0


def _block_elements(container):
    """Yield w:p and w:tbl children in order, looking inside content controls (w:sdt)."""
    for child in container.iterchildren():
        if child.tag in (qn("w:p"), qn("w:tbl")):
            yield child
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _block_elements(content)


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return (style.name or "") if style is not None else ""


def _numbering_of(paragraph: Paragraph) -> tuple[str | None, int]:
    """(numId, ilvl) from the paragraph's own w:numPr; (None, 0) when it has none."""
    num_pr = paragraph._p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
    if num_pr is None:
        return None, 0
    num_id = num_pr.find(qn("w:numId"))
    ilvl = num_pr.find(qn("w:ilvl"))
    raw_level = ilvl.get(qn("w:val"), "0") if ilvl is not None else "0"
    level = min(parse_int(raw_level, 0), 8)
    return (num_id.get(qn("w:val")) if num_id is not None else None), level


def _paragraph_html(paragraph: Paragraph, content: str) -> str:
    tag = _heading_tag(_style_name(paragraph)) or "p"
    return f"<{tag}>{content}</{tag}>"


def _heading_tag(style_name: str) -> str | None:
    name = style_name.strip().lower()
    if name in _TITLE_STYLES:
        return "h1"
    match = _HEADING_STYLE_RE.match(name)
    if match:
        return f"h{min(max(int(match.group(1)), 1), 4)}"
    return None


def _inline_html(paragraph: Paragraph) -> str:
    parts = []
    for item in paragraph.iter_inner_content():
        if isinstance(item, Hyperlink):
            inner = _runs_html(item.runs)
            href = item.url
            parts.append(f'<a href="{escape(href)}">{inner}</a>' if href else inner)
        else:
            parts.append(_runs_html([item]))
    return "".join(parts)


def _runs_html(runs: list[Run]) -> str:
    """HTML for runs, merging neighbours with identical formatting (Word splits runs a lot)."""
    merged: list[tuple[tuple[str, ...], str]] = []
    for run in runs:
        text = run.text
        if not text:
            continue
        tags = _run_tags(run)
        if merged and merged[-1][0] == tags:
            merged[-1] = (tags, merged[-1][1] + text)
        else:
            merged.append((tags, text))
    return "".join(_wrap(tags, _text_html(text)) for tags, text in merged)


def _run_tags(run: Run) -> tuple[str, ...]:
    char_style_font = run.style.font if run.style is not None else None
    tags = []
    for attribute, tag in _RUN_TAGS:
        value = getattr(run.font, attribute)
        if value is None and char_style_font is not None:
            value = getattr(char_style_font, attribute)
        if value:
            tags.append(tag)
    return tuple(tags)


def _text_html(text: str) -> str:
    return escape(text, quote=False).replace("\n", "<br>")


def _wrap(tags: tuple[str, ...], html: str) -> str:
    opening = "".join(f"<{tag}>" for tag in tags)
    closing = "".join(f"</{tag}>" for tag in reversed(tags))
    return opening + html + closing


def _rowspan(tc) -> int:
    """Rows a vertically merged cell covers: itself plus the 'continue' cells below it."""
    span = 1
    offset = tc.grid_offset
    for tr in tc.getparent().itersiblings(qn("w:tr")):
        try:
            below = tr.tc_at_grid_offset(offset)
        except ValueError:
            break
        if below.vMerge != "continue":
            break
        span += 1
    return span
