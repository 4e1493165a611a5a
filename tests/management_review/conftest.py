"""A small fixed set of audits, findings, corrective actions, complaint records, runs and
objectives whose management review inputs are worked out by hand in test_inputs.py.

The review period is 2026-03-01 .. 2026-08-31 (local, Asia/Shanghai = UTC+8); the inputs are
computed on 2026-09-10. Audits, findings and actions are written as rows (the rules for
running audits are tested elsewhere); records go through the records services."""
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from factories import PASSWORD

from portal import clock
from portal.audit.models import Audit, CorrectiveAction, Finding
from portal.documents import services as documents
from portal.documents import workflow
from portal.documents.review import record_review
from portal.extensions import db
from portal.procedures.models import ProcedureRun, RunStep
from portal.records import services as records

COMPLAINT_FIELDS = [{"name": "customer", "label": "客户名称", "type": "text", "required": True},
                    {"name": "overdue", "label": "逾期", "type": "checkbox"},
                    {"name": "promised_reply_date", "label": "承诺回复日期", "type": "date"},
                    {"name": "reply_date", "label": "回复客户日期", "type": "date"}]
SURVEY_FIELDS = [{"name": "customer", "label": "顾客名称", "type": "text", "required": True}]
PERIOD = {"period_from": "2026-03-01", "period_to": "2026-08-31", "meeting_date": "2026-09-10"}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _effective(f, controller, code, title, doc_type, **revision):
    doc = documents.create_document(controller, {"code": code, "title": title, "doc_type": doc_type,
                                                 "department": controller.department_code})
    rev = documents.start_revision(controller, doc, {"body_html": f"<p>{title}</p>", "change_summary": "首版发行",
                                                     **revision})
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    return doc


@pytest.fixture
def people(f):
    """陈建华 chairs, 赵国强 organises; 孙丽 is a member, 王芳 an outsider; an auditor; the reviewer."""
    for code, name in (("ZB", "质保部"), ("XZ", "行政部"), ("SH", "售后服务部"), ("YX", "营销中心")):
        f.department(code, name)
    return SimpleNamespace(
        controller=f.user("controller", username="wenkong", department="ZB", name="李文控"),
        chair=f.user("approver", username="chenjianhua", department="XZ", name="陈建华"),
        organiser=f.user("approver", username="zhaoguoqiang", department="ZB", name="赵国强"),
        member=f.user("staff", username="sunli", department="SH", name="孙丽"),
        outsider=f.user("staff", username="wangfang", department="YX", name="王芳"),
        auditor=f.user("auditor", username="zhoujing", department="YX", name="周静"),
        other_approver=f.user("approver", username="liuyang", department="YX", name="刘洋"),
        reviewer=f.user("external_reviewer", username="cb_auditor", name="郑雅琴"))


@pytest.fixture
def plan(people):
    """plan(**overrides) → the create payload of a review chaired by 陈建华 with 孙丽 as member."""
    def make(**overrides):
        return {"title": "2026年度管理评审", **PERIOD, "chair": people.chair.username,
                "members": [people.member.username, people.organiser.username], **overrides}
    return make


def _audit(people, number, start, state, classes):
    audit = Audit(number=number, title=f"{number} 内部审核", planned_start=start, planned_end=start, state=state,
                  clauses=["ISO 9001:2015 7.5.3"], lead_auditor=people.auditor, created_by=people.auditor)
    db.session.add(audit)
    findings = [Finding(number=f"{number}-{i:02d}", audit=audit, classification=c, clause="ISO 9001:2015 7.5.3",
                        department_id=people.member.department_id, statement="文件未受控", evidence=[],
                        created_by=people.auditor) for i, c in enumerate(classes, 1)]
    db.session.add_all(findings)
    return audit, findings


def _action(people, number, finding, created, state, due, closed=None, effective=None, reopened=0):
    action = CorrectiveAction(number=number, finding=finding, owner=people.member, due_date=due, plan="整改",
                              state=state, created_by=people.auditor, created_at=created, closed_at=closed,
                              verified_effective=effective, reopened_count=reopened)
    db.session.add(action)
    return action


@pytest.fixture
def world(f, frozen, people):
    """Everything test_inputs.py counts; the clock is left on 2026-09-10 10:00 local."""
    frozen(utc(2026, 1, 5, 2))
    ctl = people.controller
    complaint = _effective(f, ctl, "QR-YX003", "客户投诉处理报告单", "form", fields=COMPLAINT_FIELDS)
    survey = _effective(f, ctl, "YX/QT-05", "客户满意度调查表", "form", fields=SURVEY_FIELDS)
    other = _effective(f, ctl, "QR-SH011", "外出服务记录表", "form", fields=SURVEY_FIELDS)
    procedure = _effective(f, ctl, "QP-SH02", "客户投诉处理程序", "procedure",
                           steps=[{"name": "登记", "form_id": complaint.id, "due_hours": 4},
                                  {"name": "回复顾客", "due_hours": 24}])
    manual = _effective(f, ctl, "QM-01", "质量手册", "manual")

    def issue(form, at, data=None, status="closed"):
        frozen(at)
        rec = records.issue_record(ctl, form, {"data": {"customer": "福州闽江食品有限公司", **(data or {})}})
        if status == "closed":
            records.close_record(ctl, rec)
        elif status == "voided":
            records.void_record(ctl, rec, {"reason": "填写错误"})
        return rec

    on_time = {"overdue": False}
    complaints = {
        "before": issue(complaint, utc(2026, 2, 20, 2), on_time),
        "on_time": issue(complaint, utc(2026, 3, 10, 2), on_time),
        "flagged": issue(complaint, utc(2026, 4, 2, 2), {"overdue": True}),
        "voided": issue(complaint, utc(2026, 5, 5, 2), on_time, status="voided"),
        "open": issue(complaint, utc(2026, 6, 1, 2), on_time, status="open"),
        "late_reply": issue(complaint, utc(2026, 7, 1, 2), {"overdue": False, "promised_reply_date": "2026-07-03",
                                                           "reply_date": "2026-07-05"}),
        # the run's clock times it: the box (ticked by mistake) does not make it late
        "run_on_time": issue(complaint, utc(2026, 7, 10, 2), {"overdue": True}),
        "run_late": issue(complaint, utc(2026, 7, 20, 2), on_time),
        "run_open": issue(complaint, utc(2026, 8, 1, 2), on_time),
        # 2026-09-01 00:30 local: the day after the period
        "after": issue(complaint, utc(2026, 8, 31, 16, 30), on_time),
    }
    issue(survey, utc(2026, 3, 15, 2))
    issue(survey, utc(2026, 8, 31, 15, 59))  # 23:59 local on the last day
    issue(survey, utc(2026, 4, 1, 2), status="voided")
    issue(other, utc(2026, 5, 1, 2))
    numbers = iter(range(1, 100))

    def run(rec, steps, state="closed"):
        """steps: (due_at, completed_at or None); the first step issued `rec`."""
        r = ProcedureRun(number=f"QP-SH02-2026-{next(numbers):04d}", document_id=procedure.id,
                         revision_id=procedure.current_revision_id, revision_label="A/0", subject="客户投诉",
                         department_id=people.member.department_id, state=state, started_at=rec.created_at,
                         closed_at=steps[-1][1] if state == "closed" else None, created_by_id=ctl.id)
        db.session.add(r)
        for i, (due, done) in enumerate(steps):
            db.session.add(RunStep(run=r, index=i, name=f"步骤{i}", due_at=due, completed_at=done,
                                   state="done" if done else "pending", record_id=rec.id if i == 0 else None))
        db.session.commit()

    run(complaints["run_on_time"], [(utc(2026, 7, 10, 6), utc(2026, 7, 10, 3)),
                                    (utc(2026, 7, 11), utc(2026, 7, 10, 9))])
    run(complaints["run_late"], [(utc(2026, 7, 20, 6), utc(2026, 7, 20, 9)), (utc(2026, 7, 21), utc(2026, 7, 20, 10))])
    run(complaints["run_open"], [(utc(2026, 8, 1, 6), utc(2026, 8, 1, 3)), (utc(2026, 8, 2), None)], state="open")

    # Documents: a revision released inside the period, a review overdue, a periodic review signed.
    frozen(utc(2026, 4, 1, 2))
    f.effective(manual, controller=ctl, summary="修订", reason="改进", level="minor")
    frozen(utc(2026, 5, 2, 2))
    record_review(ctl, other, {"outcome": "keep", "comment": "适用", "password": PASSWORD})
    survey.next_review_due = date(2026, 5, 1)

    a1, f1 = _audit(people, "IA-2026-001", date(2026, 3, 10), "closed", ["minor", "minor", "observation"])
    a2, f2 = _audit(people, "IA-2026-002", date(2026, 6, 15), "reported", ["major", "ofi"])
    _audit(people, "IA-2026-003", date(2026, 7, 1), "in_progress", ["minor"])
    a4, f4 = _audit(people, "IA-2025-009", date(2025, 11, 1), "closed", ["minor"])
    _action(people, "CA-2025-0001", f4[0], utc(2025, 11, 5), "closed", date(2025, 12, 31), closed=utc(2026, 1, 10),
            effective=True)  # closed before the period
    _action(people, "CA-2026-0001", f1[0], utc(2026, 3, 12), "closed", date(2026, 4, 30), closed=utc(2026, 4, 20),
            effective=True)
    _action(people, "CA-2026-0002", f1[1], utc(2026, 3, 12), "open", date(2026, 6, 30), effective=False,
            reopened=1)  # verified not effective, reopened, now overdue
    _action(people, "CA-2026-0003", f2[0], utc(2026, 6, 16), "completed", date(2026, 9, 30))
    _action(people, "CA-2025-0002", f4[0], utc(2025, 11, 5), "open", date(2026, 12, 31))  # carried over
    _action(people, "CA-2026-0004", f2[0], utc(2026, 9, 5), "open", date(2026, 10, 30))  # after the period
    db.session.commit()

    from portal.objectives import services as objectives
    frozen(utc(2026, 1, 6, 2))
    count = objectives.create_objective(ctl, {
        "name": "投诉数量", "target": 5, "comparison": "<=", "unit": "count", "frequency": "month",
        "measure": {"kind": "count", "form_id": complaint.id}})
    ratio = objectives.create_objective(ctl, {
        "name": "投诉未逾期率", "target": 90, "comparison": ">=", "unit": "%", "frequency": "quarter",
        "measure": {"kind": "field_ratio", "form_id": complaint.id, "field": "overdue", "values": [False]}})
    timely = objectives.create_objective(ctl, {
        "name": "投诉处理及时率", "target": 95, "comparison": ">=", "unit": "%", "frequency": "month",
        "measure": {"kind": "on_time", "document_id": procedure.id}})
    retired = objectives.create_objective(ctl, {"name": "停用的目标", "target": 1, "comparison": ">=", "unit": "count",
                                                "frequency": "year", "measure": {"kind": "count", "form_id": other.id}})
    objectives.update_objective(ctl, retired, {"active": False})
    frozen(utc(2026, 9, 10, 2))
    return SimpleNamespace(complaint=complaint, survey=survey, other=other, manual=manual, procedure=procedure,
                           complaints=complaints, audits=(a1, a2, a4), objectives=(count, ratio, timely))


@pytest.fixture
def review(people, plan, frozen):
    """The 2026 review, planned through the services by 赵国强 on 2026-09-10 (where the world
    fixture leaves the clock)."""
    from portal.management_review import services

    frozen(utc(2026, 9, 10, 2))
    return services.create_review(people.organiser, plan())


@pytest.fixture
def browser(app):
    """browser(user) → a page client signed in as `user` (tests/pages.py)."""
    from pages import signed_in

    return lambda user: signed_in(app, user)
