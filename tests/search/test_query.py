"""search(): contract shape, Chinese relevance, filters, permissions inside the query,
freshness after supersede and void, suggestions, and bad input."""
from datetime import datetime, timedelta, timezone

import pytest

from portal import clock
from portal.records import services as records
from portal.search.analyzer import SearchSyntaxError


def refs(result) -> list[str]:
    return [h["ref"] for h in result["hits"]]


def test_result_has_the_contract_shape(f, doc, find):
    rev = doc("客户投诉处理程序", "规定客户投诉的受理、调查和答复。", code="QP-SH01")
    result = find(f.user("staff"), "投诉")
    assert set(result) >= {"total", "page", "hits", "facets"}
    hit = result["hits"][0]
    assert set(hit) >= {"kind", "id", "title", "ref", "snippet", "score", "revision", "state"}
    assert (hit["kind"], hit["id"], hit["ref"], hit["revision"]) == ("document", rev.id, "QP-SH01", "A/0")
    assert "<mark>投诉</mark>" in hit["snippet"]
    assert result["facets"]["kind"] == {"document": 1}


def test_chinese_sequence_matching_through_search(f, doc, form, find):
    doc("管理评审控制程序", "每年进行一次。", code="QP-MR")
    doc("岗位职责", "管理者的职责之一是定期评审记录。", code="QP-ZZ")
    form(code="QR-TS01")  # titled 客户投诉处理报告单
    staff = f.user("staff")
    assert refs(find(staff, "管理评审")) == ["QP-MR"]
    assert refs(find(staff, "投诉")) == ["QR-TS01"]
    assert set(refs(find(staff, "审"))) == {"QP-MR", "QP-ZZ"}
    assert refs(find(staff, "职责 评审")) == ["QP-ZZ"]


def test_records_are_found_by_number_parts_values_and_attachments(f, form, record, find, controller,
                                                                 drain):
    form_doc = form(code="QR-SH009")
    rec = record(form_doc, complaint="接触器烧毁", parts=[{"part": "熔断器", "count": 2}])
    records.attach_file(controller, rec, b"%PDF-1.4\n%%EOF\n", "维修报告.pdf", 10**6)
    drain()
    staff = f.user("staff")
    number = rec.number
    for q in (number, "QR-SH009", "SH009", "sh009", number.split("-", 2)[2], "熔断器", "接触器烧毁", "维修报告"):
        result = find(staff, q, kind="record")
        assert refs(result) == [number], q


def test_filters_kind_department_clause_form_and_dates(f, doc, form, record, find, controller):
    doc("文件控制程序", "文件的编制和发放。", code="QP-DOC", clauses=["ISO 9001:2015 7.5.3"])
    form_doc = form(code="QR-F01")
    record(form_doc, complaint="文件发放错误")
    staff = f.user("staff")
    dept = controller.department_code
    assert find(staff, "文件", kind="record")["total"] == 1
    assert find(staff, "文件", kind="document,record")["total"] == 2
    assert find(staff, "文件", department=dept)["total"] == 2
    assert find(staff, "文件", department="NOPE")["total"] == 0
    assert refs(find(staff, "文件", clause="7.5")) == ["QP-DOC"]
    assert refs(find(staff, "文件", clause="ISO 9001:2015 7.5.3")) == ["QP-DOC"]
    assert find(staff, "文件", clause="8.2")["total"] == 0
    assert find(staff, None, form="qr-f01")["total"] == 2  # the form and its record
    today = clock.today()
    assert find(staff, "文件", kind="record", date_from=today.isoformat())["total"] == 1
    assert find(staff, "文件", kind="record", date_to=today - timedelta(days=1))["total"] == 0


def test_an_empty_index_answers_every_kind_of_query(f, find):
    # A new portal has no index segments yet: no column files, nothing to score.
    staff = f.user("staff")
    for q, filters in (("投诉", {}), (None, {"kind": "document"}), ("NOT 投诉", {"sort": "date"})):
        result = find(staff, q, **filters)
        assert result["total"] == 0 and result["hits"] == [], (q, filters)
        assert result["facets"] == {"kind": {}, "department": {}, "state": {}}


def test_empty_query_lists_with_filters_and_returns_nothing_without(f, doc, find):
    doc("甲程序", "内容一", code="QP-A")
    doc("乙程序", "内容二", code="QP-B")
    staff = f.user("staff")
    assert find(staff, "")["total"] == 0
    assert find(staff, None, kind="document")["total"] == 2


def test_paging_and_sorting(f, doc, find, frozen):
    frozen(datetime(2026, 3, 1, 4, tzinfo=timezone.utc))
    doc("第一程序", "共同词汇", code="QP-1")
    frozen(datetime(2026, 3, 5, 4, tzinfo=timezone.utc))
    doc("第二程序", "共同词汇", code="QP-2")
    doc("第三程序", "共同词汇", code="QP-3")
    staff = f.user("staff")
    assert refs(find(staff, "共同词汇", sort="date"))[-1] == "QP-1"
    page2 = find(staff, "共同词汇", page=2, per_page=2)
    assert (page2["total"], len(page2["hits"])) == (3, 1)
    beyond = find(staff, "共同词汇", page=10**9)
    assert (beyond["total"], beyond["hits"]) == (3, [])
    assert find(staff, "共同词汇", per_page=10**6)["per_page"] == 100


def test_snippets_escape_html_and_mark_matches(f, doc, find):
    doc("环境控制", "温度 &lt; 5 &amp; 湿度 &lt;b&gt;控制&lt;/b&gt;", code="QP-ENV")
    snippet = find(f.user("staff"), "湿度")["hits"][0]["snippet"]
    assert "<mark>湿度</mark>" in snippet
    assert "&lt;" in snippet and "<b>" not in snippet


def test_superseded_revision_leaves_default_results_at_once(f, doc, new_effective, find, frozen):
    frozen(datetime(2026, 3, 1, 4, tzinfo=timezone.utc))
    old = doc("检验规程", "旧版条款：抽样比例百分之五。", code="QP-JY")
    frozen(datetime(2026, 4, 1, 4, tzinfo=timezone.utc))
    new = new_effective(old.document, "新版条款：抽样比例百分之十。")
    staff = f.user("staff")
    assert find(staff, "旧版")["total"] == 0
    assert [h["id"] for h in find(staff, "条款")["hits"]] == [new.id]
    everything = find(staff, "条款", state="any")
    assert [(h["id"], h["state"]) for h in everything["hits"]] == [(new.id, "effective"),
                                                                  (old.id, "superseded")]
    assert everything["facets"]["state"] == {"effective": 1, "superseded": 1}
    assert [h["id"] for h in find(staff, "条款", as_of="2026-03-15")["hits"]] == [old.id]
    assert [h["id"] for h in find(staff, "条款", as_of="2026-04-01")["hits"]] == [new.id]
    assert find(staff, "条款", as_of="2026-02-01")["total"] == 0


def test_voided_record_is_marked(f, form, record, find, controller, drain):
    rec = record(form(code="QR-V01"), complaint="填错的记录")
    records.void_record(controller, rec, {"reason": "填写错误"})
    drain()
    hit = find(f.user("staff"), "填错")["hits"][0]
    assert (hit["ref"], hit["state"]) == (rec.number, "voided")


def test_drafts_only_for_their_parties_and_totals_do_not_leak(f, doc, find, controller, drain):
    rev = doc("采购控制程序", "供应商评价准则。", code="QP-CG")
    author, reviewer, outsider = f.user("staff"), f.user("approver"), f.user("staff")
    draft = f.draft(rev.document, author=author, body="<p>供应商评价准则（草案）。</p>",
                    reason="修订", level="minor")
    f.submitted(draft, reviewers=[reviewer])
    drain()
    seen = find(outsider, "供应商", state="any")
    assert (seen["total"], seen["facets"]["state"]) == (1, {"effective": 1})
    assert find(outsider, "草案", state="any")["total"] == 0
    assert find(outsider, "state:draft 供应商")["total"] == 0
    assert find(outsider, None, state="in_review")["total"] == 0
    for user in (author, reviewer, controller):
        assert find(user, "草案", state="any")["total"] == 1, user.role
    assert find(author, "草案")["total"] == 0  # drafts only when asked for


def test_confidential_documents_and_their_records(f, doc, form, record, find, controller):
    doc("薪酬管理制度", "保密的薪酬等级表。", code="QP-HR", confidentiality="confidential")
    rec = record(form(code="QR-HR1", title="薪酬调整审批单", confidentiality="confidential"))
    colleague = f.user("staff", department=controller.department_code)
    outsider, reviewer = f.user("staff"), f.user("external_reviewer")
    assert find(colleague, "薪酬")["total"] == 3
    assert find(controller, "薪酬")["total"] == 3
    for user in (outsider, reviewer):
        result = find(user, "薪酬", state="any")
        assert (result["total"], result["hits"], result["facets"]["kind"]) == (0, [], {})
        assert find(user, rec.number)["total"] == 0


def test_external_reviewer_sees_only_effective_items(f, doc, form, record, new_effective, find):
    old = doc("不合格品控制程序", "旧版：不合格品隔离。", code="QP-NC")
    new = new_effective(old.document, "新版：不合格品隔离和评审。")
    f.draft(new.document, body="<p>草案：不合格品隔离。</p>", reason="修订", level="minor")
    rec = record(form(code="QR-NC1", title="不合格品处置单"))
    reviewer = f.user("external_reviewer")
    result = find(reviewer, "隔离", state="any")
    assert [(h["id"], h["state"]) for h in result["hits"]] == [(new.id, "effective")]
    assert rec.number in refs(find(reviewer, "不合格品"))


def test_did_you_mean_never_reveals_hidden_words(f, doc, find, controller):
    doc("计量管理程序", "Calibration records of measuring equipment.", code="QP-JL")
    doc("保密程序", "Xylophonist roster.", code="QP-SEC", confidentiality="confidential")
    outsider = f.user("staff")
    colleague = f.user("staff", department=controller.department_code)
    assert find(outsider, "calibratoin")["suggestions"] == ["calibration"]
    assert find(outsider, "xylophonest")["suggestions"] == []
    assert find(colleague, "xylophonest")["suggestions"] == ["xylophonist"]
    assert find(outsider, "calibration")["suggestions"] == []


BAD = [dict(q="x" * 10_000), dict(q="投诉", page=0), dict(q="投诉", page=-1), dict(q="投诉", page="abc"),
       dict(q="投诉", per_page=0), dict(q="投诉", kind="bogus"), dict(q="投诉", state="bogus"),
       dict(q="投诉", as_of="2026-13-40"), dict(q="投诉", sort="size"), dict(q="投诉", color="red"),
       dict(q=b"\xc3\x28"), dict(q="投诉", department=["SH"]), dict(q="投诉", date_from="yesterday"),
       dict(q="投诉", date_from="2026-05-02", date_to="2026-05-01"), dict(q="投诉", page=True)]
ODD = ["", '"投诉', "(投诉 OR", "投诉))", "*", "?", "~", "投诉~", "审*", "state:draft", "kind:record",
       "audience:all", "NOT", "OR OR", "投诉\x00", "\u3000", "((((((((投诉))))))))"]


@pytest.mark.parametrize("kw", BAD)
def test_bad_input_is_a_400(f, doc, find, kw):
    doc("客户投诉处理程序", "投诉。", code="QP-BAD")
    with pytest.raises(SearchSyntaxError) as exc:
        find(f.user("staff"), **kw)
    assert exc.value.status == 400


@pytest.mark.parametrize("q", ODD)
def test_odd_input_gives_results_not_errors(f, doc, find, q):
    doc("客户投诉处理程序", "投诉。", code="QP-ODD")
    result = find(f.user("staff"), q, page="1", per_page="5")
    assert result["total"] == len(result["hits"]) <= 1


def test_utf8_bytes_queries_work_and_suggest(f, doc, find):
    doc("计量管理程序", "Calibration records.", code="QP-UTF")
    staff = f.user("staff")
    assert find(staff, "计量".encode())["total"] == 1
    assert find(staff, "calibratoin".encode())["suggestions"] == ["calibration"]


def test_nobody_and_anonymous_see_nothing(doc, find):
    from flask_login import AnonymousUserMixin

    doc("客户投诉处理程序", "投诉。", code="QP-ANON")
    assert find(None, "投诉")["total"] == 0
    assert find(AnonymousUserMixin(), "投诉")["total"] == 0
