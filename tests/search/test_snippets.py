"""Snippets: the analyzer's tokens found directly in the text, marked and escaped."""
from portal.search.analyzer import parse_query
from portal.search.snippets import FRAGMENT_CHARS, match_spans, snippet


def marked(text: str, q: str) -> list[str]:
    return [text[s:e] for s, e in match_spans(text, parse_query(q).terms)]


def test_a_chinese_word_is_marked_whole_where_it_occurs():
    assert marked("客户投诉处理报告单，投诉人张三", "投诉") == ["投诉", "投诉"]
    # overlapping bigrams of one word merge into one mark
    assert marked("召开管理评审会议", "管理评审") == ["管理评审"]


def test_one_character_queries_mark_the_character():
    assert marked("内审与审核", "审") == ["审", "审"]


def test_latin_words_match_by_stem_and_ignore_case():
    assert marked("Customer complaints were handled.", "complaint") == ["complaints"]
    assert marked("CALIBRATION of equipment", "calibrations") == ["CALIBRATION"]


def test_codes_are_marked_whole_and_by_their_parts():
    assert marked("见 QR-SH009-202611-0001 号记录", "QR-SH009-202611-0001") == ["QR-SH009-202611-0001"]
    assert marked("见 QR-SH009-202611-0001 号记录", "SH009") == ["SH009"]


def test_full_width_text_matches_and_keeps_its_characters():
    assert marked("依据ＩＳＯ　９００１标准", "ISO 9001") == ["ＩＳＯ", "９００１"]


def test_html_in_the_text_is_escaped_outside_and_inside_marks():
    out = snippet("<script>alert(1)</script> 投诉<b>", {"投诉"})
    assert "<mark>投诉</mark>" in out
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;" in out


def test_without_a_match_the_beginning_is_shown_escaped():
    text = "甲<" * 200
    out = snippet(text, {"投诉"})
    assert out == text[:FRAGMENT_CHARS].replace("<", "&lt;") + "…"
    assert snippet("", {"投诉"}) == ""


def test_a_phrase_is_marked_where_it_occurs_whole_not_its_bigrams_apart():
    text = "评审记录。管理者代表。召开管理评审会议"
    assert marked(text, "管理评审") == ["管理评审"]


def test_two_fragments_at_most_the_one_with_the_longest_match_first_chosen():
    filler = "。" * 300
    text = "投诉" + filler + "投诉" + filler + "客户投诉处理" + filler
    out = snippet(text, parse_query("投诉 客户投诉处理").terms)
    assert out.count(" … ") == 1
    assert "<mark>客户投诉处理</mark>" in out
