"""Searching for a user: permissions and filters inside the query, then paging.

Everything the caller may not see is removed by a Whoosh *filter* before results
are collected, so totals, facet counts and "did you mean" never count hidden items.
"""
import heapq
import re
from collections import Counter
from datetime import date, datetime, time

from whoosh import collectors
from whoosh import query as wq

from portal.accounts.permissions import is_controller
from portal.documents.models import HISTORIC_STATES, REVISION_STATES
from portal.records.models import RECORD_STATUSES
from portal.search.analyzer import SearchSyntaxError, check_text, normalize_word, parse_query
from portal.search.cache import column, filter_docs
from portal.search.index import get_searcher
from portal.search.schema import clause_term, yyyymmdd
from portal.search.snippets import snippet

SEARCH_KINDS = ("document", "record", "finding", "action")
STATES = tuple(dict.fromkeys(REVISION_STATES + RECORD_STATUSES))
FACETS = ("kind", "department", "state")
MAX_PER_PAGE = 100
MAX_FILTER_CHARS = 200


def search(user, q=None, kind=None, department=None, clause=None, form=None, state=None,
           as_of=None, date_from=None, date_to=None, sort="relevance", page=1, per_page=20,
           **unknown) -> dict:
    """Search what `user` may see; the contract's shape plus per_page and suggestions.

    `q`: words (all must occur), "phrases", OR, NOT, parentheses; at most 1,000
    characters (longer is a SearchSyntaxError, not silently cut). An empty `q` with
    filters lists everything matching, newest first; with no filters it is an empty
    result. By default documents are searched in their effective revision and records
    in any state but disposed; `state="any"` adds superseded/obsolete revisions (and
    drafts the caller takes part in); `as_of` gives the revisions effective that day
    and records created by then. Bad input raises SearchSyntaxError (HTTP 400).
    """
    if unknown:
        raise SearchSyntaxError(f"Unknown search filter: {', '.join(sorted(unknown))}.",
                                code="unknown_filter")
    page = _number(page, "page", 1, 10**9)
    per_page = min(_number(per_page, "per_page", 1, 10**9), MAX_PER_PAGE)
    sort = _one_of(sort or "relevance", ("relevance", "date"), "sort")
    q = check_text(q)  # bytes decoded, control characters gone, length checked
    parsed = parse_query(q)
    as_of_day = _day(as_of, "as_of")
    state = _one_of(state, ("any",) + STATES, "state") if state else None
    filters = _filters(kind, department, clause, form, date_from, date_to)
    permitted = _permission(user)
    browsing_nothing = parsed.query is None and not (filters or state or as_of_day)
    if browsing_nothing or permitted is False:
        return _result(0, page, per_page, [], {}, [])
    searcher = get_searcher()
    parts = [p for p in (permitted, _state_filter(state, as_of_day)) if p is not None] + filters
    # every filter's document set is cached per index generation (cache.py)
    allowed = filter_docs(searcher, wq.And(parts)) if parts else None
    order = "date" if parsed.query is None else sort
    items = _matches(searcher, parsed.query, allowed)
    total = len(items)
    start = (page - 1) * per_page
    page_items = _ordered(searcher, items, order, start + per_page)[start:] if start < total else []
    hits = [_hit(searcher.stored_fields(docnum), score, parsed.terms) for score, docnum in page_items]
    docnums = [d for _, d in items]
    facets = {name: _counts(Counter(map(column(searcher, name).__getitem__, docnums))) for name in FACETS}
    suggestions = _suggest(searcher, parsed, q, allowed) if total == 0 and parsed.words else []
    return _result(total, page, per_page, hits, facets, suggestions)


def _matches(searcher, query, allowed) -> list[tuple[float, int]]:
    """(score, docnum) of every match the caller may see, in no particular order.

    Every match is scored in one pass: totals and facets need all of them anyway, and
    Whoosh's pruned top-N was measured to drop better hits (BENCHMARKS.md).
    """
    if query is None:  # browsing by filters: everything allowed, unscored
        docs = allowed if allowed is not None else searcher.reader().all_doc_ids()
        return [(0.0, d) for d in docs]
    if allowed is not None and not allowed:
        return []  # (an empty allow set would mean "no filter" to Whoosh)
    collector = _AllMatches()
    searcher.search_with_collector(query, collectors.FilterCollector(collector, allow=allowed)
                                   if allowed is not None else collector)
    return collector.items


class _AllMatches(collectors.ScoredCollector):
    """Every match with its score, unsorted: Whoosh's UnlimitedCollector also sorts
    them all and keeps a set of them, which is wasted work when only a page is shown.
    No matcher replacement either (replace=0): it exists for pruning, which this
    collector never does."""

    def __init__(self):
        super().__init__(replace=0)

    def _collect(self, global_docnum, score):
        self.items.append((score, global_docnum))
        return -score

    def results(self):
        return self._results(self.items)


def _by_score(item):
    return -item[0], item[1]


def _ordered(searcher, items: list, order: str, need: int) -> list:
    """The first `need` items: current versions before superseded/voided ones, each by
    score (equal scores by document number); or newest first, then by score."""
    if order == "date":
        dates = column(searcher, "date", raw=True)
        return heapq.nsmallest(need, items, key=lambda it: (-dates[it[1]], -it[0], it[1]))
    ranks = column(searcher, "rank")
    first = [it for it in items if not ranks[it[1]]]
    if len(first) >= need:
        return heapq.nsmallest(need, first, key=_by_score)
    later = [it for it in items if ranks[it[1]]]
    return sorted(first, key=_by_score) + heapq.nsmallest(need - len(first), later, key=_by_score)


def _result(total, page, per_page, hits, facets, suggestions) -> dict:
    facets = {name: facets.get(name, {}) for name in FACETS}
    return {"total": total, "page": page, "per_page": per_page, "hits": hits,
            "facets": facets, "suggestions": suggestions}


def _counts(groups: dict) -> dict:
    return {k: v for k, v in sorted(groups.items(), key=lambda kv: (-kv[1], str(kv[0]))) if k}


def _number(value, name: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SearchSyntaxError(f"{name} must be a whole number from {low}.", code=f"bad_{name}")
    return value


def _text(value, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_FILTER_CHARS or "\x00" in value:
        raise SearchSyntaxError(f"Invalid value for {name}.", code=f"bad_{name}")
    return value.strip() or None


def _one_of(value, allowed: tuple, name: str) -> str:
    if value not in allowed:
        raise SearchSyntaxError(f"{name} must be one of: {', '.join(allowed)}.", code=f"bad_{name}")
    return value


def _day(value, name: str) -> date | None:
    if value is None or value == "" or (isinstance(value, date) and not isinstance(value, datetime)):
        return value or None
    try:
        return date.fromisoformat(_text(value, name))
    except (TypeError, ValueError):
        raise SearchSyntaxError(f"{name} must be a date YYYY-MM-DD.", code=f"bad_{name}") from None


def _values(value, name: str) -> list[str]:
    text = _text(value, name)
    return [v.strip() for v in text.split(",") if v.strip()] if text else []


def _any_of(field: str, values: list[str]):
    terms = [wq.Term(field, v) for v in dict.fromkeys(values)]
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def _filters(kind, department, clause, form, date_from, date_to) -> list:
    """Explicit filters as Whoosh queries (the implicit state rule is separate)."""
    out = []
    kinds = [_one_of(k, SEARCH_KINDS, "kind") for k in _values(kind, "kind")]
    if kinds:
        out.append(_any_of("kind", kinds))
    departments = _values(department, "department")
    if departments:
        out.append(_any_of("department", departments + [d.upper() for d in departments]))
    if _text(clause, "clause"):
        out.append(wq.Term("clauses", clause_term(clause)))
    if _text(form, "form"):
        out.append(wq.Term("form", form.strip().lower()))
    low, high = _day(date_from, "date_from"), _day(date_to, "date_to")
    if low or high:
        if low and high and low > high:
            raise SearchSyntaxError("date_from is after date_to.", code="bad_date_range")
        out.append(wq.DateRange("date", datetime.combine(low, time.min) if low else None,
                                datetime.combine(high, time.max) if high else None))
    return out


def _state_filter(state, as_of: date | None):
    """Which versions count: effective revisions and live records unless asked otherwise."""
    is_doc = wq.Term("kind", "document")
    if as_of:
        day = yyyymmdd(as_of)
        docs = wq.And([is_doc, _any_of("state", list(HISTORIC_STATES)),
                       wq.NumericRange("effective_from", 1, day),
                       wq.NumericRange("effective_to", day, None, startexcl=True)])
        others = wq.And([wq.Not(is_doc), wq.DateRange("date", None, datetime.combine(as_of, time.max))])
        base = wq.Or([docs, others])
        if state == "any":
            return base
        return wq.And([base, wq.Term("state", state) if state else wq.Not(wq.Term("state", "disposed"))])
    if state == "any":
        return None
    if state:
        return wq.Term("state", state)
    return wq.Or([wq.And([is_doc, wq.Term("state", "effective")]),
                  wq.And([wq.Not(is_doc), wq.Not(wq.Term("state", "disposed"))])])


def _permission(user):
    """The audience filter for `user`: None for everything, False for nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_read_only:
        return wq.Term("tour", "yes")
    if is_controller(user):
        return None
    audience = ["all", f"user:{user.id}"]
    if user.department_id:
        audience.append(f"dept:{user.department_id}")
    return _any_of("audience", audience)


def _hit(stored: dict, score: float | None, terms: set) -> dict:
    day = stored.get("date")
    return {"kind": stored.get("kind"), "id": stored.get("obj_id"), "doc_id": stored.get("doc_id"),
            "title": stored.get("title", ""), "ref": stored.get("ref", ""),
            "revision": stored.get("revision_label"), "state": stored.get("state"),
            "date": day.date().isoformat() if day else None,
            "score": round(float(score), 4) if score is not None else None,
            "snippet": snippet(stored.get("excerpt", ""), terms)}


def _suggest(searcher, parsed, q: str, allowed) -> list[str]:
    """'Did you mean': Latin words without hits replaced by the nearest indexed word.

    Offered only if the corrected query finds something *this caller* may see, so a
    suggestion never reveals words of hidden documents.
    """
    reader, corrector, fixed = searcher.reader(), searcher.corrector("spell"), q
    for word in parsed.words:
        lower = word.lower()
        if not (lower.isascii() and lower.isalpha() and len(lower) >= 3):
            continue
        if any(reader.doc_frequency(f, normalize_word(lower)) for f in ("ref", "title", "body")):
            continue
        found = corrector.suggest(lower, limit=1, maxdist=2, prefix=1)
        if found:
            fixed = re.sub(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", found[0], fixed, count=1)
    if fixed == q:
        return []
    check = parse_query(fixed).query
    if check is None or searcher.search(check, filter=allowed, limit=1).is_empty():
        return []
    return [fixed]
