"""ExactSequence matches and scores exactly like Whoosh's Phrase (slop 1), only faster."""
import pytest
from whoosh import query as wq
from whoosh.filedb.filestore import RamStorage

from portal.search.analyzer import phrase_tokens
from portal.search.schema import build_schema
from portal.search.sequence import ExactSequence

TEXTS = ["召开管理评审会议，管理评审报告", "管理……评审分开", "评审管理", "审审审核", "管理管理评审",
         "QR-SH009-202611-0001 记录", "内审ISO 9001", "纠正措施和预防措施", "纠正 措施", ""]


@pytest.fixture(scope="module")
def searcher():
    ix = RamStorage().create_index(build_schema())
    with ix.writer() as w:
        for n, text in enumerate(TEXTS):
            w.add_document(key=f"t:{n}", kind="record", body=text)
    with ix.searcher() as s:
        yield s


@pytest.mark.parametrize("query", ["管理评审", "审审", "审审审", "管理管理", "纠正措施", "QR-SH009",
                                   "SH009-202611", "内审ISO", "评审管理", "不存在的词"])
def test_same_matches_and_scores_as_whoosh_phrase(searcher, query):
    tokens = phrase_tokens(query)
    stock = searcher.search(wq.Phrase("body", tokens), limit=None)
    ours = searcher.search(ExactSequence("body", tokens, boost=1.0), limit=None)
    assert [(round(s, 9), d) for s, d in ours.top_n] == [(round(s, 9), d) for s, d in stock.top_n]


def test_it_finds_only_the_contiguous_sequence(searcher):
    found = {searcher.stored_fields(d)["key"] for d in searcher.search(
        ExactSequence("body", phrase_tokens("管理评审")), limit=None).docs()}
    assert found == {"t:0", "t:4"}
