"""Hostile input at the door (issue 9, items 12, 13, 24, 25): deep JSON, lone surrogates,
browser forms that must refuse what the API refuses, procedure steps and document codes
that differ only by case. Every refusal is a clear 4xx and changes nothing."""
import html
import re

import pytest
from sqlalchemy import func, select

from factories import PASSWORD
from portal import clock
from portal.api_support import MAX_JSON_DEPTH
from portal.documents import services as documents
from portal.documents import workflow
from portal.documents.models import Document, Revision
from portal.extensions import db
from portal.trail.models import TrailEntry
from portal.validation import MAX_ID
from workcount import growth

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def snapshot() -> tuple[int, int, int]:
    """(documents, revisions, trail entries) as committed."""
    db.session.rollback()
    counts = tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                   for m in (Document, Revision, TrailEntry))
    db.session.rollback()
    return counts


def error_of(resp, status: int) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json
    return resp.get_json()["error"]


def raw(api, path, body: bytes, method="post", content_type="application/json"):
    return getattr(api.client, method)("/api/v1" + path, data=body, content_type=content_type,
                                       headers={"Authorization": f"Bearer {api.token}"})


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def capi(f, controller):
    return f.api(controller)


def doc_body(controller, clauses: str = '["ISO 9001:2015 8.7"]', title: str = '"不合格品控制程序"') -> bytes:
    return ('{"code": "QP-0901", "title": %s, "doc_type": "procedure", "department": "%s", "clauses": %s}'
            % (title, controller.department_code, clauses)).encode()


# --- item 12: deep JSON ---------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 40, 328, 978, 5000, 200_000])
def test_nesting_deeper_than_the_limit_is_400_too_deep(capi, controller, depth):
    """Lists nested past MAX_JSON_DEPTH (the fuzzer's 328-978 levels ended in RecursionError,
    a 500) are 400 too_deep, whether the parser copes with the depth or not."""
    before = snapshot()
    body = doc_body(controller, clauses="[" * (depth - 1) + "]" * (depth - 1))
    error = error_of(raw(capi, "/documents", body), 400)
    assert error["code"] == "too_deep"
    assert str(MAX_JSON_DEPTH) in error["message"]
    assert snapshot() == before


def test_nesting_at_the_limit_reaches_the_field_checks(capi, controller):
    """MAX_JSON_DEPTH levels (the body object included) pass the door; the service then says
    what is wrong with the field (422), not a 400."""
    inner = MAX_JSON_DEPTH - 1
    error = error_of(raw(capi, "/documents", doc_body(controller, clauses="[" * inner + "]" * inner)), 422)
    assert "clauses" in error["fields"]


def test_deep_objects_in_a_record_are_too_deep(capi, form_doc):
    """Objects count like lists, e.g. inside record data."""
    body = b'{"data": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}"
    assert error_of(raw(capi, f"/documents/{form_doc.id}/records", body), 400)["code"] == "too_deep"


def test_nul_deep_inside_is_found_without_recursion(capi, controller):
    """The NUL check walks the body with a stack: a NUL in a key 30 levels down is found."""
    nested = '{"k\\u0000": 1}'
    for _ in range(28):
        nested = "[" + nested + "]"
    body = doc_body(controller, clauses=nested)
    before = snapshot()
    assert error_of(raw(capi, "/documents", body), 400)["code"] == "nul_character"
    assert snapshot() == before


def test_a_wide_body_is_walked_in_linear_work(capi, controller):
    """200,000 short strings are checked once each: four times the strings, at most about
    four times the work (counted in Python lines, see workcount.py)."""
    def post(count):
        clauses = "[" + ",".join(['"x"'] * count) + "]"
        resp = raw(capi, "/documents", doc_body(controller, clauses=clauses))
        assert resp.status_code == 422  # too many clauses: the service's own limit
    post(200_000)
    assert growth(post, 50_000, 200_000) < 6


# --- item 13: lone surrogates ---------------------------------------------------------------------

@pytest.mark.parametrize("title", [
    '"a\\ud800b"',             # an escaped lone high surrogate
    '"a\\udfffb"',             # an escaped lone low surrogate
    '"\\ude00\\ud83d"',        # a pair in the wrong order
])
def test_lone_surrogate_in_a_json_value_is_400_invalid_text(capi, controller, title):
    """Python's json accepts them; the database and the trail hash cannot encode them."""
    before = snapshot()
    error = error_of(raw(capi, "/documents", doc_body(controller, title=title)), 400)
    assert error["code"] == "invalid_text"
    assert snapshot() == before


def test_lone_surrogate_as_raw_bytes_is_400_invalid_text(capi, controller):
    """CESU-8 bytes of a surrogate (json decodes bytes with surrogatepass) are refused too."""
    body = doc_body(controller).replace("不合格品".encode(), b"\xed\xa0\x80")
    assert error_of(raw(capi, "/documents", body), 400)["code"] == "invalid_text"


def test_lone_surrogate_in_a_key_is_400(capi, form_doc):
    body = b'{"data": {"a\\ud800": "x"}}'
    assert error_of(raw(capi, f"/documents/{form_doc.id}/records", body), 400)["code"] == "invalid_text"


def test_a_proper_surrogate_pair_is_text(capi, controller):
    """An escaped pair is one character (an emoji): stored and returned as it came."""
    resp = raw(capi, "/documents", doc_body(controller, title='"质量手册 \\ud83d\\ude00"'))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["title"] == "质量手册 \U0001F600"


def test_invalid_utf8_in_the_query_string_arrives_as_text(capi, controller):
    """Werkzeug re-quotes bytes that are not UTF-8: "%ED%A0%80" reaches the handler as that
    text, never as a surrogate, so it is an ordinary (unknown) code, not a 500."""
    resp = capi.get("/documents?code=%ED%A0%80")
    assert resp.status_code == 200 and resp.get_json()["total"] == 0


def test_nul_in_a_header_we_read_is_400(f, controller):
    """The Authorization header is checked like any text before a token is looked up."""
    client = f.app.test_client()
    resp = client.get("/api/v1/documents", headers={"Authorization": "Bearer ab\x00cd"})
    assert error_of(resp, 400)["code"] == "nul_character"


def test_nul_in_a_browser_form_field_is_400(client, controller):
    token = browser_login(client, controller)
    before = snapshot()
    resp = client.post("/documents/new", data={"csrf_token": token, "code": "QP-0902", "title": "a\x00b",
                                               "doc_type": "procedure", "department": controller.department_code})
    assert resp.status_code in (302, 400)
    assert snapshot() == before


# --- item 24: browser forms refuse what the API refuses -------------------------------------------

def browser_login(client, user) -> str:
    page = client.get("/login")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return token


def flashes(client) -> str:
    """The text of the page the browser lands on after a refused post (flash shown there)."""
    page = client.get("/documents/new").get_data(as_text=True)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("typed, api_value", [
    ("1" * 30, 10**29),     # was silently dropped: the document got the default 12 months
    ("٣", "٣"),             # Arabic-Indic three: int() takes it, the API does not
    ("1_2", "1_2"),
    ("0", 0),
    ("-5", -5),
])
def test_review_period_in_the_browser_is_checked_like_the_api(client, capi, controller, typed, api_value):
    """The same refusal on both sides, and the same per-field message."""
    api_error = error_of(capi.post("/documents", json={
        "code": "QP-0903", "title": "评审周期", "doc_type": "procedure",
        "department": controller.department_code, "review_period_months": api_value}), 422)
    token = browser_login(client, controller)
    before = snapshot()
    resp = client.post("/documents/new", data={
        "csrf_token": token, "code": "QP-0903", "title": "评审周期", "doc_type": "procedure",
        "department": controller.department_code, "review_period_months": typed},
        headers={"Referer": "http://localhost/documents/new"})
    assert resp.status_code in (302, 422)
    assert snapshot() == before
    assert api_error["fields"]["review_period_months"] in flashes(client)


def test_a_valid_review_period_is_kept_from_the_browser(client, controller):
    token = browser_login(client, controller)
    resp = client.post("/documents/new", data={
        "csrf_token": token, "code": "QP-0904", "title": "评审周期", "doc_type": "procedure",
        "department": controller.department_code, "review_period_months": " 24 "})
    assert resp.status_code == 302
    assert db.session.execute(select(Document.review_period_months)
                              .where(Document.code == "QP-0904")).scalar() == 24


# --- item 25: document codes compare without case --------------------------------------------------

def test_a_code_differing_only_by_case_is_a_duplicate(capi, controller):
    first = capi.post("/documents", json={"code": "QP0804", "title": "纠正措施控制程序", "doc_type": "procedure",
                                          "department": controller.department_code})
    assert first.status_code == 201
    before = snapshot()
    for code in ("qp0804", "Qp0804", "QP0804"):
        error = error_of(capi.post("/documents", json={
            "code": code, "title": "重复", "doc_type": "procedure", "department": controller.department_code}), 409)
        assert error["code"] == "duplicate_code" and "QP0804" in error["message"]
    assert snapshot() == before


def test_lookup_by_code_ignores_case(capi, controller):
    made = capi.post("/documents", json={"code": "SH/QR-07", "title": "客户投诉处理报告单", "doc_type": "form",
                                         "department": controller.department_code}).get_json()
    for code in ("SH/QR-07", "sh/qr-07", "Sh/Qr-07"):
        found = capi.get("/documents", query_string={"code": code}).get_json()
        assert [d["id"] for d in found["items"]] == [made["id"]], code
    assert capi.get("/documents", query_string={"code": "SH/QR-0"}).get_json()["total"] == 0


def test_the_browser_refuses_a_code_differing_by_case(client, capi, controller):
    capi.post("/documents", json={"code": "QP0805", "title": "程序", "doc_type": "procedure",
                                  "department": controller.department_code})
    token = browser_login(client, controller)
    before = snapshot()
    resp = client.post("/documents/new", data={"csrf_token": token, "code": "qp0805", "title": "重复",
                                               "doc_type": "procedure", "department": controller.department_code},
                       headers={"Referer": "http://localhost/documents/new"})
    assert resp.status_code in (302, 409)
    assert snapshot() == before


# --- item 25: procedure steps ----------------------------------------------------------------------

@pytest.fixture
def procedure(f, controller):
    return f.document(controller=controller, doc_type="procedure")


@pytest.fixture
def form_doc(f, controller):
    """An effective form the steps may name."""
    form = f.document(controller=controller, doc_type="form", code="SH/QR-09")
    rev = documents.start_revision(controller, form, {"body_html": "<p>表</p>", "change_summary": "首版发行",
                                                      "fields": [{"name": "a", "label": "甲", "type": "text"}]})
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    return form


def post_steps(capi, procedure, steps):
    return capi.post(f"/documents/{procedure.id}/revisions",
                     json={"body_html": "<p>步骤</p>", "change_summary": "首版发行", "steps": steps})


def step(**overrides) -> dict:
    return {"name": "受理", "due_hours": 24, **overrides}


def test_a_well_formed_step_is_kept(capi, procedure, form_doc, controller):
    resp = post_steps(capi, procedure, [step(role="staff", form_id=form_doc.id,
                                             department=controller.department_code, name=" 受理 ")])
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["steps"] == [{"name": "受理", "form_id": form_doc.id, "role": "staff",
                                         "department": controller.department_code, "due_hours": 24,
                                         "escalate_to": "manager"}]


@pytest.mark.parametrize("bad", [
    {"role": "x" * 1_000_000},        # was stored: 1 MB per step
    {"role": "chief"},
    {"role": "external_reviewer"},    # read-only: can do no step
    {"role": 5},                      # was silently dropped to null
    {"form_id": 2**80},               # was stored
    {"form_id": 0},
    {"form_id": -3},
    {"form_id": True},
    {"form_id": 999_999},             # no such document
    {"form_id": MAX_ID},              # the largest id: still looked up, not a database error
    {"form_id": MAX_ID + 1},
    {"department": "NOPE"},
    {"department": "x" * 1000},
    {"department": ["SH"]},
    {"name": "长" * 201},              # was cut to 200 silently
    {"name": "受\x07理"},
])
def test_bad_steps_are_422_naming_the_step(capi, procedure, form_doc, bad):
    before = snapshot()
    error = error_of(post_steps(capi, procedure, [step(), step(**bad)]), 422)
    assert list(error["fields"]) == ["steps[1]"]
    assert len(error["message"]) < 2000  # says what is wrong without echoing a megabyte
    assert snapshot() == before


def test_a_step_must_name_an_effective_form_it_may_see(f, capi, procedure, controller):
    """A procedure, a draft form and a confidential form of another department all read as
    "not an effective form" (CONTRACT "Procedure runs": 422 otherwise)."""
    other = f.document(controller=controller, doc_type="procedure")
    draft_form = f.document(controller=controller, doc_type="form")
    for form_id in (other.id, draft_form.id):
        assert "steps[0]" in error_of(post_steps(capi, procedure, [step(form_id=form_id)]), 422)["fields"]
    staff = f.user("staff", department=controller.department_code)
    hidden = f.document(controller=controller, doc_type="form", confidentiality="confidential",
                        department=f.department().code)
    f.effective(hidden, controller=controller)
    resp = post_steps(f.api(staff), procedure, [step(form_id=hidden.id)])
    assert "steps[0]" in error_of(resp, 422)["fields"]


# --- ids past what PostgreSQL's integer holds ------------------------------------------------------

@pytest.mark.parametrize("path", ["/documents/3000000000", "/revisions/9000000000000", "/records/2147483648",
                                  "/records?form_id=3000000000", "/documents/2147483647"])
def test_ids_past_a_32_bit_integer_are_unknown(capi, path):
    """Every id column is a 32-bit integer on PostgreSQL: a larger id was a 500 there."""
    assert error_of(capi.get(path), 404)["code"] == "not_found"


@pytest.mark.parametrize("document_id, status", [("3000000000", 404), ("٣", 400), ("1_0", 400)])
def test_copies_register_filter_is_checked(client, controller, document_id, status):
    """The browser's copy register took "٣" as 3 and 10**17 to the database."""
    browser_login(client, controller)
    assert client.get("/copies", query_string={"document_id": document_id}).status_code == status
