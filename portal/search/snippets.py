"""Highlighted snippets: up to two fragments of a hit's text with the query's matches in <mark>.

Whoosh's highlighter re-runs the analyzer over the text and compares every token,
~1 ms per hit in Python. The analyzer's tokens are simple enough to find directly,
with the same result:

* a query's CJK run matches exactly where that substring occurs (every character
  and pair of characters is indexed, and phrases need consecutive positions), so
  one regular expression with a look-ahead finds them all, overlapping ones
  included;
* a Latin word or code part matches where normalize_word() of the text's part
  equals it (lower-cased, Porter-stemmed), and a whole code where its lower-cased
  text does or all its parts do; only the text's words are examined, and only if
  the query has any.

Text is folded (full-width ASCII to ASCII, one character for one) as the analyzer
does, so offsets stay those of the original text. Everything outside <mark> is
HTML-escaped.
"""
import functools
import html
import re

from portal.search.analyzer import CJK, MAX_TOKEN, PART_RE, SEGMENT_RE, fold, normalize_word

FRAGMENT_CHARS = 160
CONTEXT_CHARS = 40
FRAGMENTS = 2
BETWEEN = " … "
_CJK_RE = re.compile(f"[{CJK}]")


@functools.lru_cache(maxsize=256)
def _cjk_pattern(tokens: frozenset):
    alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
    return re.compile(f"(?=({alternatives}))")


def match_spans(text: str, terms) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) character spans of `terms` (analyzer.highlight_terms:
    CJK runs, and the index forms of words and codes) in `text`."""
    folded = fold(text)
    cjk = frozenset(t for t in terms if t and _CJK_RE.match(t))
    spans = [(m.start(), m.start() + len(m.group(1))) for m in _cjk_pattern(cjk).finditer(folded)] if cjk else []
    if len(cjk) < len(terms):
        for m in SEGMENT_RE.finditer(folded):
            if m.lastgroup != "word":
                continue
            if m.group().lower()[:MAX_TOKEN] in terms:
                spans.append(m.span())
                continue
            base, parts = m.start(), list(PART_RE.finditer(m.group()))
            hits = [(base + p.start(), base + p.end()) for p in parts if normalize_word(p.group()) in terms]
            # every part of a code matched: mark the code, joiners included
            spans += [m.span()] if len(hits) == len(parts) > 1 else hits
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _fragments(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int, list]]:
    """Consecutive spans grouped into windows of at most FRAGMENT_CHARS characters."""
    out: list[tuple[int, int, list]] = []
    for start, end in spans:
        if out and end - out[-1][0] <= FRAGMENT_CHARS - CONTEXT_CHARS:
            out[-1][2].append((start, end))
            continue
        out.append((max(0, start - CONTEXT_CHARS), 0, [(start, end)]))
    return [(begin, min(size, begin + FRAGMENT_CHARS, marks[-1][1] + CONTEXT_CHARS), marks)
            for begin, _, marks in out]


def _render(text: str, begin: int, end: int, marks: list) -> str:
    out, at = ["…" if begin > 0 else ""], begin
    for start, stop in marks:
        stop = min(stop, end)
        if stop > start:
            out.append(html.escape(text[at:start]) + "<mark>" + html.escape(text[start:stop]) + "</mark>")
            at = stop
    out.append(html.escape(text[at:end]))
    return "".join(out) + ("…" if end < len(text) else "")


def _weight(fragment) -> tuple[int, int]:
    lengths = [end - start for start, end in fragment[2]]
    return max(lengths), sum(lengths)


def snippet(text: str, terms) -> str:
    """Up to two fragments of `text` around the query's tokens, or its escaped beginning."""
    if not text:
        return ""
    spans = match_spans(text, terms) if terms else []
    if not spans:
        return html.escape(text[:FRAGMENT_CHARS]) + ("…" if len(text) > FRAGMENT_CHARS else "")
    fragments = _fragments(spans, len(text))
    # the fragments with the longest match (a whole phrase beats its bigrams apart), then
    # the most marked text; the first of equals; shown in the order of the text
    best = sorted(sorted(fragments, key=_weight, reverse=True)[:FRAGMENTS], key=lambda f: f[0])
    return BETWEEN.join(_render(text, *f) for f in best)
