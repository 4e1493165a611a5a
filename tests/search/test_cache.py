"""The per-generation filter cache answers exactly what Whoosh's own filter would."""
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
        assert cache.filter_docs(searcher, query) == frozenset(searcher.docs_for_query(query)), query


def test_a_new_generation_gets_fresh_sets(f, doc, drain):
    doc("程序一", "内容")
    drain()
    before = cache.filter_docs(get_searcher(), _state_filter(None, None))
    doc("程序二", "内容")
    drain()
    after = cache.filter_docs(get_searcher(), _state_filter(None, None))
    assert len(after) == len(before) + 1
