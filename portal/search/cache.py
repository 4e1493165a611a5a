"""What one index generation answers the same way every time, computed once per generation.

Every query carries the same implicit filters (the state rule, the caller's audience)
and needs the same per-document values (facets, rank, date, field lengths). Whoosh
rebuilds a filter query's document set on every search (~140 ms at 50,000 items) and
reads columns document by document, so this module keeps, per index generation, numpy
arrays indexed by global document number:

* the documents each filter query lets through, as boolean masks (one byte per
  document: 100 KB at 100,000 items); at most MAX_FILTERS of them, least recently
  used dropped first;
* a column's values, the live documents, and whatever else `memo` is asked to keep
  (scoring.py keeps field lengths there).

A generation is frozen: its document numbers and values never change, so entries
are shared by every thread's searcher on it (arrays are never written after they are
made; a lock guards only the bookkeeping, and two threads computing the same entry
at once only waste work). Only the newest KEEP_GENERATIONS generations are kept; a
searcher on an older one still works, it just computes afresh.
"""
import functools
import operator
import os
import threading
from collections import OrderedDict

import numpy as np
from whoosh import query as wq

MAX_FILTERS = 64
KEEP_GENERATIONS = 2
# Per-segment parts (columns, lengths, filter terms) outlive generations: a commit
# usually adds one small segment, so only that one is read again.
MAX_SEGMENT_PARTS = 1024

# Decoded posting lists (documents, frequencies, positions) of recently used terms,
# per segment; bounded by their size. 0 turns the cache off.
POSTINGS_BYTES = int(os.environ.get("PORTAL_SEARCH_CACHE_MB", "256")) * 2**20

_lock = threading.Lock()
_postings: "OrderedDict[tuple, object]" = OrderedDict()
_postings_bytes = 0
_generations: "OrderedDict[tuple, _Generation]" = OrderedDict()
_segment_parts: "OrderedDict[tuple, object]" = OrderedDict()


class _Generation:
    def __init__(self):
        self.filters: OrderedDict = OrderedDict()
        self.values: dict = {}


def _for(searcher) -> _Generation:
    reader = searcher.reader()
    folder = getattr(searcher, "portal_folder", None)
    if folder is None:  # no identity to key on: two indexes could share a generation number
        return _Generation()
    key = (folder, reader.generation(), reader.doc_count_all())
    with _lock:
        entry = _generations.get(key)
        if entry is None:
            entry = _generations[key] = _Generation()
            while len(_generations) > KEEP_GENERATIONS:
                _generations.popitem(last=False)
        return entry


def memo(searcher, key, compute):
    """`compute()` once per generation and `key`; the result must never be modified."""
    values = _for(searcher).values
    found = values.get(key)
    if found is None:
        found = values[key] = compute()
        if isinstance(found, np.ndarray):
            found.flags.writeable = False
    return found


def per_segment(searcher, key, compute):
    """`compute(segment_reader)` for every segment, cached per segment (segments never
    change, apart from deletions, which such values must not depend on); a list of
    (part, offset) in document-number order."""
    folder = getattr(searcher, "portal_folder", None)
    parts = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if not reader.doc_count_all():  # an empty index's reader has no columns at all
            continue
        segment = reader.segment() if reader.is_atomic() else None
        if segment is None or folder is None:  # no stable identity: compute afresh
            parts.append((compute(reader), offset))
            continue
        skey = (folder, segment.segment_id(), key)
        with _lock:
            part = _segment_parts.get(skey)
            if part is not None:
                _segment_parts.move_to_end(skey)
        if part is None:
            part = compute(reader)
            with _lock:
                _segment_parts[skey] = part
                while len(_segment_parts) > MAX_SEGMENT_PARTS:
                    _segment_parts.popitem(last=False)
        parts.append((part, offset))
    return parts


def segment_postings(searcher, reader, term: tuple, positions: bool, compute):
    """A term's postings in one segment (deletions not applied): `compute(decode)`
    with decode=True when the result will be cached, kept least recently used first out
    beyond POSTINGS_BYTES. A part read with positions also answers a request without."""
    global _postings_bytes
    folder = getattr(searcher, "portal_folder", None)
    if not POSTINGS_BYTES or folder is None or not reader.is_atomic():
        return compute(False)
    base = (folder, reader.segment().segment_id(), term)
    with _lock:
        for key in ((base, True), (base, False)) if not positions else ((base, True),):
            found = _postings.get(key)
            if found is not None:
                _postings.move_to_end(key)
                return found
    found = compute(True)
    size = found.nbytes
    if size > POSTINGS_BYTES // 4:  # one huge list would flush everything else
        return found
    with _lock:
        for stale in {(base, positions), (base, False)}:  # a list with positions answers both
            old = _postings.pop(stale, None)
            _postings_bytes -= old.nbytes if old is not None else 0
        _postings[(base, positions)] = found
        _postings_bytes += size
        while _postings_bytes > POSTINGS_BYTES:
            _, dropped = _postings.popitem(last=False)
            _postings_bytes -= dropped.nbytes
    return found


def concatenated(searcher, key, compute, dtype) -> np.ndarray:
    """One array by global document number from per-segment arrays, once per generation."""
    def whole():
        parts = [part for part, _ in per_segment(searcher, key, compute)]
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)
    return memo(searcher, ("concatenated", key), whole)


def filter_mask(searcher, query) -> np.ndarray:
    """Which (global) document numbers `query` matches, deleted documents excluded,
    as a read-only boolean array.

    And, Or and Not are combined from their parts' cached masks (a vector operation,
    well under a millisecond at 100,000 items); only leaf queries go to Whoosh.
    """
    filters = _for(searcher).filters
    with _lock:
        found = filters.get(query)
        if found is not None:
            filters.move_to_end(query)
            return found
    found = _compute(searcher, query)
    found.flags.writeable = False
    with _lock:
        filters[query] = found
        while len(filters) > MAX_FILTERS:
            filters.popitem(last=False)
    return found


def _compute(searcher, query) -> np.ndarray:
    if isinstance(query, wq.And):
        return functools.reduce(operator.and_, (filter_mask(searcher, q) for q in query.subqueries))
    if isinstance(query, wq.Or):
        return functools.reduce(operator.or_, (filter_mask(searcher, q) for q in query.subqueries))
    if isinstance(query, wq.Not):
        return live_mask(searcher) & ~filter_mask(searcher, query.query)
    if isinstance(query, wq.Term) and query.fieldname in searcher.schema:
        return _term_mask(searcher, query.fieldname, query.text) & live_mask(searcher)
    mask = np.zeros(searcher.reader().doc_count_all(), dtype=bool)
    mask[np.fromiter(searcher.docs_for_query(query), dtype=np.int64)] = True
    return mask


def _term_mask(searcher, field: str, text) -> np.ndarray:
    """Which documents hold the term, deleted ones included (segments cache it)."""
    btext = searcher.schema[field].to_bytes(text)

    def compute(reader):
        mask = np.zeros(reader.doc_count_all(), dtype=bool)
        if (field, btext) in reader:
            matcher = reader.postings(field, btext)
            matcher = getattr(matcher, "child", matcher)  # without the deletion filter
            mask[np.fromiter(matcher.all_ids(), dtype=np.int64)] = True
        return mask
    # Not concatenated(): the caller (filter_mask) keeps the result in its bounded LRU.
    parts = [part for part, _ in per_segment(searcher, ("term", field, btext), compute)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def live_mask(searcher) -> np.ndarray:
    """True for every document number not deleted."""
    def compute():
        mask = np.ones(searcher.reader().doc_count_all(), dtype=bool)
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            if reader.has_deletions():
                deleted = getattr(reader, "deleted_docs_set", None)
                if deleted is None:  # not a segment reader: ask document by document
                    deleted = [d for d in range(reader.doc_count_all()) if reader.is_deleted(d)]
                mask[offset + np.fromiter(deleted, dtype=np.int64)] = False
        return mask
    return memo(searcher, "live mask", compute)


def live_docs(searcher) -> np.ndarray:
    """The document numbers not deleted, ascending."""
    return memo(searcher, "live documents", lambda: np.flatnonzero(live_mask(searcher)))


def column(searcher, field: str, raw: bool = False) -> np.ndarray:
    """`field`'s number for every document number: the value of a NUMERIC column, or
    with `raw` the column's sortable form (also for DATETIME); 0 where missing."""
    def compute(reader):
        # Whoosh's default for a missing numeric value is 2**64 - 1 (raw) or None
        return np.array([v if v and v < 2**63 else 0 for v in reader.column_reader(field, translate=not raw)],
                        dtype=np.int64)
    return concatenated(searcher, ("column", field, raw), compute, np.int64)


def labels(searcher, field: str) -> tuple[np.ndarray, list]:
    """`field`'s values coded as small integers: (code per document, value per code),
    so counting values over many documents is one bincount. Code 0: no value."""
    def segment_codes(reader):
        values = list(reader.column_reader(field, translate=True))
        names = sorted({v for v in values if v}, key=str)
        code = {name: i for i, name in enumerate(names, start=1)}
        return np.fromiter((code.get(v, 0) for v in values), dtype=np.int32, count=len(values)), names

    def compute():
        parts = per_segment(searcher, ("labels", field), segment_codes)
        names = sorted({n for (_, seg_names), _ in parts for n in seg_names}, key=str)
        code = {name: i for i, name in enumerate(names, start=1)}
        coded = [np.array([0] + [code[n] for n in seg_names], dtype=np.int32)[codes]
                 for (codes, seg_names), _ in parts]
        return (np.concatenate(coded) if coded else np.empty(0, dtype=np.int32)), [None] + names
    return memo(searcher, ("labels", field), compute)
