"""Starting, completing and cancelling runs (CONTRACT "Procedure runs"): happy paths, the
clock computed once at start, and the bad input that changes nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from portal.extensions import db
from portal.procedures.models import ProcedureRun, RunStep
from portal.records.models import Record
from portal.trail.models import TrailEntry


def snapshot():
    count = lambda model: db.session.execute(select(func.count()).select_from(model)).scalar()  # noqa: E731
    done = db.session.execute(select(func.count()).select_from(RunStep).where(RunStep.state == "done")).scalar()
    states = sorted(db.session.execute(select(ProcedureRun.id, ProcedureRun.state)).all())
    return count(ProcedureRun), count(Record), count(TrailEntry), done, states


def api_of(f, user):
    """One token per user: creating a token is itself a trail entry."""
    cache = f.__dict__.setdefault("_apis", {})
    if user.id not in cache:
        cache[user.id] = f.api(user)
    return cache[user.id]


def complete(f, user, run, index, **body):
    return api_of(f, user).post(f"/runs/{run['id']}/steps/{index}/complete", json=body)


def test_a_run_walks_its_steps_and_closes(now, calendar, f, staff, procedure, steps, start, form):
    proc = procedure(steps)
    run = start(staff, proc, priority="emergency")
    assert run["state"] == "open" and run["priority"] == "emergency" and run["revision_label"] == "A/0"
    assert run["number"] == f"{proc.code}-202609-0001"
    due = [s["due_at"] for s in run["steps"]]
    # emergency: 2 h; 48 calendar hours; 2 working days after Wed 30 Sep: Thu 8 and Fri 9 Oct (国庆)
    assert due == ["2026-09-30T03:00:00+00:00", "2026-10-02T01:00:00+00:00", "2026-10-09T16:00:00+00:00"]
    assert set(run["steps"][0]) == {"index", "name", "form_id", "role", "department", "due_at", "state",
                                    "completed_at", "completed_by", "record_id", "overdue", "late"}
    resp = complete(f, staff, run, 0, data={"customer": "上海某某机电有限公司"})
    assert resp.status_code == 200, resp.get_json()
    first = resp.get_json()["steps"][0]
    rec = db.session.get(Record, first["record_id"])
    assert rec.form_id == form.id and rec.data == {"customer": "上海某某机电有限公司"}
    assert first["state"] == "done" and first["completed_by"] == staff.username and first["late"] is False
    assert complete(f, staff, run, 1).status_code == 200
    resp = complete(f, staff, run, 2)
    body = resp.get_json()
    assert body["state"] == "closed" and body["closed_at"]
    actions = db.session.execute(select(TrailEntry.action).where(TrailEntry.object_type == "run")
                                 .order_by(TrailEntry.seq)).scalars().all()
    assert actions == ["run.start", "run.step_complete", "run.step_complete", "run.step_complete", "run.close"]
    assert f.api(staff).get(f"/runs/{run['id']}").get_json() == body


def test_ordinary_priority_takes_the_ordinary_hours_and_numbers_continue(now, calendar, staff, procedure, steps, start):
    proc = procedure(steps)
    first, second = start(staff, proc), start(staff, proc)
    assert first["steps"][0]["due_at"] == "2026-10-01T01:00:00+00:00"
    assert second["number"].endswith("-0002")


def test_started_at_in_the_past_sets_the_clocks_and_a_late_step_says_so(now, f, staff, procedure, start):
    proc = procedure([{"name": "受理", "due_hours": 4}])
    run = start(staff, proc, started_at="2026-09-29T08:00:00+08:00")
    assert run["started_at"] == "2026-09-29T00:00:00+00:00"
    assert run["steps"][0]["due_at"] == "2026-09-29T04:00:00+00:00"
    assert run["steps"][0]["overdue"] is True
    assert run["number"].endswith("-202609-0001")
    body = complete(f, staff, run, 0).get_json()
    assert body["steps"][0]["late"] is True and body["steps"][0]["overdue"] is False


def test_linking_an_existing_record_of_the_steps_form(now, f, staff, procedure, steps, start, form, make_form):
    proc = procedure(steps)
    run = start(staff, proc)
    api = api_of(f, staff)
    rec = api.post(f"/documents/{form.id}/records", json={"data": {"customer": "甲"}}).get_json()
    other_form = make_form(title="外出服务记录表")
    other = api.post(f"/documents/{other_form.id}/records", json={"data": {"customer": "乙"}}).get_json()
    before = snapshot()
    resp = complete(f, staff, run, 0, record_id=other["id"])
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "wrong_form"
    assert list(resp.get_json()["error"]["fields"]) == ["record_id"]
    for bad in ({"record_id": 999_999}, {"record_id": "1"}, {"record_id": True}, {"data": "x"},
                {"data": {"customer": ""}}, {}, {"record_id": rec["id"], "data": {}}, {"extra": 1}):
        assert complete(f, staff, run, 0, **bad).status_code == 422, bad
    assert snapshot() == before
    resp = complete(f, staff, run, 0, record_id=rec["id"])
    assert resp.status_code == 200 and resp.get_json()["steps"][0]["record_id"] == rec["id"]
    # one record completes one step
    run2 = start(staff, proc)
    assert complete(f, staff, run2, 0, record_id=rec["id"]).status_code == 422


def test_steps_complete_in_order_and_once(now, f, staff, procedure, steps, start):
    run = start(staff, procedure(steps))
    api_of(f, staff)
    before = snapshot()
    resp = complete(f, staff, run, 1)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "step_out_of_order"
    assert complete(f, staff, run, 7).status_code == 404
    assert snapshot() == before
    assert complete(f, staff, run, 0, data={"customer": "甲"}).status_code == 200
    resp = complete(f, staff, run, 0, data={"customer": "甲"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "step_done"


def test_a_step_without_a_form_takes_no_record(now, f, staff, procedure, start):
    run = start(staff, procedure([{"name": "派工", "due_hours": 2}]))
    assert complete(f, staff, run, 0, data={"a": 1}).status_code == 422
    assert complete(f, staff, run, 0).get_json()["state"] == "closed"
    assert complete(f, staff, run, 0).status_code == 409  # the run is closed


@pytest.mark.parametrize("payload, field", [
    ({"subject": ""}, "subject"), ({"subject": "x" * 501}, "subject"), ({"subject": 5}, "subject"),
    ({"department": "NOPE"}, "department"), ({"department": None}, "department"),
    ({"priority": "urgent"}, "priority"),
    ({"started_at": "2026-09-30T10:00:00+08:00"}, "started_at"),   # one hour in the future
    ({"started_at": "2026-09-30T08:00:00"}, "started_at"),          # no offset
    ({"started_at": "yesterday"}, "started_at"), ({"started_at": "2026-02-30T08:00:00+08:00"}, "started_at"),
    ({"started_at": 1727658000}, "started_at"), ({"started_at": "1999-12-31T00:00:00Z"}, "started_at"),
])
def test_bad_starts_are_422_and_change_nothing(now, f, staff, procedure, steps, payload, field):
    proc = procedure(steps)
    api = api_of(f, staff)
    before = snapshot()
    body = {"subject": "空调不制冷", "department": staff.department_code, **payload}
    resp = api.post(f"/documents/{proc.id}/runs", json=body)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]
    assert snapshot() == before


def test_runs_start_only_from_an_effective_procedure_with_steps(now, f, staff, controller, draft_procedure,
                                                                procedure, steps, release, start):
    draft, _ = draft_procedure(steps)
    start(staff, draft, status=409)
    no_steps = procedure(None)
    start(staff, no_steps, status=409)
    # superseded: the new revision is effective, the run keeps the revision it started on
    proc = procedure(steps)
    run = start(staff, proc)
    rev = documents.start_revision(controller, proc, {"body_html": "<p>二版</p>", "change_summary": "改",
                                                      "change_reason": "改", "steps": steps[:1]})
    release(rev)
    again = start(staff, proc)
    assert len(again["steps"]) == 1 and len(run["steps"]) == 3 and again["revision_label"] != run["revision_label"]
    # obsolete
    workflow.obsolete_document(controller, proc, {"reason": "停用"})
    start(staff, proc, status=409)
    form_doc = f.document(controller=controller, doc_type="form")
    start(staff, form_doc, status=409)


def test_the_external_reviewer_may_not_start_or_complete(now, f, staff, procedure, steps, start):
    proc = procedure(steps)
    run = start(staff, proc)
    reviewer = f.user("external_reviewer")
    api = api_of(f, reviewer)
    before = snapshot()
    resp = api.post(f"/documents/{proc.id}/runs", json={"subject": "x", "department": staff.department_code})
    assert resp.status_code == 403
    assert complete(f, reviewer, run, 0, data={"customer": "甲"}).status_code == 403
    assert api.post(f"/runs/{run['id']}/cancel", json={"reason": "x"}).status_code == 403
    assert snapshot() == before


def test_who_may_start_complete_and_cancel(now, f, dept, staff, controller, procedure, steps, start):
    proc = procedure(steps)
    outsider = f.user("staff")
    start(outsider, proc, status=403, department=dept.code)
    run = start(staff, proc)
    assert complete(f, outsider, run, 0, data={"customer": "甲"}).status_code in (403, 404)
    # staff may not cancel; the department's manager and a controller may; a reason is required
    assert f.api(staff).post(f"/runs/{run['id']}/cancel", json={"reason": "重复登记"}).status_code == 403
    manager = f.user("approver", department=dept.code)
    dept.manager_id = manager.id
    db.session.commit()
    assert f.api(manager).post(f"/runs/{run['id']}/cancel", json={"reason": ""}).status_code == 422
    resp = f.api(manager).post(f"/runs/{run['id']}/cancel", json={"reason": "重复登记"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "cancelled"
    assert resp.get_json()["cancel_reason"] == "重复登记"
    assert f.api(controller).post(f"/runs/{run['id']}/cancel", json={"reason": "x"}).status_code == 409
    assert complete(f, staff, run, 0, data={"customer": "甲"}).status_code == 409
    entry = db.session.execute(select(TrailEntry).where(TrailEntry.action == "run.cancel")).scalar_one()
    assert entry.reason == "重复登记" and entry.object_id == run["id"]


def test_a_step_with_a_role_is_done_by_that_role(now, f, dept, staff, procedure, start):
    run = start(staff, procedure([{"name": "批准", "role": "approver", "due_hours": 8}]))
    assert complete(f, staff, run, 0).status_code == 403
    approver = f.user("approver", department=dept.code)
    assert complete(f, approver, run, 0).status_code == 200


def test_list_filters_and_overdue(now, frozen, f, staff, controller, procedure, steps, start):
    proc = procedure(steps)
    a, b = start(staff, proc), start(staff, proc, priority="emergency")
    api = f.api(controller)
    assert api.get("/runs").get_json()["total"] == 2
    assert api.get("/runs?overdue=1").get_json()["total"] == 0
    frozen(now + timedelta(hours=3))  # the emergency run's first step (2 h) is overdue
    listed = api.get("/runs?overdue=1").get_json()
    assert [r["id"] for r in listed["items"]] == [b["id"]] and listed["items"][0]["steps"][0]["overdue"] is True
    assert api.get(f"/runs?document_id={proc.id}&state=open&department={staff.department_code}").get_json()["total"] == 2
    assert api.get("/runs?state=closed").get_json()["total"] == 0
    assert api.get("/runs?department=NOPE").get_json()["total"] == 0
    assert api.get("/runs?state=bogus").status_code == 400
    assert api.get("/runs?overdue=yes").status_code == 400
    assert api.get("/runs?per_page=1").get_json()["per_page"] == 1
    xlsx = api.get("/runs.xlsx?overdue=1")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert a["id"] != b["id"] and clock.now() > now
