"""Word-level differences between two plain-text revisions, as HTML.

Lines are compared first, so unchanged stretches of a long document cost almost
nothing; only replaced blocks of lines are compared token by token. A token is a single
CJK character, a run of other letters/digits, a run of whitespace, or one other character.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from html import escape

_CJK = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f"
    "\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_TOKEN_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+|\s+|.", re.DOTALL)
# Token diffs are quadratic in the worst case; past this many token pairs a replaced
# block is shown as whole deleted and inserted lines instead.
MAX_TOKEN_PAIRS = 4_000_000
# Below this similarity a token diff is confetti (common characters such as 的 match by
# chance), so the block reads better as whole deleted and inserted lines.
MIN_TOKEN_SIMILARITY = 0.4


def tokenize(text: str) -> list[str]:
    """Split ``text`` into diff tokens."""
    return _TOKEN_RE.findall(text)


def diff_html(old_text: str, new_text: str) -> str:
    """HTML showing ``new_text`` against ``old_text``: ``<ins>`` added, ``<del>`` removed.

    The result is ``<div class="diff">`` with one ``<p>`` per line; all text is escaped.
    """
    old_lines = (old_text or "").splitlines()
    new_lines = (new_text or "").splitlines()
    out = _LineWriter()
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.whole_lines(old_lines[i1:i2], None)
        elif op == "delete":
            out.whole_lines(old_lines[i1:i2], "del")
        elif op == "insert":
            out.whole_lines(new_lines[j1:j2], "ins")
        else:
            _diff_replaced_block(out, old_lines[i1:i2], new_lines[j1:j2])
    return '<div class="diff">' + "\n".join(out.lines) + "</div>"


def _diff_replaced_block(out: "_LineWriter", old: list[str], new: list[str]) -> None:
    old_tokens = tokenize("\n".join(old))
    new_tokens = tokenize("\n".join(new))
    matcher = None
    if len(old_tokens) * len(new_tokens) <= MAX_TOKEN_PAIRS:
        matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    if matcher is None or matcher.ratio() < MIN_TOKEN_SIMILARITY:
        out.whole_lines(old, "del")
        out.whole_lines(new, "ins")
        return
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.text("".join(old_tokens[i1:i2]), None)
            continue
        if op in ("delete", "replace"):
            out.text("".join(old_tokens[i1:i2]), "del")
        if op in ("insert", "replace"):
            out.text("".join(new_tokens[j1:j2]), "ins")
    out.end_line()


class _LineWriter:
    """Accumulates marked-up text and cuts it into one <p> per line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._parts: list[str] = []

    def whole_lines(self, lines: list[str], tag: str | None) -> None:
        for line in lines:
            self._parts.append(_marked(line, tag))
            self.end_line()

    def text(self, text: str, tag: str | None) -> None:
        """Append text that may span lines; tags never cross a line break."""
        first, *rest = text.split("\n")
        self._parts.append(_marked(first, tag))
        for piece in rest:
            self.end_line()
            self._parts.append(_marked(piece, tag))

    def end_line(self) -> None:
        self.lines.append("<p>" + "".join(self._parts) + "</p>")
        self._parts = []


def _marked(text: str, tag: str | None) -> str:
    if not text:
        return ""
    escaped = escape(text)
    return f"<{tag}>{escaped}</{tag}>" if tag else escaped
