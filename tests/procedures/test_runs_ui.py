"""The browser side of runs: the list with filters and the overdue mark, starting a run,
the timeline, completing a step by filling its form in place or linking a record, cancelling."""
import re
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.procedures.models import ProcedureRun
from portal.records.models import Record


def post(web, url, **data):
    return web.post(url, data={"csrf_token": web.csrf, **data}, headers={"Referer": f"http://localhost{url}"})


def test_start_complete_and_cancel_in_the_browser(now, frozen, f, dept, staff, controller, procedure, steps,
                                                  browser, form):
    proc = procedure(steps)
    web = browser(staff)
    listing = web.get("/runs").get_data(as_text=True)
    assert f"/documents/{proc.id}/runs/new" in listing and "/runs.xlsx" in listing
    page = web.get(f"/documents/{proc.id}/runs/new").get_data(as_text=True)
    assert "受理" in page and 'name="subject"' in page
    bad = post(web, f"/documents/{proc.id}/runs/new", subject="", department=dept.code, priority="ordinary")
    assert bad.status_code == 422
    bad = post(web, f"/documents/{proc.id}/runs/new", subject="x", department=dept.code,
               started_at="2026-09-30T10:30")  # local time, half an hour ahead
    assert bad.status_code == 422
    resp = post(web, f"/documents/{proc.id}/runs/new", subject="空调不制冷", department=dept.code,
                priority="emergency", started_at="2026-09-30T08:00")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    run_id = int(re.search(r"/runs/(\d+)$", resp.headers["Location"]).group(1))
    run = db.session.get(ProcedureRun, run_id)
    assert run.started_at.isoformat() == "2026-09-30T00:00:00+00:00" and run.priority == "emergency"
    frozen(now + timedelta(hours=2))  # the emergency 2 h clock from 08:00 ran out at 10:00
    timeline = web.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "客户名称" in timeline and 'name="f_customer"' in timeline and 'name="record_number"' in timeline
    assert 'class="badge overdue"' in timeline
    assert 'class="badge overdue"' in web.get("/runs?overdue=1").get_data(as_text=True)
    # the step's form filled in place: a missing required field is refused, nothing issued
    url = f"/runs/{run_id}/steps/0/complete"
    assert post(web, url, f_customer="").status_code == 422
    assert db.session.execute(select(Record)).first() is None
    resp = post(web, url, f_customer="上海某某机电有限公司", f_fault="不制冷")
    assert resp.status_code == 302
    db.session.expire_all()
    run = db.session.get(ProcedureRun, run_id)
    rec = db.session.get(Record, run.steps[0].record_id)
    assert rec.data == {"customer": "上海某某机电有限公司", "fault": "不制冷"} and run.steps[0].late
    timeline = web.get(f"/runs/{run_id}").get_data(as_text=True)
    assert f"/records/{rec.id}" in timeline and "staff" in timeline
    # step 1 has no form: a plain complete; then the controller cancels with a reason
    assert post(web, f"/runs/{run_id}/steps/1/complete").status_code == 302
    boss = browser(controller)
    assert 'action="/runs/%d/cancel"' % run_id in boss.get(f"/runs/{run_id}").get_data(as_text=True)
    assert post(boss, f"/runs/{run_id}/cancel", reason="客户撤回").status_code == 302
    db.session.expire_all()
    assert db.session.get(ProcedureRun, run_id).state == "cancelled"
    assert web.get("/runs.xlsx").status_code == 200


def test_linking_a_record_by_number_in_the_browser(now, f, dept, staff, procedure, steps, browser, form, start):
    run = start(staff, procedure(steps))
    rec = f.api(staff).post(f"/documents/{form.id}/records", json={"data": {"customer": "甲"}}).get_json()
    web = browser(staff)
    url = f"/runs/{run['id']}/steps/0/complete"
    assert post(web, url, record_number="NOPE-1").status_code == 422
    assert post(web, url, record_number=rec["number"]).status_code == 302
    db.session.expire_all()
    assert db.session.get(ProcedureRun, run["id"]).steps[0].record_id == rec["id"]


def test_the_reviewer_sees_the_timeline_without_forms(now, f, staff, procedure, steps, browser, start):
    run = start(staff, procedure(steps))
    html = browser(f.user("external_reviewer")).get(f"/runs/{run['id']}").get_data(as_text=True)
    assert run["number"] in html and 'name="f_customer"' not in html and "/cancel" not in html
