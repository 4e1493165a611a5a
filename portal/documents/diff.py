"""Word-level differences between two plain-text revisions, as HTML.

Lines are compared first, so unchanged stretches of a long document cost almost
nothing; only replaced blocks of lines are compared token by token. A token is a single
CJK character, a run of other letters/digits, a run of whitespace, or one other character.

difflib's SequenceMatcher steps once per pair of equal elements in each longest-match
search, and runs one search per matching block it finds: quadratic on repeated lines (a
revision diffed with itself, 32,000 identical lines) and cubic on a rewritten block where
only line breaks and numbers match. So common prefixes and suffixes are cut off first
(identical texts cost one pass), large regions are split at lines that occur once on each
side (patience diff), blocks too unlike to read as a word diff are never token-compared,
and every search pays the whole diff's work budget before it runs: past the budget, the
rest is shown as removed and added lines and the page says so.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from difflib import SequenceMatcher
from html import escape

from flask_babel import gettext as _

_CJK = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f"
    "\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_TOKEN_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+|\s+|.", re.DOTALL)
# Past this many pairs of equal lines in one region, the region is split at unique lines
# rather than searched whole.
MAX_LINE_PAIRS = 1_000_000
# The whole diff's budget, in pairs compared and elements scanned (a few seconds at most).
MAX_DIFF_WORK = 6_000_000
# Below this similarity a token diff is confetti (common characters such as 的 match by
# chance), so the block reads better as whole deleted and inserted lines.
MIN_TOKEN_SIMILARITY = 0.4


def tokenize(text: str) -> list[str]:
    """Split ``text`` into diff tokens."""
    return _TOKEN_RE.findall(text)


class _Budget:
    """Work left for one diff; ``cut`` records that some comparison was skipped."""

    def __init__(self, work: int = MAX_DIFF_WORK) -> None:
        self.left = work
        self.cut = False

    def spend(self, work: int) -> bool:
        if work > self.left:
            return False
        self.left -= work
        return True


class _OutOfBudget(Exception):
    pass


class _BudgetedMatcher(SequenceMatcher):
    """A SequenceMatcher whose every longest-match search pays its worst case first: one
    step per element of its range of ``a`` and per position of that element in ``b``.
    Counting pairs once for the whole comparison understates it by the number of blocks."""

    def __init__(self, a, b, budget: _Budget) -> None:
        self._budget = budget
        super().__init__(None, a, b, autojunk=False)

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        positions = self.b2j
        cost = (ahi - alo) + sum(len(positions.get(x, ())) for x in self.a[alo:ahi])
        if not self._budget.spend(cost):
            raise _OutOfBudget
        return super().find_longest_match(alo, ahi, blo, bhi)


def _budgeted_blocks(a, b, offset_a: int, offset_b: int, budget: _Budget) -> list[tuple] | None:
    """Matching blocks of ``a`` and ``b`` shifted by the offsets, or None past the budget."""
    try:
        found = _BudgetedMatcher(a, b, budget).get_matching_blocks()
    except _OutOfBudget:
        return None
    return [(offset_a + i, offset_b + j, n) for i, j, n in found if n]


def diff_html(old_text: str, new_text: str) -> str:
    """HTML showing ``new_text`` against ``old_text``: ``<ins>`` added, ``<del>`` removed.

    The result is ``<div class="diff">`` with one ``<p>`` per line; all text is escaped.
    When the work budget ran out, a ``<p class="diff-note">`` first says so.
    """
    old_lines = (old_text or "").splitlines()
    new_lines = (new_text or "").splitlines()
    budget = _Budget()
    out = _LineWriter()
    for op, i1, i2, j1, j2 in _opcodes(_matching_lines(old_lines, new_lines, budget),
                                       len(old_lines), len(new_lines)):
        if op == "equal":
            out.whole_lines(old_lines[i1:i2], None)
        elif op == "delete":
            out.whole_lines(old_lines[i1:i2], "del")
        elif op == "insert":
            out.whole_lines(new_lines[j1:j2], "ins")
        else:
            _diff_replaced_block(out, old_lines[i1:i2], new_lines[j1:j2], budget)
    note = ""
    if budget.cut:
        note = '<p class="diff-note">%s</p>\n' % escape(_(
            "This difference is too large to compare in full: parts of it are shown as "
            "whole removed and added lines."))
    return '<div class="diff">' + note + "\n".join(out.lines) + "</div>"


def _matching_lines(old: list[str], new: list[str], budget: _Budget) -> list[tuple]:
    """Matching blocks (i, j, n) of two lists of lines, in order, within ``budget``."""
    ids: dict[str, int] = {}
    a = [ids.setdefault(line, len(ids)) for line in old]
    b = [ids.setdefault(line, len(ids)) for line in new]
    blocks: list[tuple] = []
    regions = [(0, len(a), 0, len(b))]
    while regions:  # a stack, not recursion: any depth is fine
        regions.extend(_match_region(a, b, regions.pop(), blocks, budget))
    return sorted(blocks)


def _match_region(a, b, region, blocks, budget) -> list[tuple]:
    """Match one region: record its blocks and return the sub-regions still to match."""
    alo, ahi, blo, bhi = _strip_common_ends(a, b, *region, blocks)
    if alo == ahi or blo == bhi:
        return []
    if not budget.spend((ahi - alo) + (bhi - blo)):
        budget.cut = True
        return []
    count_a, count_b = Counter(a[alo:ahi]), Counter(b[blo:bhi])
    pairs = sum(n * count_b[x] for x, n in count_a.items())
    if pairs <= min(MAX_LINE_PAIRS, budget.left):
        found = _budgeted_blocks(a[alo:ahi], b[blo:bhi], alo, blo, budget)
        if found is not None:
            blocks.extend(found)
            return []
    anchors = _unique_anchors(a, b, (alo, ahi, blo, bhi), count_a, count_b)
    if not anchors:
        budget.cut = True  # shown as removed and added lines
        return []
    blocks.extend((i, j, 1) for i, j in anchors)
    edges = [(alo - 1, blo - 1)] + anchors + [(ahi, bhi)]
    return [(i1 + 1, i2, j1 + 1, j2) for (i1, j1), (i2, j2) in zip(edges, edges[1:])]


def _strip_common_ends(a, b, alo, ahi, blo, bhi, blocks) -> tuple:
    """Record the region's common first and last elements; return what lies between."""
    start = alo
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo, blo = alo + 1, blo + 1
    if alo > start:
        blocks.append((start, blo - (alo - start), alo - start))
    end = ahi
    while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
    if ahi < end:
        blocks.append((ahi, bhi, end - ahi))
    return alo, ahi, blo, bhi


def _unique_anchors(a, b, region, count_a, count_b) -> list[tuple]:
    """Lines found exactly once on each side, the longest run in the same order on both
    (patience sorting, n log n)."""
    alo, ahi, blo, bhi = region
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi)
             if count_a[a[i]] == 1 and a[i] in where_b]
    tails: list[int] = []  # tails[k]: smallest b position ending an increasing run of k+1
    tail_at: list[int] = []
    back: list[int] = []
    for index, (_i, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        back.append(tail_at[k - 1] if k else -1)
        if k == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[k], tail_at[k] = j, index
    run, index = [], tail_at[-1] if tail_at else -1
    while index >= 0:
        run.append(pairs[index])
        index = back[index]
    return run[::-1]


def _opcodes(blocks: list[tuple], len_a: int, len_b: int) -> list[tuple]:
    """SequenceMatcher.get_opcodes for sorted matching blocks."""
    ops, i, j = [], 0, 0
    for ai, bj, size in blocks + [(len_a, len_b, 0)]:
        if i < ai and j < bj:
            ops.append(("replace", i, ai, j, bj))
        elif i < ai:
            ops.append(("delete", i, ai, j, bj))
        elif j < bj:
            ops.append(("insert", i, ai, j, bj))
        if size:
            ops.append(("equal", ai, ai + size, bj, bj + size))
        i, j = ai + size, bj + size
    return ops


def _matching_tokens(old: list[str], new: list[str], budget: _Budget) -> list[tuple] | None:
    """Matching blocks of two token lists; None when they are too unlike to read as a word
    diff (decided by counting, before any search) or comparing them costs too much."""
    blocks: list[tuple] = []
    alo, ahi, blo, bhi = _strip_common_ends(old, new, 0, len(old), 0, len(new), blocks)
    if alo < ahi and blo < bhi:
        kept = sum(n for _i, _j, n in blocks)
        # At most the common multiset of tokens can match: a cheap upper bound.
        common = sum((Counter(old[alo:ahi]) & Counter(new[blo:bhi])).values())
        if not _similar(kept + common, len(old), len(new)):
            return None
        found = _budgeted_blocks(old[alo:ahi], new[blo:bhi], alo, blo, budget)
        if found is None:
            budget.cut = True
            return None
        blocks.extend(found)
    return sorted(blocks)


def _similar(matched: int, len_old: int, len_new: int) -> bool:
    return 2 * matched >= MIN_TOKEN_SIMILARITY * (len_old + len_new)


def _diff_replaced_block(out: "_LineWriter", old: list[str], new: list[str],
                         budget: _Budget) -> None:
    old_tokens = tokenize("\n".join(old))
    new_tokens = tokenize("\n".join(new))
    blocks = _matching_tokens(old_tokens, new_tokens, budget)
    if blocks is None or not _similar(sum(n for _i, _j, n in blocks), len(old_tokens), len(new_tokens)):
        out.whole_lines(old, "del")
        out.whole_lines(new, "ins")
        return
    for op, i1, i2, j1, j2 in _opcodes(blocks, len(old_tokens), len(new_tokens)):
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
