"""A run's copies kept for the objective measures, through the services: a step carries its
run's procedure and department and whether it was cancelled; a run's lateness is fixed when
its last step closes it."""
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.procedures.models import ProcedureRun, RunStep


def copies(run_id):
    db.session.expire_all()
    run = db.session.get(ProcedureRun, run_id)
    steps = db.session.execute(select(RunStep).where(RunStep.run_id == run_id).order_by(RunStep.index)).scalars()
    return run.late, [(s.document_id, s.run_department_id, s.run_cancelled) for s in steps]


def test_the_services_keep_the_copies(now, frozen, f, dept, staff, controller, procedure, start):
    proc = procedure([{"name": "受理", "due_hours": 1}, {"name": "派工", "due_hours": 4}])
    api, boss = f.api(staff), f.api(controller)
    on_time, late, cancelled = start(staff, proc), start(staff, proc), start(staff, proc)
    fresh = [(proc.id, dept.id, False)] * 2
    assert copies(on_time["id"]) == (None, fresh)
    for run in (on_time, late):
        assert api.post(f"/runs/{run['id']}/steps/0/complete", json={}).status_code == 200
    assert api.post(f"/runs/{on_time['id']}/steps/1/complete", json={}).status_code == 200
    frozen(now + timedelta(hours=5))
    assert api.post(f"/runs/{late['id']}/steps/1/complete", json={}).status_code == 200
    assert boss.post(f"/runs/{cancelled['id']}/cancel", json={"reason": "重复"}).status_code == 200
    assert copies(on_time["id"]) == (False, fresh)
    assert copies(late["id"]) == (True, fresh)
    assert copies(cancelled["id"]) == (None, [(proc.id, dept.id, True)] * 2)
