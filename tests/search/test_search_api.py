"""GET /api/v1/search through HTTP (CONTRACT.md "Search"): the contract's shape, Chinese
sequence matching, codes, snippets, revisions in force, freshness through the real
request path, permission leaks (hits, totals and facets) and bad input."""
import re
from datetime import datetime, timezone

import pytest

from factories import PASSWORD
from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from portal.extensions import db
from portal.records import services as records
from portal.search import indexer

HIT_FIELDS = {"kind", "id", "title", "ref", "snippet", "score", "url"}


# --- helpers ---------------------------------------------------------------------------

def search(api, status=200, **params) -> dict:
    """GET /search with `params`; asserts the status and a JSON body."""
    resp = api.get("/search", query_string=params)
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    return resp.get_json()


def assert_error(resp, status: int) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    error = resp.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def keys(result) -> set[tuple[str, int]]:
    return {(h["kind"], h["id"]) for h in result["hits"]}


def refs(result) -> list[str]:
    return [h["ref"] for h in result["hits"]]


def facet_total(result, name: str) -> int:
    return sum(result["facets"][name].values())


def plain_form(controller, code, title, fields):
    """An effective form with the given fields (no 投诉 anywhere unless asked for)."""
    document = documents.create_document(controller, {"code": code, "title": title, "doc_type": "form",
                                                      "department": controller.department_code})
    rev = documents.start_revision(controller, document, {"body_html": f"<h2>{title}</h2>",
                                                          "change_summary": "首版发行", "fields": fields})
    return document, rev


@pytest.fixture
def drain(app):
    """The outbox drained after ending the test session's transaction: requests made with
    f.api() share the test's session, which may still hold SQLite's write lock."""

    def run(**kw):
        db.session.rollback()
        return indexer.drain_outbox(**kw)

    return run


REMARK_FORM = [{"name": "remark", "label": "备注", "type": "textarea"}]


@pytest.fixture
def remark_form(f, controller, drain):
    """remark_form(code, title) → an effective form with one field `remark` labelled 备注."""

    def make(code, title="产品维修记录表"):
        document, rev = plain_form(controller, code, title, REMARK_FORM)
        f.approved(rev)
        workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
        drain()
        return document

    return make


@pytest.fixture
def staff_api(f):
    return f.api(f.user("staff"))


# --- the contract's shape ------------------------------------------------------------------

def test_result_has_the_contract_shape(f, doc, form, record, staff_api, controller):
    rev = doc("客户投诉处理程序", "规定客户投诉的受理、调查和答复。", code="QP-SH01")
    form_doc = form(code="QR-SH02")
    rec = record(form_doc, complaint="客户投诉噪音")
    result = search(staff_api, q="投诉")
    assert {"total", "page", "hits", "facets"} <= set(result)
    assert isinstance(result["total"], int) and result["page"] == 1
    assert set(result["facets"]) >= {"kind", "department"}
    assert result["total"] == len(result["hits"]) == 3
    for hit in result["hits"]:
        assert HIT_FIELDS <= set(hit), hit
        assert hit["kind"] in ("document", "record", "finding", "action")
        assert isinstance(hit["id"], int) and isinstance(hit["score"], (int, float))
        assert isinstance(hit["title"], str) and hit["title"]
        assert "<mark>" in hit["snippet"], hit
    by_key = {(h["kind"], h["id"]): h for h in result["hits"]}
    doc_hit = by_key[("document", rev.id)]
    assert (doc_hit["ref"], doc_hit["title"], doc_hit["url"]) == ("QP-SH01", "客户投诉处理程序",
                                                                   f"/revisions/{rev.id}")
    rec_hit = by_key[("record", rec.id)]
    assert (rec_hit["ref"], rec_hit["url"]) == (rec.number, f"/records/{rec.id}")
    assert result["facets"]["kind"] == {"document": 2, "record": 1}
    assert result["facets"]["department"] == {controller.department_code: 3}


def test_search_needs_a_token(app, doc):
    doc("客户投诉处理程序", "投诉。", code="QP-TOK")
    resp = app.test_client().get("/api/v1/search?q=投诉")
    assert_error(resp, 401)
    resp = app.test_client().get("/api/v1/search?q=投诉", headers={"Authorization": "Bearer nonsense"})
    assert_error(resp, 401)


# --- Chinese text, codes, words ------------------------------------------------------------

def test_tousu_finds_the_form_title_and_a_record_field(f, doc, form, remark_form, staff_api,
                                                       controller, drain):
    complaint_form = form(code="QR-TS01", title="客户投诉处理报告单")
    complaint_rev = complaint_form.revisions[0]
    repair_form = remark_form("QR-WX01")
    rec = records.issue_record(controller, repair_form, {"data": {"remark": "用户电话投诉异响"}})
    records.issue_record(controller, repair_form, {"data": {"remark": "例行保养"}})
    doc("文件和资料控制程序", "规范文件的编制、审核、批准。", code="QP-WJ")
    drain()
    result = search(staff_api, q="投诉")
    assert keys(result) == {("document", complaint_rev.id), ("record", rec.id)}
    assert result["total"] == 2
    record_hit = next(h for h in result["hits"] if h["kind"] == "record")
    assert "<mark>投诉</mark>" in record_hit["snippet"]


def test_a_chinese_sequence_must_be_contiguous(f, doc, staff_api):
    mr = doc("管理评审控制程序", "每年进行一次管理评审。", code="QP-MR")
    doc("岗位职责", "管理者的职责之一是定期评审记录。", code="QP-ZZ")
    doc("内部审核程序", "管理体系的评审由最高管理者主持。", code="QP-NS")
    result = search(staff_api, q="管理评审")
    assert [(h["kind"], h["id"]) for h in result["hits"]] == [("document", mr.id)]
    assert result["total"] == 1 and result["facets"]["kind"] == {"document": 1}
    assert search(staff_api, q='"管理评审"')["total"] == 1
    assert search(staff_api, q="评审")["total"] == 3


def test_codes_are_found_whole_and_by_their_parts(f, form, record, staff_api):
    form_doc = form(code="QR-SH009", title="售后服务报告单")
    rec = record(form_doc, complaint="接触器烧毁")
    other = record(form(code="QR-SC010", title="生产日报"), complaint="正常")
    for q in ("QR-SH009", "SH009", "sh009", "qr-sh009"):
        result = search(staff_api, q=q)
        assert ("record", rec.id) in keys(result), q
        assert ("document", form_doc.revisions[0].id) in keys(result), q
        assert ("record", other.id) not in keys(result), q
    assert refs(search(staff_api, q=rec.number)) == [rec.number]
    assert refs(search(staff_api, q=rec.number, kind="record")) == [rec.number]
    tail = rec.number.split("-", 2)[2]  # e.g. 202611-0001
    assert rec.number in refs(search(staff_api, q=tail, kind="record"))


def test_words_separated_by_spaces_must_all_occur(f, doc, staff_api):
    both = doc("供应商管理程序", "供应商的选择和评价准则。", code="QP-GY")
    doc("采购程序", "向合格供应商下单。", code="QP-CG")
    doc("培训程序", "培训效果的评价。", code="QP-PX")
    result = search(staff_api, q="供应商 评价")
    assert [h["id"] for h in result["hits"]] == [both.id] and result["total"] == 1
    assert search(staff_api, q="供应商\u3000评价")["total"] == 1  # ideographic space
    assert search(staff_api, q="供应商")["total"] == 2
    assert search(staff_api, q="供应商 OR 评价")["total"] == 3
    assert search(staff_api, q="供应商 不存在的词")["total"] == 0


# --- snippets ------------------------------------------------------------------------------

def test_snippets_mark_matches_and_escape_hostile_record_fields(f, remark_form, staff_api,
                                                                controller, drain):
    form_doc = remark_form("QR-XSS")
    hostile = "<script>alert(1)</script>投诉"
    rec = records.issue_record(controller, form_doc, {"data": {"remark": hostile}})
    records.issue_record(controller, form_doc, {"data": {"remark": '<img src=x onerror="alert(2)">投诉'}})
    drain()
    result = search(staff_api, q="投诉")
    assert result["total"] == 2
    for hit in result["hits"]:
        snippet = hit["snippet"]
        assert "<mark>投诉</mark>" in snippet, snippet
        without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and ">" not in without_marks, snippet
        assert "<script" not in snippet.lower() and "<img" not in snippet.lower()
    snippet = next(h for h in result["hits"] if h["id"] == rec.id)["snippet"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet
    # The title and ref are plain JSON strings: the hostile text does not reach them.
    assert all("<script" not in h["title"] and "<script" not in h["ref"] for h in result["hits"])


# --- revisions in force, as_of, voided records ------------------------------------------------

def test_superseded_revision_leaves_default_results_and_comes_back_with_state_any(
        f, doc, new_effective, staff_api, frozen):
    frozen(datetime(2026, 3, 1, 4, tzinfo=timezone.utc))
    old = doc("检验规程", "旧版条款：抽样比例百分之五。", code="QP-JY")
    assert [(h["id"], h.get("revision")) for h in search(staff_api, q="条款")["hits"]] == [(old.id, "A/0")]
    frozen(datetime(2026, 4, 1, 4, tzinfo=timezone.utc))
    new = new_effective(old.document, "新版条款：抽样比例百分之十。")
    default = search(staff_api, q="条款")
    assert [h["id"] for h in default["hits"]] == [new.id] and default["total"] == 1
    assert all(h.get("revision") != "A/0" for h in default["hits"])
    assert search(staff_api, q="旧版")["total"] == 0
    everything = search(staff_api, q="条款", state="any")
    assert [h["id"] for h in everything["hits"]] == [new.id, old.id]
    assert [h.get("state") for h in everything["hits"]] == ["effective", "superseded"]
    assert [h.get("revision") for h in everything["hits"]] == ["A/1", "A/0"]
    assert search(staff_api, q="旧版", state="any")["total"] == 1


def test_as_of_returns_the_revision_effective_that_day(f, doc, new_effective, staff_api, frozen):
    frozen(datetime(2026, 3, 1, 4, tzinfo=timezone.utc))
    old = doc("检验规程", "旧版条款。", code="QP-ASOF")
    frozen(datetime(2026, 4, 1, 4, tzinfo=timezone.utc))
    new = new_effective(old.document, "新版条款。")
    assert [h["id"] for h in search(staff_api, q="条款", as_of="2026-03-15")["hits"]] == [old.id]
    assert [h["id"] for h in search(staff_api, q="条款", as_of="2026-03-31")["hits"]] == [old.id]
    assert [h["id"] for h in search(staff_api, q="条款", as_of="2026-04-01")["hits"]] == [new.id]
    assert [h["id"] for h in search(staff_api, q="条款", as_of="2026-05-01")["hits"]] == [new.id]
    assert search(staff_api, q="条款", as_of="2026-02-28")["total"] == 0
    assert search(staff_api, q="旧版", as_of="2026-03-15")["total"] == 1
    assert search(staff_api, q="旧版", as_of="2026-04-15")["total"] == 0
    assert_error(staff_api.get("/search", query_string={"q": "条款", "as_of": "2026-02-30"}), 400)


def test_a_voided_record_is_marked_voided(f, form, record, staff_api, controller, drain):
    rec = record(form(code="QR-V01"), complaint="填错的记录")
    void_api = f.api(controller)
    resp = void_api.post(f"/records/{rec.id}/void", json={"reason": "填写错误"})
    assert resp.status_code == 200, resp.get_json()
    drain()
    result = search(staff_api, q="填错")
    assert result["total"] == 1
    hit = result["hits"][0]
    assert (hit["kind"], hit["id"], hit["ref"], hit.get("state")) == ("record", rec.id, rec.number, "voided")


# --- freshness through the real request path -----------------------------------------------

def test_changes_made_through_the_api_are_searchable_at_once(app, f, staff_api):
    app.config["SEARCH_INLINE"] = True
    controller = f.user("controller")
    reviewer, approver = f.user("approver"), f.user("approver")
    api = f.api(controller)
    resp = api.post("/documents", json={"code": "QP-FRESH", "title": "售后服务控制程序", "doc_type": "procedure",
                                        "department": controller.department_code})
    assert resp.status_code == 201, resp.get_json()
    doc_id = resp.get_json()["id"]
    resp = api.post(f"/documents/{doc_id}/revisions", json={
        "body_html": "<p>规定售后回访的频次：每季度一次。</p>", "change_summary": "首版发行",
        "change_level": "minor"})
    assert resp.status_code == 201, resp.get_json()
    rev_id = resp.get_json()["id"]
    # The author (a controller) finds the draft when asking for drafts too; staff do not.
    assert ("document", rev_id) in keys(search(api, q="回访", state="any"))
    assert search(staff_api, q="回访", state="any")["total"] == 0
    assert api.post(f"/revisions/{rev_id}/submit", json={
        "reviewers": [reviewer.username], "approver": approver.username}).status_code == 200
    # Assigned as a signer by that request: the reviewer may now find the draft.
    assert keys(search(f.api(reviewer), q="回访", state="any")) == {("document", rev_id)}
    for signer, meaning in ((reviewer, "review"), (approver, "approve")):
        resp = f.api(signer).post(f"/revisions/{rev_id}/sign", json={
            "meaning": meaning, "decision": "accept", "comment": "同意", "password": PASSWORD})
        assert resp.status_code == 200, resp.get_json()
    resp = api.post(f"/revisions/{rev_id}/release", json={"effective_date": clock.today().isoformat()})
    assert resp.status_code == 200 and resp.get_json()["state"] == "effective", resp.get_json()
    result = search(staff_api, q="回访")  # no drain in between
    assert [(h["kind"], h["id"]) for h in result["hits"]] == [("document", rev_id)]


def test_records_issued_and_voided_through_the_api_are_searchable_at_once(app, f, form, staff_api,
                                                                         controller):
    form_doc = form(code="QR-FR01")
    app.config["SEARCH_INLINE"] = True
    api = f.api(controller)
    resp = api.post(f"/documents/{form_doc.id}/records", json={
        "data": {"customer": "杭州某某电梯公司", "complaint": "门机异响"}})
    assert resp.status_code == 201, resp.get_json()
    rec = resp.get_json()
    result = search(staff_api, q="门机异响")
    assert [(h["kind"], h["id"]) for h in result["hits"]] == [("record", rec["id"])]
    assert api.post(f"/records/{rec['id']}/void", json={"reason": "重复登记"}).status_code == 200
    assert search(staff_api, q="门机异响")["hits"][0].get("state") == "voided"


# --- permissions: hits, totals, facets ---------------------------------------------------------

def test_a_draft_is_seen_only_by_its_author_signers_and_controllers(f, doc, controller, drain):
    rev = doc("采购控制程序", "供应商评价准则。", code="QP-CG")
    author, reviewer, approver, outsider = f.user("staff"), f.user("approver"), f.user("approver"), f.user("staff")
    draft = f.draft(rev.document, author=author, body="<p>供应商评价准则（草案）。</p>",
                    reason="修订", level="minor")
    f.submitted(draft, reviewers=[reviewer], approver=approver)
    drain()
    out = f.api(outsider)
    dept = controller.department_code
    cases = [({"q": "供应商", "state": "any"}, 1), ({"q": "供应商"}, 1), ({"q": "供应商", "state": "in_review"}, 0),
             ({"q": "草案", "state": "any"}, 0), ({"kind": "document", "state": "any"}, 1),
             ({"state": "in_review"}, 0), ({"state": "draft"}, 0), ({"q": "state:in_review 供应商"}, 0),
             ({"q": "草案", "department": dept, "state": "any"}, 0), ({"department": dept, "state": "any"}, 1)]
    for params, visible in cases:
        result = search(out, **params)
        assert ("document", draft.id) not in keys(result), params
        assert "in_review" not in result["facets"].get("state", {}), params
        assert result["total"] == len(result["hits"]) == visible, params
        assert facet_total(result, "kind") == visible, params
        assert facet_total(result, "department") == visible, params
    for user in (author, reviewer, approver, controller):
        result = search(f.api(user), q="草案", state="any")
        assert keys(result) == {("document", draft.id)}, user.role
        assert result["facets"]["kind"] == {"document": 1}


def test_a_confidential_document_is_seen_only_by_its_department(f, doc, form, record, controller):
    public = doc("薪酬发放流程", "薪酬按月发放。", code="QP-PUB")
    secret = doc("薪酬管理制度", "保密的薪酬等级表。", code="QP-HR", confidentiality="confidential")
    rec = record(form(code="QR-HR1", title="薪酬调整审批单", confidentiality="confidential"),
                 complaint="薪酬调整")
    dept = controller.department_code
    colleague = f.user("staff", department=dept)
    outsider = f.user("staff")
    inside = search(f.api(colleague), q="薪酬")
    assert {("document", public.id), ("document", secret.id), ("record", rec.id)} <= keys(inside)
    out_api = f.api(outsider)
    for params in ({"q": "薪酬"}, {"q": "薪酬", "state": "any"}, {"q": "等级表"}, {"q": "QP-HR"},
                   {"q": rec.number}, {"kind": "document,record"}, {"department": dept},
                   {"q": "薪酬", "department": dept, "state": "any"}):
        result = search(out_api, **params)
        hidden = {("document", secret.id), ("record", rec.id)} | {
            ("document", r.id) for r in secret.document.revisions}
        assert not keys(result) & hidden, params
        shows_public = ("document", public.id) in keys(result)
        assert result["total"] == len(result["hits"]) == (1 if shows_public else 0), params
        assert facet_total(result, "kind") == result["total"], params
        assert facet_total(result, "department") == result["total"], params
        assert result["facets"]["department"].get(dept, 0) == result["total"], params


def test_an_external_reviewer_sees_only_effective_non_confidential_items(f, doc, form, record,
                                                                         new_effective, drain):
    old = doc("不合格品控制程序", "旧版：不合格品隔离。", code="QP-NC")
    new = new_effective(old.document, "新版：不合格品隔离和评审。")
    draft = f.draft(new.document, body="<p>草案：不合格品隔离。</p>", reason="修订", level="minor")
    secret = doc("不合格品保密清单", "保密：不合格品隔离名单。", code="QP-NCS", confidentiality="confidential")
    rec = record(form(code="QR-NC1", title="不合格品处置单"), complaint="隔离待处置")
    drain()
    reviewer = f.user("external_reviewer")
    api = f.api(reviewer)
    result = search(api, q="隔离", state="any")
    assert keys(result) == {("document", new.id), ("record", rec.id)}
    assert result["total"] == 2 and facet_total(result, "kind") == 2
    for params in ({"q": "隔离"}, {"q": "草案", "state": "any"}, {"q": "旧版", "state": "any"},
                   {"q": "QP-NCS", "state": "any"}, {"state": "draft"}, {"state": "superseded"},
                   {"q": "隔离", "as_of": clock.today().isoformat()}):
        seen = keys(search(api, **params))
        assert not seen & {("document", old.id), ("document", draft.id), ("document", secret.id)}, params
    resp = api.post("/evidence", json={"q": "隔离", "note": "抽样"})
    assert_error(resp, 403)


# --- bad input -------------------------------------------------------------------------------

@pytest.fixture
def corpus(f, doc):
    """One effective document plus a draft: 'bad input' must neither crash nor leak."""
    rev = doc("客户投诉处理程序", "规定客户投诉的受理、调查和答复。", code="QP-BAD")
    f.draft(rev.document, body="<p>投诉草案秘密条款。</p>", reason="修订")
    db.session.rollback()
    indexer.drain_outbox()
    return rev


ODD_QUERIES = ["", "   ", '"投诉', '投诉"', "(投诉", "投诉)", "((投诉", "(投诉 OR", "投诉))", '"(投诉"', "*", "?", "~",
               "投诉*", "投*", "投诉~", "投诉~2", "?诉", "state:draft", "state:in_review", "state:draft 投诉",
               "kind:record", "audience:all", "tour:yes", "NOT", "OR OR", "AND", "NOT 投诉", "\u3000",
               "((((((((投诉))))))))", "title:投诉", "投诉^10", "[a TO z]", "{投诉}", "\\", "'", "%",
               "投诉 -受理", "+投诉"]


@pytest.mark.parametrize("q", ODD_QUERIES)
def test_odd_queries_give_results_never_errors_or_drafts(f, corpus, q):
    resp = f.api(f.user("staff")).get("/search", query_string={"q": q})
    assert resp.status_code == 200, (q, resp.status_code, resp.get_data(as_text=True)[:300])
    result = resp.get_json()
    assert result["total"] == len(result["hits"]) <= 1, q
    assert all(h["id"] == corpus.id for h in result["hits"]), q
    assert "草案" not in "".join(h["snippet"] for h in result["hits"])


def test_field_syntax_cannot_reach_hidden_fields(f, corpus):
    api = f.api(f.user("staff"))
    for q in ("state:draft", "state:draft 投诉", "audience:controllers", "tour:no 投诉", "confidentiality:internal",
              "草案", "秘密"):
        for state in (None, "any"):
            params = {"q": q} | ({"state": state} if state else {})
            result = search(api, **params)
            assert all(h["id"] == corpus.id for h in result["hits"]), params
            assert "draft" not in result["facets"].get("state", {}), params
    assert search(api, q="草案", state="any")["total"] == 0


def test_empty_query_is_an_empty_result(f, corpus):
    api = f.api(f.user("staff"))
    for params in ({}, {"q": ""}, {"q": "  "}):
        result = search(api, **params)
        assert (result["total"], result["hits"]) == (0, []), params
        assert set(result["facets"]) >= {"kind", "department"}


def test_a_ten_thousand_character_query_is_refused_cleanly(f, corpus):
    api = f.api(f.user("staff"))
    resp = api.get("/search", query_string={"q": "投诉" * 5000})
    assert resp.status_code in (200, 400), resp.status_code
    if resp.status_code == 400:
        assert_error(resp, 400)
    resp = api.get("/search", query_string={"q": "x" * 10_000})
    assert resp.status_code in (200, 400) and resp.is_json
    resp = api.get("/search", query_string={"q": " ".join(["投诉"] * 400)})  # many words
    assert resp.status_code in (200, 400) and resp.is_json


NASTY = ["(" * 50 + "投诉", ")" * 50, "NOT " * 30 + "投诉", "投" * 1000, '"' * 999, "a OR " * 100, "投诉 " * 41,
         "投诉 AND " * 30, "“投诉", "「投诉", "（投诉", "ＱＲ－ＳＨ００９", "\ufffd\ufffd", "🙂" * 300, "a" * 1000,
         "-".join(["x"] * 300), "QR-" * 300, "\u202e投诉", "投诉\u200b"]


@pytest.mark.parametrize("q", NASTY)
def test_nasty_queries_are_200_or_a_clear_400(f, corpus, q):
    resp = f.api(f.user("staff")).get("/search", query_string={"q": q})
    assert resp.status_code in (200, 400), (resp.status_code, resp.get_data(as_text=True)[:300])
    if resp.status_code == 400:
        assert_error(resp, 400)
    else:
        assert all(h["id"] == corpus.id for h in resp.get_json()["hits"])


@pytest.mark.parametrize("params", [
    {"q": "投诉", "color": "red"}, {"q": "投诉", "filter": "state:draft"}, {"q": "投诉", "audience": "all"},
    {"q": "投诉", "tour": "yes"}, {"q": "投诉", "page": "0"}, {"q": "投诉", "page": "-1"},
    {"q": "投诉", "page": "abc"}, {"q": "投诉", "page": "1.5"}, {"q": "投诉", "per_page": "0"},
    {"q": "投诉", "per_page": "-5"}, {"q": "投诉", "kind": "bogus"}, {"q": "投诉", "state": "bogus"},
    {"q": "投诉", "as_of": "2026-13-40"}, {"q": "投诉", "as_of": "yesterday"}, {"q": "投诉", "sort": "size"},
    {"q": "投诉", "date_from": "2026-05-02", "date_to": "2026-05-01"}, {"q": "投诉", "page": "9" * 30},
])
def test_bad_parameters_are_a_400_json_error(f, corpus, params):
    assert_error(f.api(f.user("staff")).get("/search", query_string=params), 400)


def test_unknown_filters_are_refused(f, corpus):
    api = f.api(f.user("staff"))
    error = assert_error(api.get("/search", query_string={"q": "投诉", "colour": "red"}), 400)
    assert "colour" in error["message"]


def test_paging_past_the_end_and_per_page_cap(f, remark_form, controller, drain, staff_api):
    form_doc = remark_form("QR-PG01", title="巡检记录表")
    for n in range(105):
        records.issue_record(controller, form_doc, {"data": {"remark": f"巡检第{n}次：正常"}})
    drain()
    first = search(staff_api, q="巡检", kind="record")
    assert first["total"] == 105 and len(first["hits"]) == 20
    capped = search(staff_api, q="巡检", kind="record", per_page=10**6)
    assert capped["total"] == 105 and len(capped["hits"]) == 100
    assert capped.get("per_page", 100) == 100
    beyond = search(staff_api, q="巡检", kind="record", page=10**9)
    assert (beyond["total"], beyond["hits"], beyond["page"]) == (105, [], 10**9)
    last = search(staff_api, q="巡检", kind="record", page=6)
    assert len(last["hits"]) == 5
    seen = [h["id"] for p in range(1, 7) for h in search(staff_api, q="巡检", kind="record", page=p)["hits"]]
    assert len(seen) == len(set(seen)) == 105


@pytest.mark.parametrize("raw", ["q=%ff%fe", "q=%ff", "q=%c3%28", "q=%e6%8a", "q=%ed%a0%80",
                                 "q=%E6%8A%95%E8%AF%89%ff", "kind=%ff&q=x", "q=x&%ff=1",
                                 "q=%00", "q=%e6%8a%95%e8%af%89&state=%ff"])
def test_non_utf8_query_strings_never_crash(f, corpus, raw):
    resp = f.api(f.user("staff")).get("/search?" + raw)
    assert resp.status_code in (200, 400), (raw, resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.is_json
    if resp.status_code == 400:
        assert_error(resp, 400)
    else:
        assert not re.search("草案", resp.get_data(as_text=True))


def test_confidentiality_and_obsolescence_through_the_api_apply_at_once(app, f, doc, form, record,
                                                                        controller, staff_api):
    rev = doc("工资核算规程", "工资核算的步骤。", code="QP-GZ")
    rec = record(form(code="QR-GZ1", title="工资核算表"), complaint="工资核算差错")
    reviewer = f.api(f.user("external_reviewer"))
    assert keys(search(staff_api, q="工资核算")) == {("document", rev.id), ("record", rec.id),
                                                   ("document", rec.form.revisions[0].id)}
    app.config["SEARCH_INLINE"] = True
    api = f.api(controller)
    for document in (rev.document, rec.form):
        resp = api.patch(f"/documents/{document.id}", json={"confidentiality": "confidential"})
        assert resp.status_code == 200, resp.get_json()
    for user_api in (staff_api, reviewer):
        result = search(user_api, q="工资核算", state="any")
        assert (result["total"], result["hits"], facet_total(result, "kind")) == (0, [], 0)
    assert search(f.api(f.user("staff", department=controller.department_code)), q="工资核算")["total"] == 3
    assert api.patch(f"/documents/{rev.document.id}", json={"confidentiality": "internal"}).status_code == 200
    assert keys(search(reviewer, q="工资核算")) == {("document", rev.id)}
    resp = api.post(f"/documents/{rev.document.id}/obsolete", json={"reason": "合并到新程序"})
    assert resp.status_code == 200, resp.get_json()
    assert search(staff_api, q="工资核算", kind="document")["total"] == 0
    assert search(reviewer, q="工资核算", state="any")["total"] == 0
    assert [h.get("state") for h in search(staff_api, q="工资核算", kind="document", state="any")["hits"]] == [
        "obsolete"]
