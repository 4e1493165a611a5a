"""Searching for a user: permissions and filters inside the query, then paging.

Everything the caller may not see is removed by a filter mask before results are
counted, so totals, facet counts and "did you mean" never count hidden items.
"""
import re
from datetime import date, datetime, time

import numpy as np
from whoosh import query as wq

from portal.accounts.permissions import is_controller
from portal.audit.models import ACTION_STATES
from portal.change_requests.models import CHANGE_REQUEST_STATES
from portal.documents.models import HISTORIC_STATES, REVISION_STATES
from portal.management_review.models import REVIEW_STATES
from portal.procedures.models import RUN_STATES
from portal.records.models import RECORD_STATUSES
from portal.search.analyzer import SearchSyntaxError, check_text, normalize_word, parse_query
from portal.search.cache import column, filter_mask, labels, live_docs
from portal.search.index import get_searcher
from portal.search.schema import clause_term, yyyymmdd
from portal.search.scoring import evaluate
from portal.search.snippets import snippet

SEARCH_KINDS = ("document", "record", "finding", "action", "run", "change_request", "management_review")
STATES = tuple(dict.fromkeys(REVISION_STATES + RECORD_STATUSES + ACTION_STATES + RUN_STATES
                            + CHANGE_REQUEST_STATES + REVIEW_STATES))
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
    # every filter's document mask is cached per index generation (cache.py)
    allowed = filter_mask(searcher, wq.And(parts)) if parts else None
    order = "date" if parsed.query is None else sort
    docs, scores = _matches(searcher, parsed.query, allowed)
    total = len(docs)
    start = (page - 1) * per_page
    picked = _ordered(searcher, docs, scores, order, start + per_page)[start:] if start < total else []
    hits = [_hit(searcher.stored_fields(int(docs[i])), scores[i], parsed.terms) for i in picked]
    facets = {name: _facet(searcher, name, docs) for name in FACETS}
    suggestions = _suggest(searcher, parsed, q, allowed) if total == 0 and parsed.words else []
    return _result(total, page, per_page, hits, facets, suggestions)


def _matches(searcher, query, allowed) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, scores) of every match the caller may see.

    Every match is scored exactly (scoring.py): totals and facets need all of them
    anyway, and Whoosh's pruned top-N was measured to drop better hits (BENCHMARKS.md).
    """
    if query is None:  # browsing by filters: everything allowed, unscored
        docs = np.flatnonzero(allowed) if allowed is not None else live_docs(searcher)
        return docs, np.zeros(len(docs))
    docs, scores = evaluate(searcher, query)
    if allowed is not None:
        keep = allowed[docs]
        docs, scores = docs[keep], scores[keep]
    return docs, scores


def _ordered(searcher, docs, scores, order: str, need: int) -> np.ndarray:
    """Positions in `docs` of the first `need` results: current versions before
    superseded/voided ones, each by score (equal scores by document number); or
    newest first, then by score."""
    if order == "date":
        newest = -column(searcher, "date", raw=True)[docs]
        return _top(np.arange(len(docs)), newest, scores, docs, need)
    later = column(searcher, "rank")[docs].astype(bool)
    first = _top(np.flatnonzero(~later), -scores, scores, docs, need)
    if len(first) == need:
        return first
    return np.concatenate((first, _top(np.flatnonzero(later), -scores, scores, docs, need - len(first))))


def _top(positions, key, scores, docs, n: int) -> np.ndarray:
    """The `n` best of `positions` by (key, -score, document number), in that order;
    a partition first, so only the candidates (ties at the cut included) are sorted."""
    if n < len(positions):
        cut = np.partition(key[positions], n - 1)[n - 1]
        positions = positions[key[positions] <= cut]
    order = np.lexsort((docs[positions], -scores[positions], key[positions]))
    return positions[order][:n]


def _facet(searcher, name: str, docs) -> dict:
    codes, names = labels(searcher, name)
    counts = np.bincount(codes[docs], minlength=len(names))
    return _counts({names[i]: int(n) for i, n in enumerate(counts) if i and n})


def _result(total, page, per_page, hits, facets, suggestions) -> dict:
    facets = {name: facets.get(name, {}) for name in FACETS}
    return {"total": total, "page": page, "per_page": per_page, "hits": hits,
            "facets": facets, "suggestions": suggestions}


def _counts(groups: dict) -> dict:
    return dict(sorted(groups.items(), key=lambda kv: (-kv[1], str(kv[0]))))


def _number(value, name: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 12:
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
    if check is None or not len(_matches(searcher, check, allowed)[0]):
        return []
    return [fixed]
