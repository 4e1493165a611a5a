"""When to merge index segments.

Each drain commit writes one new segment. Merging in Whoosh (``add_reader``)
re-sorts every posting in Python and costs about as much as indexing the
documents afresh (measured: 22 s to merge 2,000 items, 10 s to index them).
whoosh-reloaded 2.7.5's default policy (MERGE_SMALL) kept re-merging the same
large segments as a backlog was drained: ~70 % of the indexer's time at 50,000
items. So:

* small segments (the one-request commits of normal use) merge by size tiers:
  once FACTOR segments of about the same size exist (the one being committed
  counts), they become one. Each small document is rewritten log_FACTOR times.
* segments of LARGE live documents or more (a backlog drain commits every
  COMMIT_ROWS rows) are left alone, until there are more than MAX_SEGMENTS
  segments in all; then the smallest are merged, as few as needed.
* segments left with nothing but deletions are dropped.
"""
from collections import defaultdict

from whoosh.reading import SegmentReader

BASE = 100
FACTOR = 5
LARGE = 10_000
MAX_SEGMENTS = 16


def tier(docs: int) -> int:
    """The size tier of a segment with `docs` live documents."""
    level, limit = 0, BASE * FACTOR
    while docs >= limit:
        level, limit = level + 1, limit * FACTOR
    return level


def choose(sizes: list[int], incoming: int) -> list[int]:
    """Indexes into `sizes` (live documents per existing segment) to merge into the
    segment being written, which holds `incoming` new documents."""
    merge = {i for i, n in enumerate(sizes) if n == 0}
    tiers = defaultdict(list)
    for i, n in enumerate(sizes):
        if 0 < n < LARGE:
            tiers[tier(n)].append(i)
    incoming_tier = tier(incoming) if 0 < incoming < LARGE else None
    for level, members in tiers.items():
        if len(members) + (level == incoming_tier) >= FACTOR:
            merge.update(members)
    rest = sorted((i for i in range(len(sizes)) if i not in merge), key=lambda i: sizes[i])
    excess = len(rest) + 1 - MAX_SEGMENTS  # + 1: the segment being written
    merge.update(rest[:max(0, excess)])
    return sorted(merge)


def tiered_merge(writer, segments: list) -> list:
    """Whoosh merge policy (``writer.commit(mergetype=tiered_merge)``): returns the
    segments kept as they are; the others are added to the segment being written."""
    chosen = set(choose([s.doc_count() for s in segments], writer.docnum - writer.docbase))
    for i in sorted(chosen):
        reader = SegmentReader(writer.storage, writer.schema, segments[i])
        writer.add_reader(reader)
        reader.close()
    return [s for i, s in enumerate(segments) if i not in chosen]
