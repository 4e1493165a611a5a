"""One rule for who sees a run (procedures.queries): the SQL filter and the per-object check
agree, the list, the page and the trail follow it; the external reviewer reads only."""
from sqlalchemy import select

from portal.extensions import db
from portal.procedures import queries
from portal.procedures.models import ProcedureRun


def test_visible_to_equals_can_view(now, f, dept, staff, controller, procedure, steps, start):
    public = procedure(steps)
    secret = procedure(steps, confidentiality="confidential", department=dept.code)
    runs = [start(staff, public), start(staff, secret)]
    other_dept = f.department()
    other_staff = f.user("staff", department=other_dept.code)
    readers = [staff, controller, other_staff, f.user("auditor"), f.user("approver"), f.user("admin"),
               f.user("external_reviewer")]
    for user in readers:
        listed = set(db.session.execute(select(ProcedureRun.id).where(queries.visible_to(user))).scalars())
        checked = {r["id"] for r in runs if queries.can_view(user, db.session.get(ProcedureRun, r["id"]))}
        assert listed == checked, user.role
    assert queries.can_view(staff, db.session.get(ProcedureRun, runs[1]["id"]))  # own department
    assert not queries.can_view(other_staff, db.session.get(ProcedureRun, runs[1]["id"]))
    api = f.api(other_staff)
    assert api.get(f"/runs/{runs[1]['id']}").status_code == 404
    assert api.get(f"/trail?object_type=run&object_id={runs[1]['id']}").status_code == 404
    assert api.get(f"/trail?object_type=run&object_id={runs[0]['id']}").get_json()["total"] == 1
    assert {r["id"] for r in api.get("/runs").get_json()["items"]} == {runs[0]["id"]}


def test_the_external_reviewer_reads_runs_of_effective_public_procedures(now, f, staff, procedure, steps, start):
    run = start(staff, procedure(steps))
    reviewer = f.api(f.user("external_reviewer"))
    assert reviewer.get(f"/runs/{run['id']}").status_code == 200
    assert reviewer.get("/runs").get_json()["total"] == 1
