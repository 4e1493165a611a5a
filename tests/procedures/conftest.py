"""Shared fixtures of the procedure-run tests: an effective form, an effective procedure with
steps, people of the run's department, and helpers to start runs through the API."""
import itertools
from datetime import datetime, timezone

import pytest

from pages import signed_in

from portal import clock
from portal.documents import services as documents
from portal.documents import workflow

_codes = itertools.count(1)
FORM_FIELDS = [{"name": "customer", "label": "客户名称", "type": "text", "required": True},
               {"name": "fault", "label": "故障描述", "type": "textarea"}]
START = datetime(2026, 9, 30, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai, a Wednesday


@pytest.fixture
def now(frozen):
    frozen(START)
    return START


@pytest.fixture
def calendar(app):
    """The shipped company calendar (PostgreSQL tests start from empty tables)."""
    from portal import workdays

    workdays.load_calendar()


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def dept(f):
    return f.department(name="售后服务部")


@pytest.fixture
def staff(f, dept):
    return f.user("staff", department=dept.code)


@pytest.fixture
def release(f, controller):
    def go(rev):
        f.approved(rev)
        workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
        return rev
    return go


@pytest.fixture
def make_form(f, controller, release):
    def make(title="客户服务登记表", fields=None):
        form = f.document(controller=controller, doc_type="form", code=f"QR-R{next(_codes):03d}", title=title)
        rev = documents.start_revision(controller, form, {"body_html": f"<p>{title}</p>",
                                                          "change_summary": "首版发行",
                                                          "fields": fields or FORM_FIELDS})
        release(rev)
        return form
    return make


@pytest.fixture
def form(make_form):
    return make_form()


@pytest.fixture
def draft_procedure(f, controller):
    """draft_procedure(steps) → (procedure document, its draft revision with the steps)."""
    def make(steps, code=None, **doc):
        proc = f.document(controller=controller, doc_type="procedure", code=code or f"SH/QP-{next(_codes):02d}",
                          title="售后服务管理程序", **doc)
        rev = documents.start_revision(controller, proc, {"body_html": "<p>流程</p>", "change_summary": "首版发行",
                                                          "steps": steps})
        return proc, rev
    return make


@pytest.fixture
def procedure(draft_procedure, release):
    """procedure(steps=None) → an effective procedure (default: 受理 with the form, 派工, 回访)."""
    def make(steps=None, **doc):
        proc, rev = draft_procedure(steps, **doc)
        release(rev)
        return proc
    return make


@pytest.fixture
def steps(form):
    return [{"name": "受理", "form_id": form.id, "due_hours": {"ordinary": 24, "emergency": 2}},
            {"name": "派工", "due_hours": 48, "escalate_to": "controller"},
            {"name": "回访", "due_working_days": 2}]


@pytest.fixture
def start(f):
    """start(user, procedure, **payload) → the 201 JSON of a new run."""
    def go(user, proc, status=201, **payload):
        body = {"subject": "空调不制冷", "department": user.department_code, **payload}
        resp = f.api(user).post(f"/documents/{proc.id}/runs", json=body)
        assert resp.status_code == status, resp.get_json()
        return resp.get_json()
    return go


@pytest.fixture
def browser(app):
    """browser(user) → a signed-in PageClient; .csrf is a token for its posts."""
    return lambda user: signed_in(app, user)
