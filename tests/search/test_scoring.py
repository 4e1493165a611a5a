"""scoring.evaluate finds exactly the documents Whoosh's matcher tree finds, with its scores.

The corpus spans several segments (one with deletions, one with updated documents)
and posting lists of many blocks, which is where a whole-list reader could go wrong.
"""
import random

import numpy as np
import pytest
from whoosh.filedb.filestore import FileStorage

from portal.search import cache
from portal.search.analyzer import parse_query
from portal.search.schema import build_schema
from portal.search.scoring import evaluate

WORDS = ["投诉", "客户投诉处理", "纠正措施", "管理评审", "管理", "评审", "售后服务", "保修", "退货",
         "ISO 9001", "customer complaint", "corrective actions", "calibration", "QR-SH009",
         "记录", "审核", "和", "的", "文件和资料控制", "顾客满意度调查", "评审管理"]
QUERIES = ["投诉", "纠正措施", '"管理评审"', "管理评审", "售后 服务", "售后 NOT 保修", "投诉 OR 退货",
           "QR-SH009", "SH009", "ISO 9001", "customer complaint", "corrective action", "calibrations",
           "和", "NOT 投诉", "NOT 投诉 NOT 退货", "(投诉 OR 保修) 审核", "评审 -管理", '"评审管理"',
           "顾客满意度", "文件和资料", "不存在的词", "zzzz", "管理 NOT (评审 OR 投诉)"]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scoring-index")
    ix = FileStorage(str(folder)).create_index(build_schema())
    rng = random.Random(20261124)

    def text(n):
        return "，".join(rng.choice(WORDS) for _ in range(rng.randint(1, n)))

    key = 0
    for segment in range(3):  # merge=False: one segment per commit
        w = ix.writer()
        for _ in range(300):
            key += 1
            w.add_document(key=f"r:{key}", kind="record", ref=f"QR-SH009-2026-{key:04d}",
                           title=text(3), body=text(40))
        w.commit(merge=False)
    w = ix.writer()
    for k in range(1, key, 7):
        w.delete_by_term("key", f"r:{k}")
    for k in range(2, key, 11):  # updated: the old version deleted, the new one appended
        w.update_document(key=f"r:{k}", kind="record", ref=f"QR-SH009-2026-{k:04d}",
                          title=text(3), body=text(40))
    w.commit(merge=False)
    with ix.searcher() as s:
        assert len(s.leaf_searchers()) == 4 and s.reader().has_deletions()
        s.portal_folder = str(folder)  # as index.get_searcher does: enables the caches
        yield s


def _assert_same_as_whoosh(searcher, query):
    expected = {d: s for s, d in searcher.search(query, limit=None).top_n}
    docs, scores = evaluate(searcher, query)
    assert docs.tolist() == sorted(expected)
    assert np.allclose(scores, [expected[d] for d in docs.tolist()], rtol=1e-12, atol=0)


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "uncached"])
@pytest.mark.parametrize("q", QUERIES)
def test_same_documents_and_scores_as_whoosh(searcher, q, cached, monkeypatch):
    # Cached lists hold positions decoded whole; uncached ones decode per query.
    if not cached:
        monkeypatch.setattr(cache, "POSTINGS_BYTES", 0)
    query = parse_query(q).query
    _assert_same_as_whoosh(searcher, query)
    _assert_same_as_whoosh(searcher, query)  # again (from the cache when it is on)


def test_cached_postings_follow_later_deletions(tmp_path):
    # Postings are cached per segment without deletions; a later commit that deletes
    # documents in that segment must take them out of the next generation's results.
    ix = FileStorage(str(tmp_path)).create_index(build_schema())
    with ix.writer() as w:
        for n in range(200):
            w.add_document(key=f"r:{n}", kind="record", body=f"客户投诉处理，记录{n}")
    query = parse_query('"投诉处理"').query
    with ix.searcher() as s:
        s.portal_folder = str(tmp_path)
        assert len(evaluate(s, query)[0]) == 200
    w = ix.writer()
    for n in range(0, 200, 3):
        w.delete_by_term("key", f"r:{n}")
    for n in range(200, 210):  # a new segment, whose lists are not cached yet
        w.add_document(key=f"r:{n}", kind="record", body=f"投诉处理记录{n}")
    w.commit(merge=False)
    with ix.searcher() as s:
        s.portal_folder = str(tmp_path)
        # first a word: the old segment's 投诉 is cached with positions, the new one's is read without
        _assert_same_as_whoosh(s, parse_query("投诉").query)
        _assert_same_as_whoosh(s, query)
        assert len(evaluate(s, query)[0]) == 200 - 67 + 10


def test_the_corpus_exercises_long_lists_and_many_matches(searcher):
    # Posting lists span several blocks and most queries match something: the
    # comparison above is not passing on empty results.
    docs, _ = evaluate(searcher, parse_query("投诉").query)
    assert len(docs) > 400
    assert sum(len(evaluate(searcher, parse_query(q).query)[0]) > 0 for q in QUERIES) >= len(QUERIES) - 3


def test_deleted_documents_never_match(searcher):
    reader = searcher.reader()
    deleted = set(reader.deleted_docs()) if hasattr(reader, "deleted_docs") else {
        d for d in range(reader.doc_count_all()) if reader.is_deleted(d)}
    assert deleted
    for q in ("投诉", "NOT 投诉", '"管理评审"', "QR-SH009"):
        assert not deleted & set(evaluate(searcher, parse_query(q).query)[0].tolist())


def test_an_unknown_query_type_is_a_programming_error(searcher):
    from whoosh import query as wq
    with pytest.raises(TypeError):
        evaluate(searcher, wq.Prefix("body", "投"))
