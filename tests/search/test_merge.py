"""The merge policy: small segments merge by size tiers, large ones stay put until
there are too many, and a backlog drain writes few segments without rewriting."""
import os

from portal.extensions import db
from portal.search import index as search_index
from portal.search import indexer
from portal.search import merge
from portal.search.merge import FACTOR, LARGE, MAX_SEGMENTS, choose, tier
from portal.search.outbox import enqueue


def test_tiers_grow_by_the_factor():
    assert tier(1) == tier(merge.BASE * FACTOR - 1) == 0
    assert tier(merge.BASE * FACTOR) == 1
    assert tier(merge.BASE * FACTOR ** 2) == 2


def test_small_segments_of_one_tier_merge_once_the_tier_is_full():
    assert choose([3] * (FACTOR - 2), incoming=1) == []  # the tier is not full yet
    assert choose([3] * (FACTOR - 1), incoming=1) == list(range(FACTOR - 1))
    # a full tier of bigger segments is merged without touching the small ones
    big = merge.BASE * FACTOR
    assert choose([big] * FACTOR + [2], incoming=1) == list(range(FACTOR))


def test_large_segments_are_not_rewritten_until_there_are_too_many():
    sizes = [LARGE] * (MAX_SEGMENTS - 1)
    assert choose(sizes, incoming=LARGE) == []
    sizes = [LARGE + i for i in range(MAX_SEGMENTS + 1)]
    # just enough of the smallest to end with MAX_SEGMENTS segments
    assert choose(sizes, incoming=LARGE) == [0, 1]


def test_segments_left_with_only_deletions_are_dropped():
    assert choose([LARGE, 0, 5], incoming=1) == [1]


def test_index_segments_are_separate_files_not_compound(doc, drain):
    """whoosh-reloaded copies a compound segment into each searcher's memory."""
    for i in range(3):
        doc(f"程序{i}", f"内容{i}")
    drain()
    folder = search_index.open_index().storage.folder
    names = os.listdir(folder)
    assert not [n for n in names if n.endswith(".seg")]
    assert [n for n in names if n.endswith(".pst")]


def test_a_backlog_commits_every_commit_rows(doc, drain, monkeypatch):
    revs = [doc(f"程序{i}", f"内容{i}") for i in range(5)]
    for _ in range(3):
        for rev in revs:
            enqueue("revision", rev.id)
    db.session.commit()
    commits = []
    real = indexer._drain_commit

    def counted(*args):
        result = real(*args)
        commits.append(result)
        return result

    monkeypatch.setattr(indexer, "COMMIT_ROWS", 4)
    monkeypatch.setattr(indexer, "_drain_commit", counted)
    assert indexer.drain_outbox(batch=2) == 15
    assert [marked for marked, _, _ in commits] == [4, 4, 4, 3]
    assert indexer.health()["ok"]
