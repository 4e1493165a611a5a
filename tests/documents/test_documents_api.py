"""The documents and revisions contract, exercised only through the HTTP API
(CONTRACT.md "Conventions", "Documents and revisions", "Audit trail")."""
import io
import re
from datetime import datetime

import docx
import openpyxl
import pytest
from sqlalchemy import func, select

from factories import PASSWORD
from portal import clock
from portal.documents.models import Document, Revision
from portal.extensions import db

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCUMENT_FIELDS = {"id", "code", "title", "doc_type", "department", "clauses", "status",
                   "current_revision", "revisions", "next_review_due"}
REVISION_FIELDS = {"id", "document_id", "label", "state", "body_html", "text", "change_summary",
                   "author", "signatures", "effective_date", "created_at"}
TRAIL_FIELDS = {"seq", "at", "actor", "action", "object_type", "object_id", "before", "after",
                "reason", "hash"}


# --- helpers ---------------------------------------------------------------------------

def count(model) -> int:
    """Rows of `model` as committed by the requests (drops the test session's snapshot)."""
    db.session.rollback()
    total = db.session.execute(select(func.count()).select_from(model)).scalar()
    db.session.rollback()
    return total


def assert_error(resp, status: int) -> dict:
    """A JSON error body {"error": {"code", "message"}} with the given status."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    error = resp.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def doc_payload(department: str, **overrides) -> dict:
    data = {"code": "QP-0701", "title": "文件和资料控制程序", "doc_type": "procedure",
            "department": department, "clauses": ["ISO 9001:2015 7.5.3"]}
    data.update(overrides)
    return data


def rev_payload(**overrides) -> dict:
    data = {"body_html": "<h2>1 目的</h2><p>规范文件的编制、审核、批准。</p>",
            "change_summary": "首版发行", "change_level": "minor"}
    data.update(overrides)
    return data


def sign_payload(meaning="review", decision="accept", password=PASSWORD, comment="同意") -> dict:
    return {"meaning": meaning, "decision": decision, "comment": comment, "password": password}


def build_docx() -> bytes:
    """A Word file with Chinese headings, a paragraph and a table."""
    document = docx.Document()
    document.add_heading("1 目的", level=1)
    document.add_paragraph("为规范售后服务过程，特制定本程序。")
    document.add_heading("2 职责", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "部门"
    table.cell(0, 1).text = "职责"
    table.cell(1, 0).text = "售后服务部"
    table.cell(1, 1).text = "受理客户投诉"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_header_text(data: bytes) -> str:
    """Every piece of text in the section headers, tables included."""
    document = docx.Document(io.BytesIO(data))
    parts = []
    for section in document.sections:
        for header in (section.header, section.first_page_header):
            parts.extend(p.text for p in header.paragraphs)
            for table in header.tables:
                parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def capi(f, controller):
    """The API as a document controller."""
    return f.api(controller)


def start_workflow(f, capi, controller):
    """A document with a draft written by a staff author, through the API."""
    author = f.user("staff", department=controller.department_code)
    aapi = f.api(author)
    doc = capi.post("/documents", json=doc_payload(controller.department_code)).get_json()
    rev = aapi.post(f"/documents/{doc['id']}/revisions", json=rev_payload())
    assert rev.status_code == 201, rev.get_json()
    return doc, rev.get_json(), author, aapi


def submit_via_api(f, aapi, rev_id, n_reviewers=1):
    reviewers = [f.user("approver") for _ in range(n_reviewers)]
    approver = f.user("approver")
    resp = aapi.post(f"/revisions/{rev_id}/submit",
                     json={"reviewers": [u.username for u in reviewers], "approver": approver.username})
    assert resp.status_code == 200, resp.get_json()
    return reviewers, approver


# --- registering and finding documents ---------------------------------------------------

def test_create_document_answers_201_with_contract_fields(capi, controller):
    """POST /documents registers a document in status draft with every contract field."""
    resp = capi.post("/documents", json=doc_payload(controller.department_code,
                                                    review_period_months=24,
                                                    confidentiality="internal"))
    assert resp.status_code == 201
    body = resp.get_json()
    assert DOCUMENT_FIELDS <= set(body)
    assert body["code"] == "QP-0701"
    assert body["title"] == "文件和资料控制程序"
    assert body["doc_type"] == "procedure"
    assert body["department"] == controller.department_code
    assert body["clauses"] == ["ISO 9001:2015 7.5.3"]
    assert body["status"] == "draft"
    assert body["current_revision"] is None
    assert body["revisions"] == []
    assert body["review_period_months"] == 24
    assert capi.get(f"/documents/{body['id']}").get_json()["code"] == "QP-0701"


def test_code_containing_slash_is_found_by_query(capi, controller):
    """Codes such as SH/BD-01 never go into a path; ?code= finds exactly that document."""
    dept = controller.department_code
    created = capi.post("/documents", json=doc_payload(dept, code="SH/BD-01")).get_json()
    capi.post("/documents", json=doc_payload(dept, code="SH/BD-02"))
    capi.post("/documents", json=doc_payload(dept, code="SH"))
    for resp in (capi.get("/documents?code=SH/BD-01"),
                 capi.get("/documents", query_string={"code": "SH/BD-01"})):
        body = resp.get_json()
        assert resp.status_code == 200
        assert body["total"] == 1
        assert [d["id"] for d in body["items"]] == [created["id"]]
        assert body["items"][0]["code"] == "SH/BD-01"


def test_duplicate_code_is_409(capi, controller):
    """A second document with an existing code is refused and not stored."""
    payload = doc_payload(controller.department_code)
    assert capi.post("/documents", json=payload).status_code == 201
    assert_error(capi.post("/documents", json={**payload, "title": "另一个文件"}), 409)
    assert count(Document) == 1


def test_filters_by_doc_type_department_and_status(f, capi, controller):
    """GET /documents filters by doc_type, department and status."""
    other = f.department()
    dept = controller.department_code
    capi.post("/documents", json=doc_payload(dept, code="QM-01", doc_type="manual"))
    capi.post("/documents", json=doc_payload(dept, code="QP-01"))
    capi.post("/documents", json=doc_payload(other.code, code="QP-02"))
    effective = f.document(controller=controller, code="QP-03")
    f.effective(effective)

    def codes(query):
        return [d["code"] for d in capi.get("/documents" + query).get_json()["items"]]

    assert codes("?doc_type=manual") == ["QM-01"]
    assert codes(f"?department={other.code}") == ["QP-02"]
    assert codes("?status=effective") == ["QP-03"]
    assert sorted(codes("?doc_type=procedure&status=draft")) == ["QP-01", "QP-02"]


def test_list_paging_shape_and_per_page_cap(capi, controller):
    """Lists are {items,total,page,per_page}; per_page defaults to 20 and is capped at 100."""
    dept = controller.department_code
    for n in range(5):
        assert capi.post("/documents", json=doc_payload(dept, code=f"QP-{n:02d}")).status_code == 201
    default = capi.get("/documents").get_json()
    assert set(default) >= {"items", "total", "page", "per_page"}
    assert (default["total"], default["page"], default["per_page"]) == (5, 1, 20)
    assert len(default["items"]) == 5

    first = capi.get("/documents?per_page=2&page=1").get_json()
    second = capi.get("/documents?per_page=2&page=2").get_json()
    last = capi.get("/documents?per_page=2&page=3").get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    assert second["page"] == 2
    assert [len(p["items"]) for p in (first, second, last)] == [2, 2, 1]
    seen = [d["code"] for d in first["items"] + second["items"] + last["items"]]
    assert sorted(seen) == [f"QP-{n:02d}" for n in range(5)]  # every one, none twice

    capped = capi.get("/documents?per_page=1000").get_json()
    assert capped["per_page"] == 100
    assert len(capped["items"]) == 5


def test_unknown_document_id_is_json_404(capi):
    """An unknown id answers 404 with a JSON error, never an HTML page."""
    assert_error(capi.get("/documents/987654"), 404)
    assert_error(capi.get("/revisions/987654"), 404)


# --- revisions ---------------------------------------------------------------------------

def test_start_revision_from_json(f, capi, controller):
    """POST /documents/{id}/revisions → 201 draft A/0 written by the caller."""
    author = f.user("staff")
    doc = capi.post("/documents", json=doc_payload(controller.department_code)).get_json()
    resp = f.api(author).post(f"/documents/{doc['id']}/revisions", json=rev_payload())
    assert resp.status_code == 201
    rev = resp.get_json()
    assert REVISION_FIELDS <= set(rev)
    assert (rev["label"], rev["state"], rev["document_id"]) == ("A/0", "draft", doc["id"])
    assert rev["author"] == author.username
    assert "规范文件的编制" in rev["body_html"] and "规范文件的编制" in rev["text"]
    assert rev["effective_date"] is None
    fetched = capi.get(f"/revisions/{rev['id']}").get_json()
    assert fetched["body_html"] == rev["body_html"]
    assert capi.get(f"/documents/{doc['id']}").get_json()["revisions"][0]["id"] == rev["id"]


def test_start_revision_from_docx_upload(f, capi, controller):
    """A multipart .docx becomes the body: Chinese headings and table cells are kept."""
    doc = capi.post("/documents", json=doc_payload(controller.department_code)).get_json()
    resp = capi.post(f"/documents/{doc['id']}/revisions",
                     data={"file": (io.BytesIO(build_docx()), "售后服务管理程序.docx"),
                           "change_summary": "首版发行", "change_level": "major"},
                     content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    rev = resp.get_json()
    assert rev["state"] == "draft" and rev["label"] == "A/0"
    html = rev["body_html"]
    assert re.search(r"<h1[^>]*>1 目的</h1>", html), html
    assert re.search(r"<h2[^>]*>2 职责</h2>", html), html
    assert "为规范售后服务过程" in html
    assert re.search(r"<table[^>]*>.*<td[^>]*>受理客户投诉</td>", html, re.S), html
    assert "受理客户投诉" in rev["text"]


def test_labels_follow_change_level(f, capi, controller):
    """minor increments the number, major the letter: A/0 → A/1 → B/0."""
    doc = f.document(controller=controller)
    first = f.effective(doc)
    assert first.label == "A/0"
    minor = capi.post(f"/documents/{doc.id}/revisions",
                      json=rev_payload(change_level="minor", change_reason="措辞修改")).get_json()
    assert minor["label"] == "A/1"
    db.session.rollback()
    rev = db.session.get(Revision, minor["id"])
    f.approved(rev)
    released = capi.post(f"/revisions/{rev.id}/release",
                         json={"effective_date": clock.today().isoformat()})
    assert released.status_code == 200, released.get_json()
    major = capi.post(f"/documents/{doc.id}/revisions",
                      json=rev_payload(change_level="major", change_reason="换版")).get_json()
    assert major["label"] == "B/0"


def test_patch_only_while_draft(f, capi, controller):
    """PATCH /revisions/{id} edits a draft; after submit it answers 409 and changes nothing."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    resp = aapi.patch(f"/revisions/{rev['id']}", json={"body_html": "<p>修改后的内容</p>"})
    assert resp.status_code == 200
    assert "修改后的内容" in resp.get_json()["body_html"]
    assert "修改后的内容" in aapi.get(f"/revisions/{rev['id']}").get_json()["body_html"]

    submit_via_api(f, aapi, rev["id"])
    assert_error(aapi.patch(f"/revisions/{rev['id']}", json={"body_html": "<p>偷偷修改</p>"}), 409)
    assert_error(capi.patch(f"/revisions/{rev['id']}", json={"body_html": "<p>偷偷修改</p>"}), 409)
    after = aapi.get(f"/revisions/{rev['id']}").get_json()
    assert "偷偷修改" not in after["body_html"] and after["state"] == "in_review"


def test_second_open_revision_is_409(f, capi, controller):
    """Only one unreleased revision per document at a time."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    before = count(Revision)
    assert_error(capi.post(f"/documents/{doc['id']}/revisions",
                           json=rev_payload(change_reason="再开一个")), 409)
    assert count(Revision) == before


def test_change_reason_required_after_first_revision(f, capi, controller):
    """Every revision after the first needs change_reason (422 without it)."""
    doc = f.document(controller=controller)
    f.effective(doc)
    before = count(Revision)
    error = assert_error(capi.post(f"/documents/{doc.id}/revisions", json=rev_payload()), 422)
    assert "change_reason" in error.get("fields", {})
    assert count(Revision) == before
    ok = capi.post(f"/documents/{doc.id}/revisions", json=rev_payload(change_reason="增加电子文件控制"))
    assert ok.status_code == 201 and ok.get_json()["change_reason"] == "增加电子文件控制"


# --- the workflow: submit, sign, release, obsolete ----------------------------------------

def test_full_workflow_through_http(f, capi, controller):
    """draft → in_review → approved → effective → obsolete, each action answering 200."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    reviewer, approver = f.user("approver"), f.user("approver")
    resp = aapi.post(f"/revisions/{rev['id']}/submit",
                     json={"reviewers": [reviewer.username], "approver": approver.username})
    assert resp.status_code == 200 and resp.get_json()["state"] == "in_review"

    resp = f.api(reviewer).post(f"/revisions/{rev['id']}/sign", json=sign_payload("review"))
    assert resp.status_code == 200 and resp.get_json()["state"] == "in_review"
    resp = f.api(approver).post(f"/revisions/{rev['id']}/sign", json=sign_payload("approve", comment="批准"))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["state"] == "approved"
    signed = {s["meaning"]: s for s in body["signatures"] if s["decision"] == "accept"}
    assert set(signed) == {"prepare", "review", "approve"}
    assert signed["approve"]["printed_name"] == approver.display_name
    assert signed["approve"]["signed_at"]
    assert signed["review"]["signer"] == reviewer.username

    today = clock.today().isoformat()
    resp = capi.post(f"/revisions/{rev['id']}/release", json={"effective_date": today})
    assert resp.status_code == 200
    assert resp.get_json()["state"] == "effective"
    assert resp.get_json()["effective_date"] == today
    document = capi.get(f"/documents/{doc['id']}").get_json()
    assert document["status"] == "effective"
    assert document["current_revision"]["id"] == rev["id"]
    assert document["next_review_due"] is not None

    resp = capi.post(f"/documents/{doc['id']}/obsolete", json={"reason": "业务取消"})
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "obsolete"
    assert capi.get(f"/revisions/{rev['id']}").get_json()["state"] == "obsolete"


def test_release_supersedes_previous_and_future_date_waits(f, capi, controller, frozen):
    """A future effective date waits as released; on its day the old revision is superseded."""
    from portal.views import activate_due  # what the request hook runs outside tests

    frozen(datetime(2024, 3, 1, 4, 0))
    doc = f.document(controller=controller)
    first = f.effective(doc)
    second = f.approved(f.draft(doc, reason="增加条款"))
    resp = capi.post(f"/revisions/{second.id}/release", json={"effective_date": "2024-03-15"})
    assert resp.status_code == 200
    assert resp.get_json()["state"] == "released"
    assert capi.get(f"/revisions/{first.id}").get_json()["state"] == "effective"

    frozen(datetime(2024, 3, 15, 4, 0))
    db.session.rollback()
    assert activate_due() == 1
    assert capi.get(f"/revisions/{second.id}").get_json()["state"] == "effective"
    old = capi.get(f"/revisions/{first.id}").get_json()
    assert (old["state"], old["ended_on"]) == ("superseded", "2024-03-15")
    assert capi.get(f"/documents/{doc.id}").get_json()["current_revision"]["id"] == second.id


def test_rejection_returns_to_draft_with_comment(f, capi, controller):
    """A rejecting reviewer sends the revision back to draft and the comment is kept."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    (reviewer,), approver = submit_via_api(f, aapi, rev["id"])
    resp = f.api(reviewer).post(f"/revisions/{rev['id']}/sign",
                                json=sign_payload("review", "reject", comment="第4章职责不清"))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["state"] == "draft"
    assert "第4章职责不清" in [s["comment"] for s in body["signatures"]]


@pytest.mark.parametrize("as_reviewer", [True, False], ids=["reviewer", "approver"])
def test_author_cannot_sign_own_revision(f, capi, controller, as_reviewer):
    """Naming the author as reviewer or approver is 422 and the revision stays draft."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    other = f.user("approver")
    data = ({"reviewers": [author.username], "approver": other.username} if as_reviewer
            else {"reviewers": [other.username], "approver": author.username})
    assert_error(aapi.post(f"/revisions/{rev['id']}/submit", json=data), 422)
    assert aapi.get(f"/revisions/{rev['id']}").get_json()["state"] == "draft"


def test_signing_rules(f, capi, controller):
    """Wrong signer 403, wrong password 403, signing twice 409; none of them count."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    (r1, r2), approver = submit_via_api(f, aapi, rev["id"], n_reviewers=2)
    path = f"/revisions/{rev['id']}/sign"

    # Users who can see the revision but hold no such signing slot: a controller, and the
    # approver trying to sign as a reviewer.
    assert_error(capi.post(path, json=sign_payload("review")), 403)
    assert_error(f.api(approver).post(path, json=sign_payload("review")), 403)
    error = assert_error(f.api(r1).post(path, json=sign_payload("review", password="wrong-pass")), 403)
    assert error["code"] != "not_assigned"
    unsigned = [s for s in aapi.get(f"/revisions/{rev['id']}").get_json()["signatures"]
                if s["meaning"] == "review"]
    assert all(s["decision"] is None for s in unsigned)

    assert f.api(r1).post(path, json=sign_payload("review")).status_code == 200
    assert_error(f.api(r1).post(path, json=sign_payload("review")), 409)
    body = aapi.get(f"/revisions/{rev['id']}").get_json()
    assert body["state"] == "in_review"
    assert [s["decision"] for s in body["signatures"] if s["signer"] == r1.username] == ["accept"]


@pytest.mark.parametrize("stage", ["draft", "in_review"])
def test_releasing_unapproved_revision_is_409(f, capi, controller, stage):
    """Only an approved revision can be released."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    if stage == "in_review":
        submit_via_api(f, aapi, rev["id"])
    assert_error(capi.post(f"/revisions/{rev['id']}/release",
                           json={"effective_date": clock.today().isoformat()}), 409)
    assert capi.get(f"/revisions/{rev['id']}").get_json()["state"] == stage
    assert capi.get(f"/documents/{doc['id']}").get_json()["status"] == "draft"


# --- point in time, diff, exports ---------------------------------------------------------

def test_as_of_gives_the_revision_effective_that_day(f, capi, controller, frozen):
    """?as_of= adds revision_as_of: null before the first effective date, then the right one."""
    frozen(datetime(2024, 1, 10, 4, 0))
    doc = f.document(controller=controller)
    first = f.effective(doc)
    frozen(datetime(2024, 6, 1, 4, 0))
    second = f.effective(doc, reason="质量目标调整")

    def as_of(day):
        resp = capi.get(f"/documents/{doc.id}?as_of={day}")
        assert resp.status_code == 200
        body = resp.get_json()
        assert "revision_as_of" in body
        return body["revision_as_of"]["id"] if body["revision_as_of"] else None

    assert as_of("2024-01-09") is None
    assert as_of("2024-01-10") == first.id
    assert as_of("2024-05-31") == first.id
    assert as_of("2024-06-01") == second.id
    assert as_of("2025-01-01") == second.id
    assert "revision_as_of" not in capi.get(f"/documents/{doc.id}").get_json()
    assert_error(capi.get(f"/documents/{doc.id}?as_of=yesterday"), 400)


def test_diff_marks_insertions_and_deletions(f, capi, controller):
    """GET /revisions/{id}/diff?against= wraps removed text in <del> and added text in <ins>."""
    doc = f.document(controller=controller)
    old = f.effective(doc, body="<p>记录保存期限为三年。</p><p>由文控中心归档。</p>")
    new = capi.post(f"/documents/{doc.id}/revisions", json=rev_payload(
        body_html="<p>记录保存期限为五年。</p><p>由文控中心归档。</p><p>电子记录同样适用。</p>",
        change_reason="保存期限延长")).get_json()
    resp = capi.get(f"/revisions/{new['id']}/diff?against={old.id}")
    assert resp.status_code == 200
    html = resp.get_json()["diff_html"]
    assert "<del>三</del>" in html
    assert "<ins>五</ins>" in html
    assert "<ins>电子记录同样适用。</ins>" in html
    assert "由文控中心归档。" in html
    assert_error(capi.get(f"/revisions/{new['id']}/diff"), 400)


def test_export_docx_carries_header_block(f, capi, controller):
    """export.docx is a Word file whose header shows code, revision label and stamp."""
    doc = f.document(controller=controller, code="SH/QP-05")
    rev = f.effective(doc, body="<h2>1 目的</h2><p>规范售后服务。</p>")
    resp = capi.get(f"/revisions/{rev.id}/export.docx")
    assert resp.status_code == 200
    assert resp.mimetype == DOCX_MIME
    header = docx_header_text(resp.data).splitlines()
    assert "SH/QP-05" in header
    assert "A/0" in header
    # Only a numbered controlled copy is 受控; any other export of the revision in force
    # is 非受控 (the issue on controlled copies overrides the first contract wording).
    assert "非受控" in header
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(resp.data)).paragraphs)
    assert "规范售后服务。" in body


def test_export_docx_of_a_draft_is_stamped_draft(f, capi, controller):
    """A draft exports with the 草稿 stamp, never 受控."""
    doc = f.document(controller=controller)
    rev = f.draft(doc)
    header = docx_header_text(capi.get(f"/revisions/{rev.id}/export.docx").data).splitlines()
    assert "草稿" in header and "受控" not in header


def test_master_list_xlsx_lists_effective_documents(f, capi, controller):
    """master-list.xlsx opens in openpyxl and lists documents in force, not drafts."""
    in_force = f.document(controller=controller, code="QP-IN-FORCE", title="采购控制程序")
    f.effective(in_force)
    f.document(controller=controller, code="QP-NOT-YET")
    resp = capi.get("/master-list.xlsx")
    assert resp.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(resp.data))
    cells = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c]
    assert "QP-IN-FORCE" in cells and "采购控制程序" in cells and "A/0" in cells
    assert "QP-NOT-YET" not in cells


# --- who sees what ------------------------------------------------------------------------

def test_draft_visible_only_to_its_parties_and_controllers(f, capi, controller):
    """A draft is 404 for an unrelated staff user, visible to author, signers, controllers."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    (reviewer,), approver = submit_via_api(f, aapi, rev["id"])
    stranger = f.api(f.user("staff", department=controller.department_code))
    assert_error(stranger.get(f"/revisions/{rev['id']}"), 404)
    assert rev["id"] not in [r["id"] for r in stranger.get(f"/documents/{doc['id']}").get_json()["revisions"]]
    assert_error(stranger.get(f"/revisions/{rev['id']}/export.docx"), 404)
    for api in (aapi, f.api(reviewer), f.api(approver), capi, f.api(f.user("admin"))):
        resp = api.get(f"/revisions/{rev['id']}")
        assert resp.status_code == 200 and resp.get_json()["id"] == rev["id"]


def test_confidential_documents_hidden_from_other_departments(f, capi, controller):
    """Confidential documents are 404 and absent from lists for other departments' staff."""
    owner_dept = f.department()
    doc = capi.post("/documents", json=doc_payload(owner_dept.code, code="HR-SEC-01",
                                                   confidentiality="confidential")).get_json()
    outsider = f.api(f.user("staff"))
    assert_error(outsider.get(f"/documents/{doc['id']}"), 404)
    assert outsider.get("/documents?code=HR-SEC-01").get_json()["total"] == 0
    assert outsider.get("/documents").get_json()["total"] == 0
    assert outsider.get(f"/trail?object_type=document&object_id={doc['id']}").status_code in (403, 404)
    insider = f.api(f.user("staff", department=owner_dept.code))
    assert insider.get(f"/documents/{doc['id']}").status_code == 200
    assert insider.get("/documents?code=HR-SEC-01").get_json()["total"] == 1


def test_external_reviewer_sees_only_effective_revisions(f, capi, controller):
    """An external reviewer sees effective documents and revisions only, never drafts."""
    doc = f.document(controller=controller)
    effective = f.effective(doc)
    draft = f.draft(doc, reason="修订中")
    draft_only = f.document(controller=controller)
    f.draft(draft_only)
    confidential = f.document(controller=controller, confidentiality="confidential")
    f.effective(confidential)
    ext = f.api(f.user("external_reviewer"))

    body = ext.get(f"/documents/{doc.id}").get_json()
    assert [r["id"] for r in body["revisions"]] == [effective.id]
    assert ext.get(f"/revisions/{effective.id}").status_code == 200
    assert_error(ext.get(f"/revisions/{draft.id}"), 404)
    assert_error(ext.get(f"/documents/{draft_only.id}"), 404)
    assert_error(ext.get(f"/documents/{confidential.id}"), 404)
    listed = [d["id"] for d in ext.get("/documents").get_json()["items"]]
    assert listed == [doc.id]


def test_external_reviewer_gets_403_on_every_write(f, capi, controller):
    """Every POST and PATCH by an external reviewer is 403 and changes nothing."""
    doc = f.document(controller=controller)
    f.effective(doc)
    rev = f.approved(f.draft(doc, reason="修订"))
    ext = f.api(f.user("external_reviewer"))
    before = (count(Document), count(Revision))
    posts = [("/documents", doc_payload(controller.department_code, code="EXT-1")),
             (f"/documents/{doc.id}/revisions", rev_payload(change_reason="x")),
             (f"/revisions/{rev.id}/submit", {"reviewers": ["x"], "approver": "y"}),
             (f"/revisions/{rev.id}/sign", sign_payload()),
             (f"/revisions/{rev.id}/release", {"effective_date": clock.today().isoformat()}),
             (f"/documents/{doc.id}/obsolete", {"reason": "x"}),
             ("/tokens", {})]
    for path, payload in posts:
        assert_error(ext.post(path, json=payload), 403)
    for path, payload in [(f"/revisions/{rev.id}", {"body_html": "<p>x</p>"}),
                          (f"/documents/{doc.id}", {"title": "篡改"})]:
        assert_error(ext.patch(path, json=payload), 403)
    assert (count(Document), count(Revision)) == before
    assert capi.get(f"/revisions/{rev.id}").get_json()["state"] == "approved"
    assert capi.get(f"/documents/{doc.id}").get_json()["title"] == "文件和资料控制程序"


# --- audit trail and OpenAPI --------------------------------------------------------------

def test_trail_lists_an_objects_changes_in_order(f, capi, controller):
    """GET /trail?object_type=revision&object_id= lists every state change, oldest first."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    (reviewer,), approver = submit_via_api(f, aapi, rev["id"])
    f.api(reviewer).post(f"/revisions/{rev['id']}/sign", json=sign_payload("review"))
    f.api(approver).post(f"/revisions/{rev['id']}/sign", json=sign_payload("approve"))
    capi.post(f"/revisions/{rev['id']}/release", json={"effective_date": clock.today().isoformat()})

    resp = capi.get(f"/trail?object_type=revision&object_id={rev['id']}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) >= {"items", "total", "page", "per_page"}
    items = body["items"]
    assert all(TRAIL_FIELDS <= set(e) for e in items)
    assert all(e["object_type"] == "revision" and e["object_id"] == rev["id"] for e in items)
    seqs = [e["seq"] for e in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    actions = [e["action"] for e in items]
    assert actions[0] == "revision.create" and actions[-1] == "revision.make_effective"
    assert actions.index("revision.submit") < actions.index("revision.approve")
    by_action = {e["action"]: e for e in items}
    assert by_action["revision.create"]["actor"] == author.username
    assert by_action["revision.make_effective"]["actor"] == controller.username
    assert by_action["revision.submit"]["before"] == {"state": "draft"}
    assert by_action["revision.submit"]["after"]["state"] == "in_review"
    for entry in items:
        at = datetime.fromisoformat(entry["at"])
        assert at.utcoffset() is not None
        assert len(entry["hash"]) == 64

    doc_trail = capi.get(f"/trail?object_type=document&object_id={doc['id']}").get_json()["items"]
    assert [e["action"] for e in doc_trail][:1] == ["document.create"]


def test_trail_requires_visibility_of_the_object(f, capi, controller):
    """Staff may read the trail of objects they see, not of drafts hidden from them."""
    doc, rev, author, aapi = start_workflow(f, capi, controller)
    assert aapi.get(f"/trail?object_type=revision&object_id={rev['id']}").status_code == 200
    stranger = f.api(f.user("staff"))
    assert stranger.get(f"/trail?object_type=revision&object_id={rev['id']}").status_code in (403, 404)
    assert_error(stranger.get("/trail"), 403)


def test_openapi_served_without_auth(client):
    """/api/v1/openapi.json is an OpenAPI 3 description available without a token."""
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/documents" in spec["paths"]
    assert "post" in spec["paths"]["/documents"]


def test_api_requires_a_token(client):
    """Without a bearer token the API answers 401 JSON, not a login redirect."""
    resp = client.get("/api/v1/documents")
    assert_error(resp, 401)
