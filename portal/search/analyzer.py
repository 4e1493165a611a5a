"""One analyzer for Chinese and English text, and the query language built on it.

Index side (``ANALYZER``: ``PortalTokenizer | LowercaseFilter | AsciiStemFilter``)
---------------------------------------------------------------------------------
Text is split into *segments*: runs of CJK characters, and Latin/digit *words*.
Each segment consumes consecutive positions, so positions are sequential over the
whole text whatever the script (punctuation and spaces consume none).

* A CJK run c0 c1 … c(n-1) starting at position p occupies positions p … p+n-1:
  the **unigram** ci is indexed at p+i, and the **bigram** ci c(i+1) is indexed at
  the position of its *first* character, p+i. The next segment starts at p+n.
* A word at position p is one position: its lower-cased, Porter-stemmed text.
* A *code* (alphanumeric parts joined by ``- / . _ :``, e.g. ``QR-SH009-202611-0001``)
  indexes its **whole** lower-cased text at p (not stemmed) and each **part** at
  p, p+1, … so the next segment starts at p + number of parts.

Query side (``phrase_tokens``): a query word or quoted phrase becomes a sequence of
tokens that must sit at consecutive positions (a Whoosh ``Phrase``, slop 1, matched
by ``sequence.ExactSequence``):

* a CJK run of one character is its unigram; a longer run is its bigrams in
  order: ``管理评审`` → 管理 理评 评审 at q, q+1, q+2. That matches exactly where the
  index has 管@i 理@i+1 评@i+2 审@i+3, i.e. only the contiguous sequence, never
  管理 … 评审 apart. ``审`` alone finds every text containing 审 (unigram).
* if another segment follows the run inside the same phrase, the run's last
  character is appended as a unigram, so the next token lands at q+n exactly as
  in the index (``内审ISO`` → 内审 审 iso);
* words and codes contribute their parts (``QR-SH009`` → qr sh009), so a code is
  found whole and by any run of its parts (``SH009``, ``202611-0001``).

No stop words: 和 and 的 are searchable. No jieba: word segmentation would make
a query's tokens depend on its context and break exact-sequence matching.
"""
import functools
import re
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.analysis import LowercaseFilter
from whoosh.analysis.acore import Token
from whoosh.analysis.filters import Filter
from whoosh.analysis.tokenizers import Tokenizer
from whoosh.lang.porter import stem

from portal.errors import BadRequest
from portal.search.sequence import ExactSequence

# Bump when tokens change: the index records it and is rebuilt on a mismatch.
ANALYZER_VERSION = "cjk-bigram-unigram/code-parts/porter/v1"

CJK = ("\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
       "\U00020000-\U0003134f")
_WORD_CHAR = rf"[^\W_{CJK}]"
SEGMENT_RE = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>{_WORD_CHAR}+(?:[-/._:]{_WORD_CHAR}+)*)")
PART_RE = re.compile(rf"{_WORD_CHAR}+")
# Full-width ASCII (ＩＳＯ９００１) and the ideographic space fold to ASCII; one char
# for one char, so character offsets for highlighting stay right.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
MAX_TOKEN = 64

MAX_QUERY_CHARS = 1000
MAX_UNITS = 40
MAX_DEPTH = 8
# (field, boost) searched by every query word.
SEARCH_FIELDS = (("ref", 3.0), ("title", 2.0), ("body", 1.0))
OPERATORS = {"AND", "OR", "NOT"}
_QUOTES = {'"': '"', "“": "”", "「": "」"}


class SearchSyntaxError(BadRequest):
    """A query the portal refuses to run (too long, too many words, bad encoding)."""

    code = "bad_search_query"


def fold(text: str) -> str:
    """Fold full-width ASCII to ASCII (length-preserving)."""
    return text.translate(_WIDTH)


@functools.lru_cache(maxsize=50_000)
def normalize_word(text: str) -> str:
    """Index form of one word or code part: lower-cased; pure ASCII words stemmed."""
    text = text.lower()[:MAX_TOKEN]
    return stem(text) if text.isascii() and text.isalpha() else text


def segments(text: str):
    """Yield ("cjk", start, end, None) or ("word", start, end, [(ps, pe), …]) in order."""
    for match in SEGMENT_RE.finditer(text):
        start, end = match.span()
        if match.lastgroup == "cjk":
            yield "cjk", start, end, None
        else:
            parts = [(start + m.start(), start + m.end()) for m in PART_RE.finditer(match.group())]
            yield "word", start, end, parts


class PortalTokenizer(Tokenizer):
    """CJK unigrams + bigrams and words/codes with sequential positions (see module doc)."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            yield self._emit(t, value, 0, len(value), start_pos, start_char, keeporiginal)
            return
        text = fold(value)
        pos = start_pos
        for kind, start, end, parts in segments(text):
            if kind == "cjk":
                for i in range(start, end):
                    yield self._emit(t, text[i], i, i + 1, pos, start_char, keeporiginal)
                    if i + 1 < end:
                        yield self._emit(t, text[i:i + 2], i, i + 2, pos, start_char, keeporiginal)
                    pos += 1
                continue
            if len(parts) > 1:
                yield self._emit(t, text[start:end][:MAX_TOKEN], start, end, pos, start_char,
                                 keeporiginal)
            for ps, pe in parts:
                yield self._emit(t, text[ps:pe][:MAX_TOKEN], ps, pe, pos, start_char, keeporiginal)
                pos += 1

    @staticmethod
    def _emit(t, text, start, end, pos, start_char, keeporiginal):
        # Whoosh's convention: one Token object, re-filled for every token.
        t.text, t.boost, t.stopped, t.pos = text, 1.0, False, pos
        t.startchar, t.endchar = start_char + start, start_char + end
        if keeporiginal:
            t.original = text
        return t


class AsciiStemFilter(Filter):
    """Porter-stem pure ASCII alphabetic tokens; codes, numbers and CJK pass unchanged."""

    is_morph = True

    def __call__(self, tokens):
        for t in tokens:
            if t.text.isascii() and t.text.isalpha():
                t.text = normalize_word(t.text)
            yield t


ANALYZER = PortalTokenizer() | LowercaseFilter() | AsciiStemFilter()


def phrase_tokens(text: str) -> list[str]:
    """The index tokens a query word or phrase must match at consecutive positions."""
    text = fold(text)
    segs = list(segments(text))
    out: list[str] = []
    for n, (kind, start, end, parts) in enumerate(segs):
        if kind == "word":
            out.extend(normalize_word(text[ps:pe]) for ps, pe in parts)
            continue
        run = text[start:end]
        if len(run) == 1:
            out.append(run)
            continue
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
        if n + 1 < len(segs):
            out.append(run[-1])
    return out


def exact_code(text: str) -> str | None:
    """The whole lower-cased code when `text` is one multi-part code (QR-SH009), else None."""
    segs = list(segments(fold(text).strip()))
    if len(segs) == 1 and segs[0][0] == "word" and len(segs[0][3]) > 1:
        _, start, end, _ = segs[0]
        return fold(text).strip()[start:end].lower()[:MAX_TOKEN]
    return None


def highlight_terms(text: str) -> list[str]:
    """What snippets mark for one query word or phrase: each CJK run whole (an
    ExactSequence match means the run occurs as it is, so its bigrams apart are not
    matches) and each word's index forms (its parts, and a code whole)."""
    text, out = fold(text), []
    for kind, start, end, parts in segments(text):
        if kind == "cjk":
            out.append(text[start:end])
            continue
        out.extend(normalize_word(text[ps:pe]) for ps, pe in parts)
        if len(parts) > 1:
            out.append(text[start:end].lower()[:MAX_TOKEN])
    return out


@dataclass
class ParsedQuery:
    """A user query turned into Whoosh: `query` is None when nothing searchable remains."""

    query: wq.Query | None
    terms: set[str] = field(default_factory=set)   # what snippets mark (highlight_terms)
    words: list[str] = field(default_factory=list)  # positive raw words, for "did you mean"


def check_text(q) -> str:
    """The query as clean text, or SearchSyntaxError (bytes must be UTF-8)."""
    if q is None:
        return ""
    if isinstance(q, bytes):
        try:
            q = q.decode("utf-8")
        except UnicodeDecodeError:
            raise SearchSyntaxError("The query is not valid UTF-8.", code="bad_encoding") from None
    if not isinstance(q, str):
        raise SearchSyntaxError("The query must be text.")
    try:
        q.encode("utf-8")
    except UnicodeEncodeError:
        raise SearchSyntaxError("The query is not valid UTF-8.", code="bad_encoding") from None
    if len(q) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"The query is longer than {MAX_QUERY_CHARS} characters.",
                                code="query_too_long")
    # Control characters (NUL included) are separators, never part of a word.
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in q).strip()


def lex(text: str) -> list[tuple[str, str]]:
    """Tokens ("(" | ")" | "op" | "quote" | "word", text); an unclosed quote runs to the end."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(（":
            tokens.append(("(", ch))
            i += 1
        elif ch in ")）":
            tokens.append((")", ch))
            i += 1
        elif ch in _QUOTES:
            end = text.find(_QUOTES[ch], i + 1)
            end = n if end < 0 else end
            tokens.append(("quote", text[i + 1:end]))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "(（)）" and text[j] not in _QUOTES:
                j += 1
            word = text[i:j]
            tokens.append(("op" if word in OPERATORS else "word", word))
            i = j
    return tokens


def parse_query(q, fields=SEARCH_FIELDS) -> ParsedQuery:
    """Parse free text: words AND-ed, "quoted phrases", OR, NOT, parentheses.

    Lenient on structure (an unclosed quote or parenthesis closes at the end, a stray
    ')' or a dangling operator is ignored); field syntax, wildcards and fuzzy marks
    (state:draft, *, ?, ~) are plain text, so they never reach a hidden field.
    Raises SearchSyntaxError for bad encoding, over-long or over-complex queries.
    """
    parser = _Parser(lex(check_text(q)), fields)
    return ParsedQuery(parser.parse(), parser.terms, parser.words)


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := unary (AND? unary)* ; unary := NOT unary | atom."""

    def __init__(self, tokens, fields):
        self.tokens, self.i, self.fields = tokens, 0, fields
        self.units, self.terms, self.words = 0, set(), []

    def parse(self):
        result = None
        while self.i < len(self.tokens):
            node = self._or(0, positive=True)
            result = node if result is None else (wq.And([result, node]) if node else result)
            if self.i < len(self.tokens) and self.tokens[self.i][0] == ")":
                self.i += 1  # a stray closing parenthesis
        return result

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def _or(self, depth, positive):
        if depth > MAX_DEPTH:
            raise SearchSyntaxError("The query is nested too deeply.", code="query_too_complex")
        parts = [self._and(depth, positive)]
        while self._peek() == ("op", "OR"):
            self.i += 1
            parts.append(self._and(depth, positive))
        parts = [p for p in parts if p is not None]
        return None if not parts else parts[0] if len(parts) == 1 else wq.Or(parts)

    def _and(self, depth, positive):
        parts = []
        while True:
            kind, text = self._peek()
            if kind is None or kind == ")" or (kind == "op" and text == "OR"):
                break
            if kind == "op" and text == "AND":
                self.i += 1
                continue
            parts.append(self._unary(depth, positive))
        parts = [p for p in parts if p is not None]
        return None if not parts else parts[0] if len(parts) == 1 else wq.And(parts)

    def _unary(self, depth, positive):
        if depth > MAX_DEPTH:
            raise SearchSyntaxError("The query is nested too deeply.", code="query_too_complex")
        kind, text = self._peek()
        if kind is None or kind == ")" or (kind == "op" and text != "NOT"):
            return None  # a dangling NOT: the caller deals with what follows
        self.i += 1
        if kind == "op":
            inner = self._unary(depth + 1, not positive)
            return wq.Not(inner) if inner is not None else None
        if kind == "(":
            node = self._or(depth + 1, positive)
            if self._peek()[0] == ")":
                self.i += 1
            return node
        return self._unit(text, positive)

    def _unit(self, text, positive):
        tokens = phrase_tokens(text)
        if not tokens:
            return None
        self.units += 1
        if self.units > MAX_UNITS:
            raise SearchSyntaxError(f"The query has more than {MAX_UNITS} words.",
                                    code="query_too_complex")
        if positive:
            self.terms.update(highlight_terms(text))
            self.words.append(text)
        alts = [wq.Term(name, tokens[0], boost=boost) if len(tokens) == 1
                else ExactSequence(name, tokens, boost=boost) for name, boost in self.fields]
        code = exact_code(text)
        if code:
            alts.append(wq.Term("ref_exact", code, boost=4.0))
        return wq.Or(alts)
