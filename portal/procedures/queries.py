"""Read-side of runs: who sees which run, the filtered list, overdue steps.

The rule: controllers, admins and auditors see every run; a certification-body reviewer the
runs of procedures they may see (effective, not confidential: documents.queries); everyone
else the runs of procedures they may see, and every run of their own department.
"""
from datetime import datetime

from sqlalchemy import and_, false, or_, select, true

from portal import clock
from portal.accounts.models import Department
from portal.documents.models import Document
from portal.documents.queries import can_view_document
from portal.documents.queries import visible_to as documents_visible_to
from portal.errors import BadRequest, NotFound
from portal.extensions import db
from portal.procedures.models import RUN_STATES, ProcedureRun, RunStep

# Auditors read runs as they read the procedures (issue 9: a confidential procedure's
# traces are not theirs to read unless it is their department's).
SEES_ALL = ("admin", "controller")


def can_view(user, run: ProcedureRun) -> bool:
    if user is None:
        return False
    if user.role in SEES_ALL and not user.is_read_only:
        return True
    if user.is_read_only:
        return can_view_document(user, run.document)
    return run.department_id == user.department_id or can_view_document(user, run.document)


def visible_to(user):
    """The SQL condition on ProcedureRun of can_view (the two are tested equal)."""
    if user is None:
        return false()
    if user.role in SEES_ALL and not user.is_read_only:
        return true()
    of_visible_procedure = ProcedureRun.document_id.in_(select(Document.id).where(documents_visible_to(user)))
    if user.is_read_only:
        return of_visible_procedure
    return or_(ProcedureRun.department_id == user.department_id, of_visible_procedure)


def get_run(user, run_id: int) -> ProcedureRun:
    run = db.session.get(ProcedureRun, run_id)
    if run is None or not can_view(user, run):
        raise NotFound("No such run.")
    return run


def is_overdue(step: RunStep, now: datetime | None = None) -> bool:
    """A pending step of an open run past its due time."""
    now = now or clock.now()
    return (step.state == "pending" and step.run.state == "open" and step.due_at is not None
            and step.due_at < now)


def _overdue_step(now: datetime):
    # IN over the (state, due_at) index, read once: a correlated EXISTS let SQLite probe that
    # index once per open run (24 s for 3,000 open runs among 100,000, bench/runs_bench.py).
    return ProcedureRun.id.in_(select(RunStep.run_id).where(RunStep.state == "pending", RunStep.due_at < now))


def run_query(user, document_id=None, state=None, department=None, overdue=False, q=None):
    """A select() of the runs `user` may see, newest first."""
    if state and state not in RUN_STATES:
        raise BadRequest(f"state must be one of {', '.join(RUN_STATES)}.", code="bad_parameter")
    query = select(ProcedureRun).order_by(ProcedureRun.started_at.desc(), ProcedureRun.id.desc())
    if document_id:
        query = query.where(ProcedureRun.document_id == document_id)
    if state:
        query = query.where(ProcedureRun.state == state)
    if department:
        query = query.where(ProcedureRun.department_id.in_(
            select(Department.id).where(Department.code == department)))
    if overdue:
        query = query.where(ProcedureRun.state == "open", _overdue_step(clock.now()))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(ProcedureRun.number.ilike(like), ProcedureRun.subject.ilike(like)))
    return query.where(visible_to(user))


def overdue_steps_for(user, limit: int = 50) -> list[RunStep]:
    """The overdue steps `user` answers for (member of the step's department with its role, or
    that department's manager), most overdue first: the dashboard's list."""
    if user is None or user.is_read_only:
        return []
    now = clock.now()
    step_dept = RunStep.department_id
    run_dept = ProcedureRun.department_id
    managed = select(Department.id).where(Department.manager_id == user.id)
    conditions = [step_dept.in_(managed), run_dept.in_(managed)]
    if user.department_id is not None:
        my_role = or_(RunStep.role.is_(None), RunStep.role == user.role)
        conditions += [and_(step_dept.is_(None), run_dept == user.department_id, my_role),
                       and_(step_dept == user.department_id, my_role)]
    responsible = or_(*conditions)
    query = (select(RunStep).join(ProcedureRun, RunStep.run_id == ProcedureRun.id)
             .where(RunStep.state == "pending", RunStep.due_at < now, ProcedureRun.state == "open",
                    responsible)
             .order_by(RunStep.due_at).limit(limit))
    return list(db.session.execute(query).scalars())
