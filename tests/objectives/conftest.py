"""A small fixed set of runs and records whose objective values are worked out by hand in
the tests (times in UTC; the portal's zone is Asia/Shanghai, UTC+8)."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from portal.extensions import db
from portal.procedures.models import ProcedureRun, RunStep
from portal.records import services as records

FIELDS = [{"name": "first_fix", "label": "一次修复", "type": "choice", "choices": ["是", "否"]},
          {"name": "score", "label": "满意度", "type": "number"},
          {"name": "note", "label": "备注", "type": "text"},
          {"name": "ok", "label": "确认", "type": "checkbox"}]
STEPS = [{"name": "受理", "due_hours": 24}, {"name": "实施", "due_hours": 72}]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def world(f, frozen):
    """Departments A and B, a controller, a form with fields, a procedure with two steps, and
    the records and runs below (each: UTC time, department, values, final status)."""
    frozen(utc(2026, 8, 1, 2))
    a, b = f.department("SH", "售后服务部"), f.department("ZL", "质量部")
    controller = f.user("controller", department="SH")
    staff_a, staff_b = f.user("staff", department="SH"), f.user("staff", department="ZL")
    form = documents.create_document(controller, {"code": "QR-FW-01", "title": "服务报告单", "doc_type": "form",
                                                  "department": "SH"})
    rev = documents.start_revision(controller, form, {"body_html": "<p>服务报告单</p>", "change_summary": "首版发行",
                                                      "fields": FIELDS})
    _release(f, controller, rev)
    proc = documents.create_document(controller, {"code": "QP-SH-01", "title": "售后服务管理程序",
                                                  "doc_type": "procedure", "department": "SH"})
    prev = documents.start_revision(controller, proc, {"body_html": "<p>程序</p>", "change_summary": "首版发行",
                                                       "steps": STEPS})
    _release(f, controller, prev)

    def record(at, who, first_fix, score, status="closed", ok=True):
        frozen(at)
        rec = records.issue_record(who, form, {"data": {"first_fix": first_fix, "score": score, "note": "x",
                                                        "ok": ok}})
        if status == "closed":
            records.close_record(who, rec)
        elif status == "voided":
            records.void_record(controller, rec, {"reason": "填错"})
        return rec

    recs = [
        record(utc(2026, 9, 30, 15, 59), staff_a, "否", 50),  # 23:59 on 30 September local
        record(utc(2026, 10, 5, 2), staff_a, "是", 90),
        record(utc(2026, 10, 20, 2), staff_a, "否", 70, ok=False),
        record(utc(2026, 10, 25, 2), staff_b, "是", 100),
        record(utc(2026, 10, 28, 2), staff_a, "是", 10, status="voided"),  # never counts
        record(utc(2026, 10, 31, 16, 30), staff_a, "是", 80),  # 00:30 on 1 November local
        record(utc(2026, 11, 10, 2), staff_b, "否", 60, status="open"),  # counted, not measured
        record(utc(2026, 12, 3, 2), staff_a, "是", 95),
    ]
    frozen(utc(2026, 12, 15, 4))
    numbers = iter(range(1, 100))

    def run(dept, steps, state="closed", closed_at=None):
        """steps: (due_at, completed_at or None) per step."""
        r = ProcedureRun(number=f"SR-{next(numbers):04d}", document_id=proc.id, revision_id=prev.id,
                         revision_label=prev.label, subject="维修", department_id=dept.id, state=state,
                         started_at=utc(2026, 9, 30), closed_at=closed_at, created_by_id=controller.id,
                         cancelled_at=utc(2026, 10, 13) if state == "cancelled" else None)
        db.session.add(r)
        for i, (due, done) in enumerate(steps):
            db.session.add(RunStep(run=r, index=i, name=STEPS[i]["name"], due_at=due, completed_at=done,
                                   state="done" if done else "pending"))
        db.session.commit()
        return r

    runs = [
        run(a, [(utc(2026, 10, 2), utc(2026, 10, 1)), (utc(2026, 10, 10), utc(2026, 10, 10))],
            closed_at=utc(2026, 10, 10)),  # on time (done exactly at due)
        run(a, [(utc(2026, 10, 3), utc(2026, 10, 5)), (utc(2026, 10, 25), utc(2026, 10, 20))],
            closed_at=utc(2026, 10, 20)),  # first step late
        run(b, [(utc(2026, 10, 30), utc(2026, 10, 29)), (utc(2026, 11, 5), utc(2026, 10, 31, 16, 30))],
            closed_at=utc(2026, 10, 31, 16, 30)),  # on time, closed in November local
        run(a, [(utc(2026, 10, 16), utc(2026, 10, 15)), (utc(2026, 10, 30), None)], state="open"),
        run(a, [(utc(2026, 10, 10), utc(2026, 10, 12)), (utc(2026, 10, 20), None)], state="cancelled"),
    ]
    return SimpleNamespace(a=a, b=b, controller=controller, staff=staff_a, form=form, proc=proc,
                           records=recs, runs=runs)


def _release(f, controller, rev):
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})


@pytest.fixture
def make(world):
    """make(measure, **overrides) → a new Objective defined by the controller."""
    from portal.objectives import services

    def go(measure, **overrides):
        data = {"name": "服务及时率", "target": 98, "comparison": ">=", "unit": "%", "frequency": "month",
                "measure": measure, **overrides}
        return services.create_objective(world.controller, data)

    return go
