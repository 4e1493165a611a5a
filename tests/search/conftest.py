"""Fixtures for the search tests: documents and records with given text, drained into
the index of the test's instance folder; searchers are closed after every test."""
import itertools

import pytest

from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from portal.records import services as records
from portal.search import index as search_index
from portal.search import indexer
from portal.search.query import search

_codes = itertools.count(1)

FORM_FIELDS = [
    {"name": "customer", "label": "客户名称", "type": "text", "required": True},
    {"name": "complaint", "label": "投诉内容", "type": "textarea"},
    {"name": "qty", "label": "数量", "type": "number"},
    {"name": "result", "label": "处理结果", "type": "choice", "choices": ["合格", "不合格"]},
    {"name": "confirmed", "label": "客户确认", "type": "checkbox"},
    {"name": "parts", "label": "更换零件", "type": "table",
     "columns": [{"name": "part", "label": "零件名称", "type": "text", "required": True},
                 {"name": "count", "label": "数量", "type": "number"}]},
]


@pytest.fixture(autouse=True)
def _close_searchers(app):
    yield
    search_index.close_searchers()


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def drain(app):
    """drain() → index everything the outbox holds; returns the rows marked done."""
    return lambda **kw: indexer.drain_outbox(**kw)


@pytest.fixture
def doc(f, controller, drain):
    """doc(title, body, code=…, confidentiality=…, department=…, clauses=…) → effective revision."""

    def make(title="文件和资料控制程序", body="规范文件的编制、审核、批准。", code=None, **overrides):
        data = {"title": title, "code": code or f"QP-S{next(_codes):03d}", **overrides}
        document = f.document(controller, **data)
        rev = f.effective(document, controller=controller, body=f"<p>{body}</p>")
        drain()
        return rev

    return make


@pytest.fixture
def new_effective(f, controller, drain):
    """new_effective(document, body) → the next revision, effective today (supersedes)."""

    def make(document, body):
        rev = f.draft(document, body=f"<p>{body}</p>", reason="修订", level="minor")
        f.approved(rev)
        workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
        drain()
        return rev

    return make


@pytest.fixture
def form(f, controller, drain):
    """form(code=…, title=…, confidentiality=…) → an effective form with FORM_FIELDS."""

    def make(code=None, title="客户投诉处理报告单", **overrides):
        data = {"code": code or f"QR-SH{next(_codes):03d}", "title": title, "doc_type": "form",
                "department": controller.department_code, **overrides}
        document = documents.create_document(controller, data)
        rev = documents.start_revision(controller, document, {
            "body_html": f"<h2>{title}</h2>", "change_summary": "首版发行", "fields": FORM_FIELDS})
        f.approved(rev)
        workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
        drain()
        return document

    return make


@pytest.fixture
def record(controller, drain):
    """record(form, actor=None, **data) → an issued record, indexed."""

    def make(form_doc, actor=None, **data):
        values = {"customer": "上海某某机电有限公司", **data}
        rec = records.issue_record(actor or controller, form_doc, {"data": values})
        drain()
        return rec

    return make


@pytest.fixture
def find(app):
    """find(user, q, **filters) → the search result dict."""
    return lambda user, q=None, **kw: search(user, q, **kw)
