"""Hostile and malformed input: every refusal is a clear 4xx JSON error and changes nothing;
accepted input is stored safely (CONTRACT.md "Conventions")."""
import io
import json
import re
import zipfile
from datetime import date, datetime, timedelta

import docx
import pytest
from sqlalchemy import func, select

from factories import PASSWORD
from portal import clock
from portal.accounts import services as accounts
from portal.accounts.models import ApiToken
from portal.documents.models import Document, Revision
from portal.extensions import db
from portal.trail.models import TrailEntry


# --- helpers ---------------------------------------------------------------------------

def snapshot() -> tuple[int, int, int]:
    """(documents, revisions, trail entries) as committed, outside any stale snapshot."""
    db.session.rollback()
    counts = tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                   for m in (Document, Revision, TrailEntry))
    db.session.rollback()
    return counts


def assert_error(resp, *statuses: int) -> dict:
    """A JSON error {"error": {"code", "message"}} with one of the given statuses."""
    assert resp.status_code in statuses, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    error = resp.get_json()["error"]
    assert isinstance(error["code"], str) and re.fullmatch(r"[a-z0-9_]+", error["code"])
    assert isinstance(error["message"], str) and error["message"]
    return error


def raw_post(api, path, data, content_type=None, method="post"):
    """Send `data` as the body, bypassing the JSON encoding of the test client."""
    headers = {"Authorization": f"Bearer {api.token}"}
    if content_type:
        headers["Content-Type"] = content_type
    return getattr(api.client, method)("/api/v1" + path, data=data, headers=headers)


def valid_doc(department: str, **overrides) -> dict:
    data = {"code": "QP-0801", "title": "不合格品控制程序", "doc_type": "procedure",
            "department": department, "clauses": ["ISO 9001:2015 8.7"]}
    data.update(overrides)
    return data


def docx_bytes(text="1 目的") -> bytes:
    document = docx.Document()
    document.add_heading(text, level=1)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def upload(api, doc_id, data: bytes, filename="程序.docx"):
    return api.post(f"/documents/{doc_id}/revisions",
                    data={"file": (io.BytesIO(data), filename), "change_summary": "首版发行"},
                    content_type="multipart/form-data")


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def capi(f, controller):
    return f.api(controller)


@pytest.fixture
def doc(f, controller):
    """A registered document without revisions."""
    return f.document(controller=controller)


# --- malformed bodies -------------------------------------------------------------------

def test_malformed_json_is_400(capi, controller):
    """A truncated JSON body is 400 and creates nothing."""
    before = snapshot()
    body = json.dumps(valid_doc(controller.department_code))[:-5]
    assert_error(raw_post(capi, "/documents", body, "application/json"), 400)
    assert snapshot() == before


def test_json_array_instead_of_object_is_400(capi, controller):
    """A JSON array where an object is expected is 400."""
    before = snapshot()
    body = json.dumps([valid_doc(controller.department_code)])
    assert_error(raw_post(capi, "/documents", body, "application/json"), 400)
    assert snapshot() == before


@pytest.mark.parametrize("field, value", [
    ("title", 12345),
    ("clauses", "ISO 9001:2015 8.7"),
    ("review_period_months", "12"),
    ("review_period_months", True),
    ("code", ["QP-1"]),
    ("doc_type", "memo"),
    ("confidentiality", "top_secret"),
    ("code", "QP\n01"),
    ("review_period_months", 10**30),
], ids=["title-number", "clauses-string", "months-string", "months-bool", "code-list",
        "doc_type-unknown", "confidentiality-unknown", "code-newline", "months-huge"])
def test_wrong_types_are_422_naming_the_field(capi, controller, field, value):
    """A value of the wrong type is 422 with a message for that field."""
    before = snapshot()
    resp = capi.post("/documents", json=valid_doc(controller.department_code, **{field: value}))
    error = assert_error(resp, 422)
    assert field in error.get("fields", {})
    assert snapshot() == before


def test_missing_content_type_is_refused(capi, controller):
    """A JSON text without Content-Type: application/json is refused (400/415)."""
    before = snapshot()
    body = json.dumps(valid_doc(controller.department_code)).encode()
    assert_error(raw_post(capi, "/documents", body), 400, 415)
    assert_error(raw_post(capi, "/documents", body, "text/plain"), 400, 415)
    assert snapshot() == before


@pytest.mark.parametrize("char", ["A", "文"], ids=["ascii", "chinese"])
def test_ten_megabyte_title_is_refused_not_500(capi, controller, char):
    """A 10 MB title answers 413 or 422, never 500."""
    before = snapshot()
    resp = capi.post("/documents", json=valid_doc(controller.department_code, title=char * 10_000_000))
    assert_error(resp, 413, 422)
    assert snapshot() == before


def test_non_utf8_body_is_400(capi):
    """Bytes that are not UTF-8, sent as JSON, are 400."""
    before = snapshot()
    body = b'{"code": "QP-9", "title": "\xb2\xbb\xba\xcf\xb8\xf1", "doc_type": "procedure"}'
    assert_error(raw_post(capi, "/documents", body, "application/json"), 400)
    assert snapshot() == before


def test_malformed_json_on_revision_actions(f, capi, doc):
    """Malformed bodies on submit/sign/release are 400 and leave the revision as it was."""
    rev = f.draft(doc)
    before = snapshot()
    for action in ("submit", "sign", "release"):
        assert_error(raw_post(capi, f"/revisions/{rev.id}/{action}", "{not json", "application/json"), 400)
        assert_error(raw_post(capi, f"/revisions/{rev.id}/{action}", "[]", "application/json"), 400)
    assert_error(raw_post(capi, f"/revisions/{rev.id}", "{not json", "application/json", "patch"), 400)
    assert snapshot() == before
    assert capi.get(f"/revisions/{rev.id}").get_json()["state"] == "draft"


# --- unknown references -----------------------------------------------------------------

def test_unknown_department_is_422(capi):
    """A document for a department that does not exist is 422."""
    before = snapshot()
    error = assert_error(capi.post("/documents", json=valid_doc("NOSUCHDEPT")), 422)
    assert "department" in error.get("fields", {})
    assert snapshot() == before


def test_unknown_clause_is_422(capi, controller):
    """A clause reference missing from the catalogue is 422."""
    before = snapshot()
    resp = capi.post("/documents", json=valid_doc(controller.department_code,
                                                  clauses=["ISO 9001:2015 99.9"]))
    error = assert_error(resp, 422)
    assert "clauses" in error.get("fields", {})
    assert snapshot() == before


def test_unknown_reviewer_is_422(f, doc):
    """Submitting to a reviewer who does not exist is 422; the revision stays draft."""
    rev = f.draft(doc)
    api = f.api(rev.author)
    approver = f.user("approver")
    before = snapshot()
    resp = api.post(f"/revisions/{rev.id}/submit",
                    json={"reviewers": ["nobody-here"], "approver": approver.username})
    error = assert_error(resp, 422)
    assert "reviewers" in error.get("fields", {})
    assert snapshot() == before
    got = api.get(f"/revisions/{rev.id}").get_json()
    assert got["state"] == "draft" and got["signatures"] == []


# --- wrong role for each transition -----------------------------------------------------

def test_staff_cannot_create_documents(f):
    """Registering a document is for controllers: staff get 403."""
    staff = f.user("staff")
    api = f.api(staff)
    before = snapshot()
    assert_error(api.post("/documents", json=valid_doc(staff.department_code)), 403)
    assert snapshot() == before


def test_staff_cannot_release(f, doc):
    """Releasing is for controllers: staff (here the revision's own author) get 403."""
    rev = f.approved(f.draft(doc))
    api = f.api(rev.author)
    before = snapshot()
    assert_error(api.post(f"/revisions/{rev.id}/release",
                          json={"effective_date": clock.today().isoformat()}), 403)
    assert snapshot() == before
    assert api.get(f"/revisions/{rev.id}").get_json()["state"] == "approved"


def test_approver_cannot_obsolete(f, doc):
    """Making a document obsolete is for controllers: an approver gets 403."""
    f.effective(doc)
    approver = f.user("approver", department=doc.department.code)
    api = f.api(approver)
    before = snapshot()
    assert_error(api.post(f"/documents/{doc.id}/obsolete", json={"reason": "不再需要"}), 403)
    assert snapshot() == before
    assert api.get(f"/documents/{doc.id}").get_json()["status"] == "effective"


# --- hostile HTML -----------------------------------------------------------------------

HOSTILE_HTML = (
    '<h2>1 目的</h2><p>安全内容</p>'
    '<script>alert("xss")</script>'
    '<img src="x" onerror="alert(1)">'
    '<p onclick="steal()">点击</p>'
    '<a href="javascript:alert(1)">链接</a>'
    '<a href="JaVaScRiPt&colon;alert(2)">链接2</a>'
    '<p style="color: expression(alert(1))">样式</p>'
    '<span style="background-color: url(javascript:alert(1))">背景</span>'
    '<iframe src="https://evil.example"></iframe>'
    '<svg onload="alert(1)"></svg>'
    '<a href="&#106;avascript:alert(3)">链接3</a>'
    '<a href=" javascript:alert(4)">链接4</a>'
)


def assert_sanitised(html: str) -> None:
    lowered = html.lower()
    for bad in ("<script", "alert(", "onerror", "onclick", "onload", "javascript:",
                "javascript&colon;", "expression(", "<iframe", "<svg", "url("):
        assert bad not in lowered, (bad, html)
    assert "安全内容" in html and "1 目的</h" in html


def test_hostile_html_is_stored_sanitised(f, doc):
    """Script, event handlers, javascript: links and CSS expression() never come back."""
    api = f.api(f.user("staff"))
    resp = api.post(f"/documents/{doc.id}/revisions",
                    json={"body_html": HOSTILE_HTML, "change_summary": "首版", "change_level": "minor"})
    assert resp.status_code == 201
    assert_sanitised(resp.get_json()["body_html"])
    assert_sanitised(api.get(f"/revisions/{resp.get_json()['id']}").get_json()["body_html"])


def test_hostile_html_in_patch_is_sanitised(f, doc):
    """Editing a draft goes through the same sanitiser."""
    rev = f.draft(doc)
    api = f.api(rev.author)
    resp = api.patch(f"/revisions/{rev.id}", json={"body_html": HOSTILE_HTML})
    assert resp.status_code == 200
    assert_sanitised(api.get(f"/revisions/{rev.id}").get_json()["body_html"])


def test_javascript_link_inside_docx_is_removed(capi, doc):
    """An uploaded .docx with a javascript: hyperlink comes back without it."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_heading("1 目的", level=1)
    paragraph = document.add_paragraph("安全内容，见：")
    rel_id = document.part.relate_to("javascript:alert(1)", RELATIONSHIP_TYPE.HYPERLINK,
                                     is_external=True)
    link, run, text = OxmlElement("w:hyperlink"), OxmlElement("w:r"), OxmlElement("w:t")
    link.set(qn("r:id"), rel_id)
    text.text = "点击这里"
    run.append(text)
    link.append(run)
    paragraph._p.append(link)
    buffer = io.BytesIO()
    document.save(buffer)
    resp = upload(capi, doc.id, buffer.getvalue())
    assert resp.status_code == 201
    html = capi.get(f"/revisions/{resp.get_json()['id']}").get_json()["body_html"]
    assert "点击这里" in html
    assert_sanitised(html)


# --- uploads ----------------------------------------------------------------------------

def test_text_file_renamed_docx_is_415(capi, doc):
    """A plain-text file with a .docx name is 415."""
    before = snapshot()
    assert_error(upload(capi, doc.id, "这不是Word文件\n".encode()), 415)
    assert snapshot() == before


def test_wrong_extension_is_415(capi, doc):
    """A real .docx uploaded under another extension is 415."""
    before = snapshot()
    assert_error(upload(capi, doc.id, docx_bytes(), filename="程序.pdf"), 415)
    assert snapshot() == before


def test_corrupted_docx_is_422(capi, doc):
    """A .docx cut in half is 422."""
    data = docx_bytes()
    before = snapshot()
    assert_error(upload(capi, doc.id, data[: len(data) // 2]), 422)
    assert snapshot() == before


def test_zip_bomb_is_422(capi, doc):
    """A .docx with a part that expands over 1000:1 is refused as 422."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info, source.read(info))
        bomb.writestr("word/media/image1.bin", b"\0" * (30 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 200_000
    before = snapshot()
    assert_error(upload(capi, doc.id, data), 422)
    assert snapshot() == before


def test_docx_over_size_limit_is_413(app, capi, doc):
    """A .docx larger than MAX_UPLOAD_BYTES is 413."""
    data = docx_bytes()
    app.config["MAX_UPLOAD_BYTES"] = len(data) - 1
    before = snapshot()
    assert_error(upload(capi, doc.id, data), 413)
    assert snapshot() == before


def test_valid_docx_under_the_limit_is_accepted(app, capi, doc):
    """The control for the upload refusals: a real .docx within the limit is 201."""
    data = docx_bytes("1 范围")
    app.config["MAX_UPLOAD_BYTES"] = len(data) + 1
    resp = upload(capi, doc.id, data)
    assert resp.status_code == 201
    assert "1 范围" in resp.get_json()["body_html"]


def test_multipart_without_file_is_400(capi, doc):
    """A multipart request with no `file` part is a 400."""
    before = snapshot()
    resp = capi.post(f"/documents/{doc.id}/revisions", data={"change_summary": "首版"},
                     content_type="multipart/form-data")
    assert_error(resp, 400, 422)
    assert snapshot() == before


# --- text that must survive -------------------------------------------------------------

def test_emoji_and_chinese_returned_intact(f, capi, controller):
    """Chinese, emoji and other astral characters go in and come back unchanged."""
    title = "售后服务管理程序 🚀✅ 𠀋"
    created = capi.post("/documents", json=valid_doc(controller.department_code, title=title))
    assert created.status_code == 201
    doc_id = created.get_json()["id"]
    assert capi.get(f"/documents/{doc_id}").get_json()["title"] == title
    body = "<p>客户满意度≥92% 👍 「引号」—破折号</p>"
    rev = capi.post(f"/documents/{doc_id}/revisions",
                    json={"body_html": body, "change_summary": "首版 📄", "change_level": "minor"})
    assert rev.status_code == 201
    got = capi.get(f"/revisions/{rev.get_json()['id']}").get_json()
    assert got["body_html"] == body
    assert got["change_summary"] == "首版 📄"
    assert "客户满意度≥92% 👍 「引号」—破折号" in got["text"]


# --- authentication ---------------------------------------------------------------------

def assert_unauthenticated(client, headers, department) -> None:
    before = snapshot()
    assert_error(client.get("/api/v1/documents", headers=headers), 401)
    assert_error(client.post("/api/v1/documents", json=valid_doc(department), headers=headers), 401)
    assert snapshot() == before


def test_no_token_is_401(client, controller):
    """No Authorization header → 401."""
    assert_unauthenticated(client, {}, controller.department_code)


@pytest.mark.parametrize("header", ["Bearer pt_garbage", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Bearer " + "x" * 5000, "pt_notbearer"])
def test_garbage_token_is_401(client, controller, header):
    """Tokens that were never issued, or malformed headers → 401."""
    assert_unauthenticated(client, {"Authorization": header}, controller.department_code)


@pytest.mark.parametrize("role", ["controller", "external_reviewer"])
def test_expired_account_is_401(f, client, role):
    """A user whose --expires date has passed gets 401 with a token that used to work."""
    user = f.user(role, expires=clock.today() - timedelta(days=1))
    token = f.token(user)
    assert_unauthenticated(client, {"Authorization": f"Bearer {token}"}, user.department_code)


def test_account_expiring_later_is_401_once_the_day_has_passed(f, client, frozen):
    """Same token: works on the last day of the account, 401 the day after."""
    frozen(datetime(2024, 5, 31, 4, 0))
    user = f.user("controller", expires=date(2024, 5, 31))
    headers = {"Authorization": f"Bearer {f.token(user)}"}
    assert client.get("/api/v1/documents", headers=headers).status_code == 200
    frozen(datetime(2024, 6, 1, 4, 0))
    assert_unauthenticated(client, headers, user.department_code)


def test_expired_token_is_401(f, client, frozen):
    """A token past its expires_at gets 401; before that it works."""
    frozen(datetime(2024, 5, 1, 4, 0))
    user = f.user("controller")
    token = accounts.create_token("test", user, expires_at=clock.now() + timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/documents", headers=headers).status_code == 200
    frozen(datetime(2024, 5, 1, 6, 0))
    assert_unauthenticated(client, headers, user.department_code)


def test_revoked_token_is_401(f, client):
    """A token revoked through the API stops working at once."""
    user = f.user("controller")
    token = f.token(user)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/documents", headers=headers).status_code == 200
    token_id = db.session.execute(select(ApiToken.id).where(ApiToken.user_id == user.id)).scalar_one()
    db.session.rollback()
    assert client.post(f"/api/v1/tokens/{token_id}/revoke", headers=headers).status_code == 200
    assert_unauthenticated(client, headers, user.department_code)


def test_deactivated_account_is_401(f, client):
    """Deactivating a user shuts out their existing tokens."""
    user = f.user("controller")
    headers = {"Authorization": f"Bearer {f.token(user)}"}
    accounts.update_user(f.user("admin"), user, active=False)
    assert_unauthenticated(client, headers, user.department_code)


# --- never a 500, never HTML on /api/ ----------------------------------------------------

HUGE = "9" * 25


@pytest.mark.parametrize("path", [f"/documents/{HUGE}", f"/revisions/{HUGE}",
                                  f"/revisions/{HUGE}/export.docx", "/revisions/{rev}/diff?against=" + HUGE])
def test_huge_ids_are_404_not_500(f, capi, doc, path):
    """An id beyond the database's integer range is simply unknown (404)."""
    rev = f.draft(doc)
    assert_error(capi.get(path.format(rev=rev.id)), 404)


def test_huge_ids_in_writes_are_404_not_500(f, capi, doc):
    """Writes addressed to an out-of-range id answer 404 and change nothing."""
    before = snapshot()
    assert_error(capi.post(f"/revisions/{HUGE}/submit", json={"reviewers": ["a"], "approver": "b"}), 404)
    assert_error(capi.patch(f"/documents/{HUGE}", json={"title": "x"}), 404)
    assert snapshot() == before


def test_huge_object_id_in_trail_query_is_not_500(capi):
    """GET /trail with an out-of-range object_id is an empty list or a 4xx, not a 500."""
    resp = capi.get(f"/trail?object_type=document&object_id={HUGE}")
    if resp.status_code == 200:
        assert resp.get_json()["items"] == []
    else:
        assert_error(resp, 400, 404)


def test_deeply_nested_json_is_400(capi):
    """A JSON body nested 100,000 levels deep is malformed input (400), not a crash."""
    before = snapshot()
    body = "[" * 100_000 + "]" * 100_000
    assert_error(raw_post(capi, "/documents", body, "application/json"), 400, 413)
    body = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert_error(raw_post(capi, "/documents", body, "application/json"), 400, 413)
    assert snapshot() == before


@pytest.mark.parametrize("field", ["title", "code"])
def test_nul_character_in_text_is_refused(capi, controller, field):
    """A NUL character (which PostgreSQL cannot store) is refused as 400/422 on every database."""
    before = snapshot()
    resp = capi.post("/documents", json=valid_doc(controller.department_code, **{field: "QP\u000001"}))
    assert_error(resp, 400, 422)
    assert snapshot() == before


@pytest.mark.parametrize("param", ["code", "department", "doc_type", "status"])
def test_nul_character_in_query_is_not_500(capi, doc, param):
    """A NUL in a list filter matches nothing (or is a 400), never a 500."""
    resp = capi.get("/documents", query_string={param: "QP\u000001"})
    if resp.status_code == 200:
        assert resp.get_json()["total"] == 0
    else:
        assert_error(resp, 400)


@pytest.mark.parametrize("query", ["page=0", "per_page=0", "per_page=-5", "page=abc", "per_page=1.5"])
def test_bad_paging_parameters_are_400(capi, query):
    """Paging parameters that are not whole numbers ≥ 1 are 400."""
    assert_error(capi.get(f"/documents?{query}"), 400)


def test_unknown_api_path_and_method_answer_json(capi):
    """404 for an unknown API path and 405 for a wrong method come back as JSON errors."""
    assert_error(capi.get("/no-such-endpoint"), 404)
    assert_error(capi.client.delete("/api/v1/documents",
                                    headers={"Authorization": f"Bearer {capi.token}"}), 405)


@pytest.mark.parametrize("value", ["2024-02-30", "20240101", "tomorrow", ""])
def test_bad_as_of_is_400(f, capi, doc, value):
    """?as_of= that is not a real YYYY-MM-DD date is 400."""
    assert_error(capi.get(f"/documents/{doc.id}?as_of={value}"), 400)


# --- browser forms without CSRF token ---------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def browser_login(client, user) -> str:
    """Log in through the form (with its CSRF token); return the session's token."""
    page = client.get("/login")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                       "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return token


def test_browser_form_post_without_csrf_token_is_400(client, controller):
    """A signed-in browser POST /documents/new without csrf_token is 400 and creates nothing."""
    browser_login(client, controller)
    form = {"code": "QP-CSRF", "title": "跨站请求", "doc_type": "procedure",
            "department": controller.department_code, "clauses": "ISO 9001:2015 7.5.3"}
    before = snapshot()
    assert client.post("/documents/new", data=form).status_code == 400
    assert client.post("/documents/new", data={**form, "csrf_token": "forged"}).status_code == 400
    assert snapshot() == before

    page = client.get("/documents/new").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    assert client.post("/documents/new", data={**form, "csrf_token": token}).status_code == 302
    assert snapshot()[0] == before[0] + 1


def test_browser_login_without_csrf_token_is_refused(client, controller):
    """The login form itself needs its CSRF token."""
    client.get("/login")
    resp = client.post("/login", data={"username": controller.username, "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/documents/new").status_code == 302  # still signed out


@pytest.mark.parametrize("path", ["/records?form_id=²", "/copies?document_id=³", "/search?q=文件&page=²",
                                  "/search?q=文件&per_page=¹⁰"])
def test_unicode_digits_that_int_refuses_are_400_not_500(capi, path):
    # '²'.isdigit() is True but int('²') raises: numbers are checked with isdecimal().
    assert_error(capi.get(path), 400)


DIGITS_5000 = "9" * 5000  # int() refuses 4,300+ digits with a ValueError


@pytest.mark.parametrize("path, status", [
    (f"/records?form_id={DIGITS_5000}", 404), (f"/copies?document_id={DIGITS_5000}", 404),
    (f"/trail?object_type=document&object_id={DIGITS_5000}", 404), (f"/evidence?audit_id={DIGITS_5000}", 404),
    (f"/reviews/due?days={DIGITS_5000}", 400), ("/reviews/due?days=١٢", 400), ("/evidence?finding_id=٣", 400),
])
def test_absurd_numbers_in_the_query_string_are_4xx_not_500(capi, path, status):
    assert_error(capi.get(path), status)


def test_a_table_cell_spanning_absurdly_many_columns_still_exports(f, capi, controller):
    """colspan survives the sanitiser as text; the Word export caps it rather than crash."""
    doc = f.document(controller)
    rev = f.effective(doc, controller, body=f'<table><tr><td colspan="{DIGITS_5000}">合并</td><td>b</td></tr></table>')
    resp = capi.get(f"/revisions/{rev.id}/export.docx")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    cells = [c.text for table in docx.Document(io.BytesIO(resp.data)).tables
             for row in table.rows for c in row.cells]
    assert "合并" in cells and "b" in cells
