"""Every match of a parsed query with its exact BM25F score, whole posting lists at a time.

Whoosh scores one posting at a time through a tree of Python matcher objects: about
5 µs per posting and per query node, 300 ms for a common Chinese word at 100,000
items. The portal needs every match anyway (exact totals, facets, current versions
first), so this module reads each term's posting list block by block into numpy
arrays and computes the same BM25F formula over the whole array at once:

* Term: the term's postings in every segment, deleted documents dropped, scored
  `idf · tf·(K1+1) / (tf + K1·(1−B + B·len/avglen))` times the query's boost, with
  Whoosh's own idf, average length and byte-coded field lengths;
* ExactSequence (a Chinese word or a quoted phrase): documents holding every token,
  kept where token i occurs at p + i for some p (one integer-key intersection per
  token), scored as the sum of its tokens' scores, as Whoosh's phrase matcher does;
* And: the intersection, scores added; a Not inside it drops its documents and adds
  1.0 (Whoosh's InverseMatcher scores 1.0);
* Or: the union, scores of the parts that match added;
* Not alone: every live document, score 1.0.

The results equal Whoosh's matcher tree (tests/search/test_scoring.py compares them
on a generated corpus); only the order of float additions may differ, by an ulp.
It reads Whoosh 2.7's W3 posting blocks (whoosh-reloaded is pinned), and falls back
to the generic matcher interface for any other posting format.
"""
from __future__ import annotations

import pickle

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

from portal.search import cache
from portal.search.sequence import ExactSequence

EMPTY = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
# Keys of (document, position) pairs for the sequence check: positions stay below this.
_POSITION_SPACE = 1 << 32


def evaluate(searcher, query) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers ascending, their scores) of every live document `query` matches."""
    if isinstance(query, wq.Term):
        return _term(searcher, query)
    if isinstance(query, ExactSequence) and query.slop == 1:
        return _sequence(searcher, query)
    if isinstance(query, (wq.And, wq.Or)):
        subs = query.subqueries
        if len(subs) < 2:  # Whoosh ignores the boost of a compound of one
            return evaluate(searcher, subs[0]) if subs else EMPTY
        found = (_and if isinstance(query, wq.And) else _or)(searcher, subs)
        return _boosted(found, query.boost)
    if isinstance(query, wq.Not):
        docs = np.setdiff1d(cache.live_docs(searcher), evaluate(searcher, query.query)[0],
                            assume_unique=True)
        return docs, np.ones(len(docs))
    raise TypeError(f"scoring.evaluate does not handle {type(query).__name__}")


def _common(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) with a[i] == b[j], for two ascending arrays without duplicates: a
    binary search of each element of the shorter one in the longer (no sorting)."""
    if len(a) > len(b):
        j, i = _common(b, a)
        return i, j
    j = np.searchsorted(b, a)
    found = j < len(b)
    found[found] = b[j[found]] == a[found]
    return np.flatnonzero(found), j[found]


def _boosted(result, boost: float):
    docs, scores = result
    return (docs, scores * boost) if boost != 1.0 else result


def _and(searcher, subqueries) -> tuple[np.ndarray, np.ndarray]:
    positive = [q for q in subqueries if not isinstance(q, wq.Not)]
    negative = [q.query for q in subqueries if isinstance(q, wq.Not)]
    if not positive:  # only NOTs: Whoosh intersects their inverses
        return _and_not(evaluate(searcher, wq.Not(negative[0])), searcher, negative[1:], 1.0)
    parts = sorted((evaluate(searcher, q) for q in positive), key=lambda p: len(p[0]))
    docs, scores = parts[0]
    for other_docs, other_scores in parts[1:]:
        if not len(docs):
            return EMPTY
        i, j = _common(docs, other_docs)
        docs, scores = docs[i], scores[i] + other_scores[j]
    return _and_not((docs, scores), searcher, negative, 1.0)


def _and_not(result, searcher, negative, bonus: float):
    docs, scores = result
    for q in negative:
        if not len(docs):
            return EMPTY
        keep = np.ones(len(docs), dtype=bool)
        keep[_common(docs, evaluate(searcher, q)[0])[0]] = False
        docs, scores = docs[keep], scores[keep] + bonus
    return docs, scores


def _or(searcher, subqueries) -> tuple[np.ndarray, np.ndarray]:
    parts = [p for p in (evaluate(searcher, q) for q in subqueries) if len(p[0])]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    all_docs = np.concatenate([d for d, _ in parts])
    docs, where = np.unique(all_docs, return_inverse=True)
    scores = np.zeros(len(docs))
    np.add.at(scores, where, np.concatenate([s for _, s in parts]))
    return docs, scores


def _term(searcher, term) -> tuple[np.ndarray, np.ndarray]:
    found = _postings(searcher, term.fieldname, term.text, positions=False)
    if found is None:
        return EMPTY
    return found.docs, _bm25(searcher, term.fieldname, term.text, found.docs, found.tfs) * term.boost


def _sequence(searcher, phrase) -> tuple[np.ndarray, np.ndarray]:
    lists = []
    for word in phrase.words:
        found = _postings(searcher, phrase.fieldname, word, positions=True)
        if found is None:
            return EMPTY
        lists.append(found)
    candidates = lists[0].docs
    for other in lists[1:]:
        candidates = candidates[_common(candidates, other.docs)[0]]
    if not len(candidates):
        return EMPTY
    keys = None
    for offset, term in enumerate(lists):
        mine = term.position_keys(_common(term.docs, candidates)[0], offset)
        keys = mine if keys is None else keys[_common(keys, mine)[0]]
        if not len(keys):
            return EMPTY
    matched = np.unique(keys // _POSITION_SPACE)
    scores = np.zeros(len(matched))
    for word, term in zip(phrase.words, lists):
        where = np.searchsorted(term.docs, matched)
        scores += _bm25(searcher, phrase.fieldname, word, matched, term.tfs[where])
    return matched, scores * phrase.boost


class _Postings:
    """A term's postings: documents ascending, term frequencies and, when read with
    positions, either Whoosh's raw position values (`values[rows[i]]` belongs to
    docs[i]) or all of them decoded (docs[i]'s positions are flat[starts[i]:][:counts[i]]).

    Decoding is most of a phrase's cost (about 1 µs per posting). Uncached, only the
    documents holding every token of the phrase are decoded, per query; a list going
    into the postings cache is decoded whole once, and phrase checks on it are then
    pure array operations."""

    def __init__(self, docs, tfs, values=None, rows=None, starts=None, counts=None, flat=None):
        self.docs, self.tfs, self.values, self.rows = docs, tfs, values, rows
        self.starts, self.counts, self.flat = starts, counts, flat

    @classmethod
    def decoded(cls, docs, tfs, values) -> "_Postings":
        deltas = [pickle.loads(v[4:] + b".") for v in values]
        counts, positions = _positions(deltas)
        return cls(docs, tfs, starts=np.cumsum(counts) - counts, counts=counts, flat=positions.astype(np.int32))

    @property
    def nbytes(self) -> int:
        raw = sum(map(len, self.values)) + 41 * len(self.values) if self.values is not None else 0
        arrays = (self.docs, self.tfs, self.rows, self.starts, self.counts, self.flat)
        return raw + sum(a.nbytes for a in arrays if a is not None)

    def select(self, keep: np.ndarray) -> "_Postings":
        def cut(a):
            return a[keep] if a is not None else None
        return _Postings(self.docs[keep], self.tfs[keep], self.values, cut(self.rows),
                         cut(self.starts), cut(self.counts), self.flat)

    def position_keys(self, rows: np.ndarray, offset: int) -> np.ndarray:
        """Unique keys doc·2³² + (position − offset) for every position in `rows`."""
        if self.flat is not None:
            starts, counts = self.starts[rows], self.counts[rows]
            first = np.cumsum(counts) - counts  # where each row's run begins once gathered
            index = np.repeat(starts - first, counts) + np.arange(int(counts.sum()))
            positions = self.flat[index].astype(np.int64)
        else:
            values = self.values
            counts, positions = _positions([pickle.loads(values[i][4:] + b".")
                                            for i in self.rows[rows].tolist()])
        # ascending already (documents ascending, each one's positions ascending), no duplicates
        return np.repeat(self.docs[rows], counts) * _POSITION_SPACE + positions - offset

    @classmethod
    def join(cls, parts: list[tuple["_Postings", int]]) -> "_Postings":
        """Segments' postings as one, their document numbers moved by each offset."""
        if len(parts) == 1 and parts[0][1] == 0:
            return parts[0][0]
        docs = np.concatenate([p.docs + offset for p, offset in parts])
        tfs = np.concatenate([p.tfs for p, _ in parts])
        if all(p.flat is not None for p, _ in parts):
            shift = np.cumsum([0] + [len(p.flat) for p, _ in parts[:-1]])
            return cls(docs, tfs, starts=np.concatenate([p.starts + k for (p, _), k in zip(parts, shift)]),
                       counts=np.concatenate([p.counts for p, _ in parts]),
                       flat=np.concatenate([p.flat for p, _ in parts]))
        if all(p.values is not None for p, _ in parts):
            shift = np.cumsum([0] + [len(p.values) for p, _ in parts[:-1]])
            return cls(docs, tfs, [v for p, _ in parts for v in p.values],
                       np.concatenate([p.rows + k for (p, _), k in zip(parts, shift)]))
        # Parts of a request without positions: some segments may answer from a cached
        # list that has them, others not.
        return cls(docs, tfs)


def _positions(deltas: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(count per document, absolute positions) from Whoosh's per-document delta lists
    (a Positions value is a 4-byte count, then a pickled list of deltas whose final
    STOP byte may have been stripped)."""
    counts = np.fromiter(map(len, deltas), dtype=np.int64, count=len(deltas))
    flat = np.fromiter((d for ds in deltas for d in ds), dtype=np.int64, count=int(counts.sum()))
    positions = np.cumsum(flat)
    starts = np.cumsum(counts) - counts  # each document's first delta restarts from 0
    positions -= np.repeat(np.concatenate(([0], positions))[starts], counts)
    return counts, positions


def _bm25(searcher, field: str, text, docs: np.ndarray, tfs: np.ndarray) -> np.ndarray:
    """Whoosh's BM25F (scoring.bm25) for one term over arrays; a field without lengths
    (ID, KEYWORD) scores its weight, as Whoosh's WeightScorer does."""
    weighting = searcher.weighting
    if not searcher.schema[field].scorable:
        return tfs
    b = weighting._field_B.get(field, weighting.B)
    k1 = weighting.K1
    idf = searcher.idf(field, text)
    avg = searcher.avg_field_length(field) or 1
    lengths = cache.concatenated(searcher, ("lengths", field),
                                 lambda reader: _segment_lengths(reader, field), np.float64)[docs]
    return idf * ((tfs * (k1 + 1)) / (tfs + k1 * ((1 - b) + b * lengths / avg)))


def _segment_lengths(reader, field: str) -> np.ndarray:
    """One segment's byte-coded lengths of `field`, decoded, by document number."""
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    if hasattr(perdoc, "_cached_reader"):  # W3 segments: one column read
        column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if column is None:
            return np.zeros(count)
        return _BYTE_LENGTHS[np.fromiter(column, dtype=np.uint8, count=count)]
    return np.array([reader.doc_field_length(doc, field, 0) or 0 for doc in range(count)], dtype=np.float64)


def _postings(searcher, field: str, text, positions: bool) -> _Postings | None:
    """A term's postings over all segments, deleted documents dropped; None when no
    segment has the term. Each segment's part is cached (cache.segment_postings)."""
    if field not in searcher.schema:
        return None
    try:
        btext = searcher.schema[field].to_bytes(text)
    except ValueError:
        return None
    parts = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if (field, btext) in reader:
            part = cache.segment_postings(
                searcher, reader, (field, btext), positions,
                lambda decode: _read_segment(reader, field, btext, positions, decode))
            parts.append((part, offset))
    if not parts:
        return None
    found = _Postings.join(parts)
    if searcher.reader().has_deletions():
        found = found.select(cache.live_mask(searcher)[found.docs])
    return found


def _read_segment(reader, field: str, btext: bytes, positions: bool, decode: bool) -> _Postings:
    """One segment's postings of a term, deleted documents included; with `decode`,
    positions decoded whole (for the cache)."""
    matcher = reader.postings(field, btext)
    if isinstance(matcher, FilterMatcher):  # deletions are applied per generation instead
        matcher = matcher.child
    ids, weights, values = _read_all(matcher, positions)
    if not positions:
        return _Postings(ids, weights)
    if decode:
        return _Postings.decoded(ids, weights, values)
    return _Postings(ids, weights, values, np.arange(len(ids)))


def _read_all(matcher, positions: bool):
    """A segment's whole posting list: W3 blocks decoded at once, else one by one."""
    ids, weights, values = [], [], []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            raw_ids, raw_weights, raw_values = matcher._data
            block = np.cumsum(np.asarray(raw_ids, dtype=np.int64))  # stored as deltas
            ids.append(block)
            if raw_weights is None or isinstance(raw_weights, float):
                weights.append(np.full(len(block), 1.0 if raw_weights is None else raw_weights))
            else:
                weights.append(np.asarray(raw_weights, dtype=np.float64))
            if positions:
                values.extend(raw_values)
            matcher._next_block()
        if not ids:
            return np.empty(0, dtype=np.int64), np.empty(0), []
        return np.concatenate(ids), np.concatenate(weights), values
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        if positions:
            values.append(matcher.value())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64), values
