"""Shared fixtures of the change-request tests: the owner department 质保部 (ZB) with its
approver, a controller, staff of other departments, an effective procedure of ZB, a corrective
action to raise requests from, and helpers that go through the JSON API."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from pages import signed_in
from portal.change_requests.models import ChangeRequest
from portal.documents.models import Revision
from portal.extensions import db
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry

START = datetime(2026, 6, 10, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
REQUEST = {"reason": "内审发现纠正措施未评审类似问题是否在其他部门发生",
           "proposed_change": "4.3 增加：原因分析后评审类似不符合在其他部门是否存在或可能发生。",
           "change_level": "minor"}


@pytest.fixture(autouse=True)
def now(frozen):
    frozen(START)
    return START


@pytest.fixture
def zb(f):
    return f.department("ZB", "质保部")


@pytest.fixture
def controller(f, zb):
    return f.user("controller", username="wenkong", department="ZB", name="李文控")


@pytest.fixture
def approver(f, zb):
    """The owner department's approver (质保部)."""
    return f.user("approver", username="zhaoguoqiang", department="ZB", name="赵国强")


@pytest.fixture
def sh(f):
    return f.department("SH", "售后服务部")


@pytest.fixture
def staff(f, sh):
    return f.user("staff", username="zhangwei", department="SH", name="张伟")


@pytest.fixture
def other_approver(f, sh):
    return f.user("approver", username="sunli", department="SH", name="孙丽")


@pytest.fixture
def reviewer(f):
    return f.user("external_reviewer", username="cb_auditor")


@pytest.fixture
def procedure(f, controller):
    """An effective procedure of ZB, A/0."""
    doc = f.document(controller, code="QP1401", title="纠正和预防措施控制程序", department="ZB")
    f.effective(doc, controller=controller, body="<h2>4.3 原因分析</h2><p>责任部门分析原因。</p>")
    return doc


@pytest.fixture
def action(f, sh, controller):
    """An open corrective action of an audit in progress (owner: an SH staff member)."""
    from portal.audit import services as audits

    lead = f.user("auditor", username="zhoujing", department=f.department("YX", "营销中心").code)
    owner = f.user("staff", username="liuyang", department="SH")
    start = (START - timedelta(days=2)).date()
    audit = audits.create_audit(lead, {"title": "2026年度第一次内部质量审核", "planned_start": start.isoformat(),
                                       "planned_end": start.isoformat(), "departments": ["SH"],
                                       "clauses": ["ISO 9001:2015 10.2"], "lead_auditor": lead.username})
    audits.advance_audit(lead, audit, "start")
    finding = audits.raise_finding(lead, audit, {"classification": "minor", "clause": "ISO 9001:2015 10.2",
                                                 "department": "SH", "statement": "纠正措施未评审类似问题"})
    return audits.open_action(lead, finding, {"owner": owner.username, "due_date": (date(2026, 7, 10)).isoformat(),
                                              "plan": "修订 QP1401"})


@pytest.fixture
def raise_cr(f):
    """raise_cr(user, doc, status=201, **overrides) → the JSON answer."""
    def go(user, doc, status=201, **overrides):
        resp = f.api(user).post(f"/documents/{doc.id}/change-requests", json={**REQUEST, **overrides})
        assert resp.status_code == status, resp.get_json()
        return resp.get_json()
    return go


@pytest.fixture
def decide(f):
    """decide(user, cr, "accept"|"reject", status=200, **body) → the JSON answer."""
    def go(user, cr, decision, status=200, **body):
        resp = f.api(user).post(f"/change-requests/{cr['id']}/{decision}", json=body)
        assert resp.status_code == status, resp.get_json()
        return resp.get_json()
    return go


@pytest.fixture
def approved_draft(f, controller, decide):
    """approved_draft(cr) → the revision a controller's acceptance opened, signed and approved."""
    def go(cr):
        rev_id = decide(controller, cr, "accept", comment="同意")["revision_id"]
        db.session.rollback()
        return f.approved(db.session.get(Revision, rev_id))
    return go


@pytest.fixture
def browser(app):
    return lambda user: signed_in(app, user)


def snapshot() -> tuple:
    """Counts of everything a refused request must leave as it was."""
    db.session.rollback()
    counts = tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                   for m in (ChangeRequest, Revision, TrailEntry, Notification))
    states = tuple(db.session.execute(select(ChangeRequest.state).order_by(ChangeRequest.id)).scalars())
    db.session.rollback()
    return counts + states


def trail_actions(cr_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.execute(select(TrailEntry.action).where(
        TrailEntry.object_type == "change_request", TrailEntry.object_id == cr_id).order_by(TrailEntry.seq)).scalars())
