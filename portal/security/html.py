"""The one HTML sanitiser of the portal, and a plain-text view of sanitised HTML.

Every piece of user-supplied HTML (revision bodies, imported .docx, comments) goes
through :func:`sanitize_html` on the way in. The allow-lists below are the whole policy.
"""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

import bleach
import tinycss2
from bleach.css_sanitizer import CSSSanitizer

from portal.security.html_parsing import BoundedParser, LinearTreeWalker

ALLOWED_TAGS = frozenset({
    "p", "br", "h1", "h2", "h3", "h4",
    "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "ul", "ol", "li",
    "table", "thead", "tbody", "tr", "th", "td",
    "blockquote", "pre", "code", "a", "span", "div", "hr",
    "ins", "del", "mark",
})

ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "td": ["colspan", "rowspan", "style"],
    "th": ["colspan", "rowspan", "style"],
    "span": ["style"],
    "p": ["style"],
}

ALLOWED_CSS_PROPERTIES = frozenset({
    "text-align", "font-weight", "font-style", "text-decoration",
    "color", "background-color",
})

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Colour functions are the only CSS functions a pasted Word document legitimately uses.
ALLOWED_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla"})

# Elements whose *content* is code, raw text or invisible, so it goes with the tag:
# bleach's strip=True would otherwise leave e.g. "alert(1)" behind as visible text.
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "noscript", "template", "iframe", "noembed", "noframes",
    "xmp", "plaintext", "textarea", "title", "object", "applet",
})
_MAY_HOLD_DROPPED_RE = re.compile("<(?:%s)" % "|".join(sorted(DROPPED_WITH_CONTENT)),
                                  re.IGNORECASE)
_MAX_PASSES = 5


class _ValueCheckingCSSSanitizer(CSSSanitizer):
    """CSSSanitizer that also vets declaration values.

    Bleach only filters property *names*; ``color: expression(...)`` or
    ``background-color: url(...)`` would pass, so values are checked too.
    """

    def sanitize_css(self, style: str) -> str:
        declarations = tinycss2.parse_declaration_list(
            style, skip_comments=True, skip_whitespace=True)
        kept = [
            f"{d.lower_name}: {tinycss2.serialize(d.value).strip()}"
            + (" !important" if d.important else "")
            for d in declarations
            if d.type == "declaration"
            and d.lower_name in self.allowed_css_properties
            and _is_safe_css_value(d.value)
        ]
        return "; ".join(kept)


def _is_safe_css_value(tokens) -> bool:
    """True when a declaration value holds only plain keywords, numbers and colours."""
    meaningful = [t for t in tokens if t.type not in ("whitespace", "comment")]
    if not meaningful:
        return False
    for token in meaningful:
        if token.type == "function":
            if token.lower_name not in ALLOWED_CSS_FUNCTIONS:
                return False
            if not _is_safe_css_args(token.arguments):
                return False
        elif token.type not in ("ident", "hash", "number", "percentage",
                                "dimension", "literal"):
            return False
    return True


def _is_safe_css_args(tokens) -> bool:
    return all(t.type in ("whitespace", "number", "percentage", "dimension", "literal")
               for t in tokens)


_CSS_SANITIZER = _ValueCheckingCSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES,
                                            allowed_svg_properties=frozenset())


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
        return False
    # bleach would keep style="" once every declaration is refused; refuse it whole.
    return name != "style" or bool(_CSS_SANITIZER.sanitize_css(value))


# html5lib parsers keep state, so bleach's Cleaner is not thread-safe: one per thread.
_per_thread = threading.local()


def _cleaner() -> bleach.sanitizer.Cleaner:
    if not hasattr(_per_thread, "cleaner"):
        cleaner = bleach.sanitizer.Cleaner(
            tags=ALLOWED_TAGS, attributes=_allow_attribute, protocols=ALLOWED_PROTOCOLS,
            strip=True, strip_comments=True, css_sanitizer=_CSS_SANITIZER)
        # Bleach's own parser and walker, bounded and linear (html_parsing.py).
        cleaner.parser = BoundedParser(tags=ALLOWED_TAGS, strip=True, consume_entities=False)
        cleaner.walker = LinearTreeWalker
        _per_thread.cleaner = cleaner
        # Same parser as bleach but without tag filtering, so script-like elements
        # are seen exactly as bleach (and a browser) would see them.
        _per_thread.parser = BoundedParser(tags=None, strip=False, consume_entities=True)
    return _per_thread.cleaner


def _drop_code_elements(html: str) -> str:
    """Remove script-like elements together with their content, using bleach's parser."""
    if not _MAY_HOLD_DROPPED_RE.search(html):
        return html  # parsing is the expensive part, and most bodies have no such tag
    cleaner = _cleaner()
    fragment = _per_thread.parser.parseFragment(html)
    for parent in list(fragment.iter()):
        if any(_local_name(child.tag) in DROPPED_WITH_CONTENT for child in parent):
            _drop_children(parent)
    return cleaner.serializer.render(cleaner.walker(fragment))


def _local_name(tag) -> str:
    # Comments have a function as tag; SVG/MathML elements are namespaced.
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _drop_children(parent) -> None:
    """Remove the script-like children of ``parent``; the text after each (its tail)
    joins the text before it. One pass, joining each text once: many dropped siblings
    in a row must not copy the growing text again for each."""
    head, kept = [parent.text or ""], []
    for child in parent:
        if _local_name(child.tag) in DROPPED_WITH_CONTENT:
            (kept[-1][1] if kept else head).append(child.tail or "")
        else:
            kept.append((child, [child.tail or ""]))
    parent[:] = [child for child, _tail in kept]
    parent.text = "".join(head) or parent.text
    for child, tail in kept:
        child.tail = "".join(tail) or child.tail


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to the portal's allow-lists.

    Disallowed tags are stripped (their text kept), except script-like elements which
    disappear with their content. The result is a fixed point: sanitising it again
    returns it unchanged.
    """
    if not html:
        return ""
    # Word pastes vertical tabs and other controls that no .docx can hold: drop them.
    result = _XML_ILLEGAL.sub("", html)
    # html5lib may re-nest markup on a first pass; iterate to a fixed point
    # so that storing and re-sanitising never changes stored content.
    for _ in range(_MAX_PASSES):
        cleaned = _cleaner().clean(_drop_code_elements(result))
        if cleaned == result:
            break
        result = cleaned
    return result


_BLOCK_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "li", "ul", "ol", "table", "thead",
    "tbody", "tr", "blockquote", "pre", "hr", "br",
})
_CELL_TAGS = frozenset({"td", "th"})
_WHITESPACE_RE = re.compile(r"[^\S\t]+")


class _TextExtractor(HTMLParser):
    """Collects text, starting a new line at every block boundary."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._cells_in_row = 0
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in DROPPED_WITH_CONTENT:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self._break_line()
            self._cells_in_row = 0 if tag == "tr" else self._cells_in_row
            self._pre_depth += tag == "pre"
        elif tag in _CELL_TAGS:
            if self._cells_in_row:
                self._current.append("\t")
            self._cells_in_row += 1

    def handle_endtag(self, tag):
        if tag in DROPPED_WITH_CONTENT:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._break_line()
            self._pre_depth = max(0, self._pre_depth - (tag == "pre"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._skip_depth:
            return
        if not self._pre_depth:
            self._current.append(data.replace("\t", " "))
            return
        first, *rest = data.split("\n")
        self._current.append(first)
        for line in rest:
            self._break_line()
            self._current.append(line)

    def _break_line(self) -> None:
        cells = "".join(self._current).split("\t")
        line = "\t".join(_WHITESPACE_RE.sub(" ", cell).strip() for cell in cells)
        if line.strip():
            self.lines.append(line)
        self._current = []

    def close(self):
        super().close()
        self._break_line()


def html_to_text(html: str) -> str:
    """Plain text of (sanitised) HTML for search and diffs.

    Block elements become separate lines, table cells are joined with tabs, entities
    are unescaped and whitespace runs inside a line collapse to one space.
    """
    extractor = _TextExtractor()
    extractor.feed(html or "")
    extractor.close()
    return "\n".join(extractor.lines)
