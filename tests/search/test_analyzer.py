"""The analyzer and query language on a small in-memory index: Chinese sequence
matching, Latin stemming, codes found whole and by parts, and hostile query text."""
import pickle

import pytest
from whoosh.filedb.filestore import RamStorage

from portal.search.analyzer import (ANALYZER, MAX_QUERY_CHARS, SearchSyntaxError, exact_code,
                                    parse_query, phrase_tokens)
from portal.search.schema import build_schema

TEXTS = {
    "complaint": "客户投诉处理报告单",
    "review": "管理评审控制程序：最高管理者每年主持管理评审。",
    "apart": "管理职责明确，评审记录由质量部保存。",
    "reverse": "评审管理办法",
    "internal": "按照ISO 9001:2015要求组织内审，形成内审报告。",
    "conj": "质量方针和质量目标的沟通",
    "english": "Internal audits are planned; the auditor records nonconformities.",
    "code": "记录编号 QR-SH009-202611-0001，表单 SH/BD-09，文件 XX/QT-2020-00",
    "fullwidth": "ＩＳＯ　９００１ 认证证书",
    "phrase": "质量 目标 分解到各部门",
}


@pytest.fixture(scope="module")
def ram():
    ix = RamStorage().create_index(build_schema())
    with ix.writer() as w:
        for name, text in TEXTS.items():
            w.add_document(key=name, title="", body=text, ref="")
    searcher = ix.searcher()
    yield searcher
    searcher.close()


def hits(ram, q) -> set[str]:
    parsed = parse_query(q, fields=(("body", 1.0),))
    if parsed.query is None:
        return set()
    return {hit["key"] for hit in ram.search(parsed.query, limit=None)}


def tokens(text):
    return [(t.text, t.pos) for t in ANALYZER(text, positions=True)]


def test_cjk_unigrams_and_bigrams_share_the_first_characters_position():
    assert tokens("管理评审") == [("管", 0), ("管理", 0), ("理", 1), ("理评", 1), ("评", 2),
                                  ("评审", 2), ("审", 3)]
    # The next segment starts after the run; spaces and punctuation take no position.
    assert tokens("内审，ISO")[-1] == ("iso", 2)


def test_codes_are_indexed_whole_and_by_their_parts():
    assert tokens("QR-SH009-202611-0001 audits") == [
        ("qr-sh009-202611-0001", 0), ("qr", 0), ("sh009", 1), ("202611", 2), ("0001", 3), ("audit", 4)]


def test_query_side_tokens():
    assert phrase_tokens("管理评审") == ["管理", "理评", "评审"]
    assert phrase_tokens("审") == ["审"]
    assert phrase_tokens("内审ISO") == ["内审", "审", "iso"]  # joiner unigram keeps positions
    assert phrase_tokens("QR-SH009") == ["qr", "sh009"]
    assert phrase_tokens("*?~") == []
    assert exact_code("QR-SH009") == "qr-sh009" and exact_code("投诉") is None


def test_a_chinese_query_matches_that_sequence_inside_longer_text(ram):
    assert hits(ram, "投诉") == {"complaint"}
    assert hits(ram, "报告") == {"complaint", "internal"}


def test_words_apart_or_reversed_do_not_match(ram):
    assert hits(ram, "管理评审") == {"review"}
    assert hits(ram, "管理评") == {"review"}
    assert hits(ram, "评审管理") == {"reverse"}


def test_single_characters_and_former_stop_words_are_searchable(ram):
    assert hits(ram, "审") == {"review", "apart", "reverse", "internal"}
    assert hits(ram, "和") == {"conj"}
    assert hits(ram, "的") == {"conj"}
    assert hits(ram, "方针和质量") == {"conj"}


def test_mixed_chinese_and_english_words_must_all_occur(ram):
    assert hits(ram, "ISO 9001 内审") == {"internal"}
    assert hits(ram, "ISO 内审 投诉") == set()
    assert hits(ram, "iso") == {"internal", "fullwidth"}  # full-width letters fold
    assert hits(ram, "9001:2015") == {"internal"}


def test_quoted_phrases_or_not_and_parentheses(ram):
    assert hits(ram, '"质量目标"') == {"conj"}  # exactly that sequence
    assert hits(ram, '"质量 目标"') == {"conj", "phrase"}  # spaces in a phrase are optional
    assert hits(ram, '"目标 质量"') == set()
    assert hits(ram, "投诉 OR 内审") == {"complaint", "internal"}
    assert hits(ram, "质量 NOT 方针") == {"apart", "phrase"}
    assert hits(ram, "(投诉 OR 内审) NOT ISO") == {"complaint"}
    assert hits(ram, "投诉 or 内审") == set()  # lower-case "or" is a word


def test_codes_found_whole_and_by_parts(ram):
    for q in ("QR-SH009-202611-0001", "QR-SH009", "SH009", "sh009", "202611-0001",
              "SH/BD-09", "BD-09", "XX/QT-2020-00", "QT-2020"):
        assert hits(ram, q) == {"code"}, q
    assert hits(ram, "SH009-0001") == set()  # parts must be adjacent


def test_latin_words_are_lower_cased_and_stemmed(ram):
    assert hits(ram, "audit") == {"english"}
    assert hits(ram, "AUDITS") == {"english"}
    assert hits(ram, "nonconformity") == {"english"}
    assert hits(ram, "planning") == {"english"}


@pytest.mark.parametrize("q", ["", "   ", "*", "?", "~", "()", "NOT", "OR AND", ")))(((", '"', "：，。"])
def test_queries_without_searchable_words_parse_to_nothing(q):
    assert parse_query(q).query is None


@pytest.mark.parametrize("q", ['"投诉 处理', "(投诉 OR 内审", "投诉)", "a OR", "NOT NOT 投诉",
                               "state:draft", "kind:record", "审*", "审?", "审~2", "title:投诉",
                               "投诉\x00处理", "（投诉）", "“管理评审”"])
def test_unbalanced_or_field_syntax_queries_are_plain_text(ram, q):
    parsed = parse_query(q)
    assert parsed.query is not None
    fields = {name for name, _ in parsed.query.iter_all_terms()}
    assert fields <= {"ref", "title", "body", "ref_exact"}  # never state, audience, tour …


def test_field_syntax_is_literal_text(ram):
    assert hits(ram, "state:draft") == set()
    assert hits(ram, "审*") == hits(ram, "审")


@pytest.mark.parametrize("q", ["a" * (MAX_QUERY_CHARS + 1), "x " * 9000, " ".join(["词"] * 41),
                               "(" * 20 + "投诉", "NOT " * 20 + "投诉", b"\xff\xfe", "\ud800投诉", 42])
def test_hostile_queries_raise_search_syntax_error(q):
    with pytest.raises(SearchSyntaxError) as exc:
        parse_query(q)
    assert exc.value.status == 400


def test_utf8_bytes_are_accepted():
    assert parse_query("投诉".encode()).query is not None


def test_the_schema_and_analyzer_pickle():
    schema = pickle.loads(pickle.dumps(build_schema()))
    assert [t.text for t in schema["body"].analyzer("管理")] == ["管", "管理", "理"]
