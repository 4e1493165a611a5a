"""What one index generation answers the same way every time, computed once per generation.

Every query carries the same implicit filters (the state rule, the caller's audience)
and needs the same per-document values (facets, rank, date). Whoosh rebuilds a filter
query's document set on every search (~140 ms at 50,000 items) and reads columns
document by document, so this module keeps, per index generation:

* the document numbers each filter query lets through, as frozensets (C-speed
  membership and intersection); at most MAX_FILTERS of them, least recently used
  dropped first;
* a column's values as one list indexed by document number.

A generation is frozen: its document numbers and values never change, so entries
are shared by every thread's searcher on it (they are immutable; a lock guards only
the bookkeeping, and two threads computing the same entry at once only waste work). Only the newest
KEEP_GENERATIONS generations are kept; a searcher on an older one still works, it
just computes afresh.
"""
import functools
import operator
import threading
from collections import OrderedDict

from whoosh import query as wq

# A set costs about 75 bytes per document it holds (table and int objects): ~7 MB
# for one that lets 90 % of 100,000 items through. MAX_FILTERS bounds a generation's
# cache at ~170 MB there; composites dropped from it are rebuilt from their parts.
MAX_FILTERS = 24
KEEP_GENERATIONS = 2

_lock = threading.Lock()
_generations: "OrderedDict[tuple, _Generation]" = OrderedDict()


class _Generation:
    def __init__(self):
        self.filters: OrderedDict = OrderedDict()
        self.columns: dict = {}


def _for(searcher) -> _Generation:
    reader = searcher.reader()
    key = (getattr(searcher, "portal_folder", None), reader.generation(), reader.doc_count_all())
    with _lock:
        entry = _generations.get(key)
        if entry is None:
            entry = _generations[key] = _Generation()
            while len(_generations) > KEEP_GENERATIONS:
                _generations.popitem(last=False)
        return entry


def filter_docs(searcher, query) -> frozenset:
    """The (global) document numbers `query` matches, deleted documents excluded.

    And, Or and Not are combined from their parts' cached sets (C-level set
    operations, a few ms at 100,000 items), so a composite dropped from the cache
    comes back cheaply; only leaf queries go to Whoosh.
    """
    filters = _for(searcher).filters
    with _lock:
        found = filters.get(query)
        if found is not None:
            filters.move_to_end(query)
            return found
    found = _compute(searcher, query)
    with _lock:
        filters[query] = found
        while len(filters) > MAX_FILTERS:
            filters.popitem(last=False)
    return found


def _compute(searcher, query) -> frozenset:
    if isinstance(query, wq.And):
        return functools.reduce(operator.and_, (filter_docs(searcher, q) for q in query.subqueries))
    if isinstance(query, wq.Or):
        return functools.reduce(operator.or_, (filter_docs(searcher, q) for q in query.subqueries))
    if isinstance(query, wq.Not):
        return _live(searcher) - filter_docs(searcher, query.query)
    return frozenset(searcher.docs_for_query(query))


def _live(searcher) -> frozenset:
    columns = _for(searcher).columns
    live = columns.get("live documents")
    if live is None:
        live = columns["live documents"] = frozenset(searcher.reader().all_doc_ids())
    return live


def column(searcher, field: str, raw: bool = False) -> list:
    """`field`'s value for every document number: Python values, or with `raw` the
    column's sortable form (numbers for NUMERIC and DATETIME; 0 where missing)."""
    columns = _for(searcher).columns
    values = columns.get((field, raw))
    if values is None:
        reader = searcher.reader().column_reader(field, translate=not raw)
        values = columns[(field, raw)] = list(reader)
    return values
