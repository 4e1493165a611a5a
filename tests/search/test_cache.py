"""The per-generation filter cache answers exactly what Whoosh's own filter would."""
import numpy as np
from whoosh import query as wq

from portal.search import cache
from portal.search.index import get_searcher
from portal.search.query import _permission, _state_filter


def test_cached_filters_equal_whooshs_document_sets(f, doc, drain):
    staff = f.user("staff")
    for i in range(4):
        doc(f"程序{i}", f"内容{i}")
    f.draft(doc("草稿程序", "内容").document, body="<p>新版</p>", reason="修订")
    drain()
    searcher = get_searcher()
    for query in (_state_filter(None, None), _state_filter("any", None), _permission(staff),
                  wq.Not(wq.Term("kind", "document")), wq.And([_permission(staff), _state_filter(None, None)])):
        if query is None:
            continue
        mask = cache.filter_mask(searcher, query)
        assert set(np.flatnonzero(mask).tolist()) == set(searcher.docs_for_query(query)), query


def test_a_new_generation_gets_fresh_sets(f, doc, drain):
    doc("程序一", "内容")
    drain()
    before = cache.filter_mask(get_searcher(), _state_filter(None, None)).sum()
    doc("程序二", "内容")
    drain()
    after = cache.filter_mask(get_searcher(), _state_filter(None, None)).sum()
    assert after == before + 1


def test_per_segment_parts_outlive_a_generation(doc, drain):
    # A commit adds a segment; the parts of the segments it kept are not read again,
    # so the first query after an edit does not re-read the whole index.
    doc("程序一", "内容")
    drain()
    computed = []

    def probe(reader):
        computed.append(reader.segment().segment_id())
        return np.zeros(reader.doc_count_all())

    cache.per_segment(get_searcher(), "probe", probe)
    before = set(computed)
    doc("程序二", "内容")
    drain()
    searcher = get_searcher()
    now = {sub.reader().segment().segment_id() for sub, _ in searcher.leaf_searchers()}
    assert before & now, "the test needs a segment that survived the commit"
    computed.clear()
    parts = cache.per_segment(searcher, "probe", probe)
    assert set(computed) == now - before
    assert sum(len(p) for p, _ in parts) == searcher.reader().doc_count_all()


def test_the_postings_cache_stays_within_its_byte_budget(doc, drain, monkeypatch):
    from portal.search.analyzer import parse_query
    from portal.search.scoring import evaluate

    for i in range(30):
        doc(f"程序{i}", "客户投诉处理报告单，纠正措施和预防措施，管理评审会议记录。" * (i + 1))
    drain()
    monkeypatch.setattr(cache, "POSTINGS_BYTES", 3000)
    searcher = get_searcher()
    for q in ("投诉", "纠正措施", "管理评审", "预防", "会议记录", "报告单", "客户"):
        before = evaluate(searcher, parse_query(q).query)[0].tolist()
        assert cache._postings_bytes <= 3000
        assert evaluate(searcher, parse_query(q).query)[0].tolist() == before
    assert cache._postings  # it does keep something


def test_a_missing_date_counts_as_zero_not_an_overflow(tmp_path):
    # Whoosh's column default for a missing DATETIME is 2**64 - 1, beyond int64.
    from datetime import datetime

    from whoosh.filedb.filestore import FileStorage

    from portal.search.schema import build_schema

    ix = FileStorage(str(tmp_path)).create_index(build_schema())
    with ix.writer() as w:
        w.add_document(key="a", kind="record", date=datetime(2026, 11, 24))
        w.add_document(key="b", kind="record")
    with ix.searcher() as s:
        s.portal_folder = str(tmp_path)
        dates = cache.column(s, "date", raw=True)
        assert dates[0] > 0 and dates[1] == 0
