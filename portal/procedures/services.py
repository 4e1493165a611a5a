"""Run rules: starting a run from an effective procedure revision, completing its steps in
order (issuing or linking the step's form record), cancelling, and escalating overdue steps.

Who may do what (one place, used by the pages too):
- start: any writer who may see the procedure, for their own department or one they manage;
  controllers and admins for any department;
- complete a step: a member of the step's department (the run's when the step names none)
  holding the step's role when it names one, that department's manager, or a controller/admin;
- cancel: a controller/admin or the manager of the run's department.
"""
import re
import time
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import and_, select, update
from sqlalchemy.orm import joinedload

from portal import clock, numbering, workdays
from portal.accounts import services as accounts
from portal.accounts.models import Department, User
from portal.accounts.permissions import is_controller, require_writer
from portal.audit.access import lock_row
from portal.documents.models import Document
from portal.errors import InvalidState, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.procedures.models import PRIORITIES, ProcedureRun, RunStep
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

NUMBER_SCHEME = "run"
NUMBER_PATTERN = "{code}-{yyyy}{mm}-{seq:4}"
# A start before this is a typing error, not a request logged late.
EARLIEST_START = datetime(2000, 1, 1, tzinfo=timezone.utc)
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                        r"(Z|[+-][0-9]{2}:?[0-9]{2})")


def run_state(run: ProcedureRun) -> dict:
    return {"number": run.number, "state": run.state, "procedure": run.document.code,
            "revision": run.revision_label, "department": run.department.code,
            "priority": run.priority}


# --- who may act --------------------------------------------------------------------------

def manages(user, department_id: int | None) -> bool:
    if user is None or department_id is None:
        return False
    dept = db.session.get(Department, department_id)
    return dept is not None and dept.manager_id == user.id


def step_department_id(run: ProcedureRun, step: RunStep) -> int:
    """The department answering for a step: its own, else the run's."""
    return step.department_id or run.department_id


def may_start(user, department: Department) -> bool:
    if user is None or user.is_read_only or not user.is_active:
        return False
    return is_controller(user) or user.department_id == department.id or manages(user, department.id)


def may_complete(user, run: ProcedureRun, step: RunStep) -> bool:
    if user is None or user.is_read_only or not user.is_active:
        return False
    if is_controller(user):
        return True
    dept_id = step_department_id(run, step)
    if manages(user, dept_id) or manages(user, run.department_id):
        return True
    return user.department_id == dept_id and (step.role is None or user.role == step.role)


def may_cancel(user, run: ProcedureRun) -> bool:
    if user is None or user.is_read_only or not user.is_active:
        return False
    return is_controller(user) or manages(user, run.department_id)


# --- starting -----------------------------------------------------------------------------

def parse_timestamp(value) -> datetime | None:
    """An ISO 8601 timestamp with an offset, in UTC; None when it is not one."""
    if not isinstance(value, str) or len(value) > 40 or not _TIMESTAMP.fullmatch(value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else None


def running_revision(doc: Document):
    """The procedure's effective revision with steps; runs start only from it."""
    if doc.doc_type != "procedure":
        raise InvalidState(_("Runs start only from procedures."), code="not_a_procedure")
    rev = doc.current_revision
    if doc.status != "effective" or rev is None or rev.state != "effective":
        raise InvalidState(_("This procedure has no effective revision."), code="procedure_not_effective")
    if not rev.steps:
        raise InvalidState(_("This procedure revision defines no steps."), code="procedure_without_steps")
    return rev


def due_at(spec: dict, started_at: datetime, priority: str) -> datetime | None:
    """A step's due time from the revision's clock: calendar hours from the start (by
    priority, ordinary when the priority has none), or the end of the Nth working day."""
    hours = spec.get("due_hours")
    if isinstance(hours, dict):
        hours = hours.get(priority, hours.get("ordinary"))
    if hours is not None:
        return started_at + timedelta(hours=hours)
    days = spec.get("due_working_days")
    if days:
        local = started_at.astimezone(clock.zone())
        return workdays.end_of_working_day(local, days).astimezone(timezone.utc)
    return None


def start_run(actor, doc: Document, payload: dict) -> ProcedureRun:
    """Start a run on the procedure's effective revision; every step's due time is fixed now."""
    require_writer(actor)
    f = Fields(payload)
    subject = f.text("subject", 500, required=True)
    dept_code = f.text("department", 32, required=True)
    priority = f.choice("priority", PRIORITIES, default="ordinary")
    now = clock.now()
    started_at = now
    raw_start = payload.get("started_at") if isinstance(payload, dict) else None
    if raw_start not in (None, ""):
        started_at = parse_timestamp(raw_start)
        if started_at is None:
            f.fail("started_at", _("an ISO 8601 timestamp with offset, e.g. 2026-09-30T09:00:00+08:00"))
        elif started_at > now:
            f.fail("started_at", _("must not be in the future"))
        elif started_at < EARLIEST_START:
            f.fail("started_at", _("too far in the past"))
    f.done(_("Invalid run."))
    dept = accounts.department_by_code(dept_code)
    rev = running_revision(doc)
    if not may_start(actor, dept):
        raise NotAllowed(_("Only staff of department %(code)s, its manager or a document controller "
                           "may start a run for it.", code=dept.code))
    depts = {d.code: d.id for d in db.session.execute(select(Department)).scalars()}
    number = numbering.next_number(NUMBER_SCHEME, NUMBER_PATTERN, doc.code, dept.code, started_at)
    run = ProcedureRun(number=number, document=doc, revision=rev, revision_label=rev.label,
                       subject=subject, department=dept, priority=priority, state="open",
                       started_at=started_at, created_by=actor, created_at=now)
    for index, spec in enumerate(rev.steps):
        run.steps.append(RunStep(index=index, name=spec["name"], form_id=spec.get("form_id"),
                                 role=spec.get("role"), department_id=depts.get(spec.get("department")),
                                 escalate_to=spec.get("escalate_to") or "manager",
                                 due_at=due_at(spec, started_at, priority), state="pending"))
    db.session.add(run)
    db.session.flush()
    trail.record(actor, "run.start", "run", run.id, None,
                 {**run_state(run), "subject": subject, "started_at": started_at,
                  "steps": [{"name": s.name, "due_at": s.due_at} for s in run.steps]})
    enqueue("run", run.id)
    db.session.commit()
    return run


# --- completing ---------------------------------------------------------------------------

def _require_open(run: ProcedureRun) -> None:
    if run.state != "open":
        raise InvalidState(_("Run %(number)s is %(state)s.", number=run.number, state=run.state),
                           code="run_not_open")


def _step(run: ProcedureRun, index) -> RunStep:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(run.steps):
        raise NotFound(_("No such step."))
    return run.steps[index]


def _linked_record(actor, step: RunStep, record_id):
    from portal.records.models import Record
    from portal.records.queries import can_view_record
    from portal.validation import MAX_ID

    if isinstance(record_id, bool) or not isinstance(record_id, int) or not 0 < record_id <= MAX_ID:
        raise ValidationFailed(_("record_id must be the id of a record."), fields={"record_id": _("a record id")})
    rec = db.session.get(Record, record_id)
    if rec is None or not can_view_record(actor, rec):
        raise ValidationFailed(_("No such record."), code="unknown_record", fields={"record_id": _("no such record")})
    if rec.form_id != step.form_id:
        raise ValidationFailed(_("Record %(number)s is not a record of this step's form.", number=rec.number),
                               code="wrong_form", fields={"record_id": _("a record of another form")})
    if rec.status in ("voided", "disposed"):
        raise ValidationFailed(_("Record %(number)s is %(status)s.", number=rec.number, status=rec.status),
                               code="record_void", fields={"record_id": _("voided or disposed")})
    taken = db.session.execute(select(RunStep.id).where(RunStep.record_id == rec.id)).first()
    if taken:
        raise ValidationFailed(_("Record %(number)s already completes another step.", number=rec.number),
                               code="record_taken", fields={"record_id": _("already linked to a step")})
    return rec


def _issued_record(actor, run: ProcedureRun, step: RunStep, data):
    """Issue the step's form record inside the completing transaction: the step and its
    record are done together or not at all."""
    from portal.records import services as records

    if not isinstance(data, dict):
        raise ValidationFailed(_("data must be an object with the form's fields."), fields={"data": _("an object")})
    return records.add_record(actor, db.session.get(Document, step.form_id), step.department or run.department,
                              data, {"run": run.number, "step": step.index})


def complete_step(actor, run: ProcedureRun, index: int, payload: dict) -> ProcedureRun:
    """Complete step `index` with `{record_id}` or `{data}` (a step with a form) or nothing;
    the run closes with its last step."""
    require_writer(actor)
    if not isinstance(payload, dict):
        raise ValidationFailed(_("Expected a JSON object."), code="not_an_object")
    lock_row(run)  # two people completing the same step: the second one sees it done
    _require_open(run)
    step = _step(run, index)
    if step.state == "done":
        raise InvalidState(_("Step %(index)d is already done.", index=index), code="step_done")
    pending = [s for s in run.steps if s.state != "done"]
    if pending[0].index != index:
        raise InvalidState(_("Steps complete in order: step %(first)d comes first.", first=pending[0].index),
                           code="step_out_of_order")
    if not may_complete(actor, run, step):
        raise NotAllowed(_("You are not responsible for this step."))
    unknown = set(payload) - {"record_id", "data"}
    if unknown or ("record_id" in payload and "data" in payload):
        raise ValidationFailed(_("Send either record_id or data."),
                               fields={k: _("not expected") for k in unknown} or {"data": _("either record_id or data")})
    rec = None
    if step.form_id is None:
        if payload:
            raise ValidationFailed(_("This step has no form: complete it without a record."),
                                   fields={k: _("not expected") for k in payload})
    elif payload.get("record_id") is not None:
        rec = _linked_record(actor, step, payload["record_id"])
    elif "data" in payload:
        rec = _issued_record(actor, run, step, payload["data"])
    else:
        raise ValidationFailed(_("This step needs a record of its form: send record_id or data."),
                               fields={"record_id": _("required (or data)")})
    now = clock.now()
    step.state, step.completed_at, step.completed_by, step.record_id = "done", now, actor, rec.id if rec else None
    after = {"step": index, "name": step.name, "state": "done", "record": rec.number if rec else None,
             "late": step.late}
    trail.record(actor, "run.step_complete", "run", run.id, {"step": index, "state": "pending"}, after)
    if all(s.state == "done" for s in run.steps):
        run.state, run.closed_at = "closed", now
        trail.record(actor, "run.close", "run", run.id, {"state": "open"}, {"state": "closed"})
    enqueue("run", run.id)
    db.session.commit()
    return run


def cancel_run(actor, run: ProcedureRun, payload) -> ProcedureRun:
    """Cancel an open run with a reason (a controller or the department's manager); `payload`
    is the API's {reason} or the reason itself."""
    require_writer(actor)
    f = Fields({"reason": payload} if isinstance(payload, str) else payload)
    reason = f.text("reason", 2000, required=True)
    f.done(_("A reason is required."))
    if not may_cancel(actor, run):
        raise NotAllowed(_("Only a document controller or the department's manager may cancel a run."))
    lock_row(run)
    _require_open(run)
    run.state, run.cancelled_at, run.cancel_reason = "cancelled", clock.now(), reason
    trail.record(actor, "run.cancel", "run", run.id, {"state": "open"}, {"state": "cancelled"}, reason)
    enqueue("run", run.id)
    db.session.commit()
    return run


# --- escalation ---------------------------------------------------------------------------

def assignees(run: ProcedureRun, step: RunStep) -> list[User]:
    """Who is to do a step: the active members of its department holding its role (any
    role that may act when it names none)."""
    query = select(User).where(User.department_id == step_department_id(run, step), User.active.is_(True),
                               User.role != "external_reviewer")
    if step.role:
        query = query.where(User.role == step.role)
    return list(db.session.execute(query.order_by(User.id)).scalars())


def escalation_targets(run: ProcedureRun, step: RunStep) -> list[User]:
    """The step's escalate_to: its department's manager (controllers when there is none), or
    the controllers."""
    from portal.notifications.services import controllers

    if step.escalate_to == "manager":
        for dept_id in (step_department_id(run, step), run.department_id):
            dept = db.session.get(Department, dept_id)
            if dept is not None and dept.manager is not None and dept.manager.active:
                return [dept.manager]
    return controllers()


def overdue_condition(now: datetime):
    """Pending steps of open runs past their due time (the (state, due_at) index)."""
    return and_(RunStep.state == "pending", RunStep.due_at < now,
                RunStep.run_id.in_(select(ProcedureRun.id).where(ProcedureRun.state == "open")))


def escalate_overdue(batch: int = 500, budget_seconds: float = 20.0) -> int:
    """One notice per newly overdue step, to its assignees and its escalation target, kept in
    the run's trail; batch by batch, one transaction each, until none is left or the time
    budget is spent (one jobs round must not run for ever). Never repeated, even by two
    rounds at once: see `_escalate_batch`."""
    started, total = time.monotonic(), 0
    while True:
        done = _escalate_batch(batch)
        total += done
        if done < batch or time.monotonic() - started >= budget_seconds:
            return total


def _escalate_batch(limit: int) -> int:
    """Claim up to `limit` overdue steps and send their notices in one transaction. A step is
    claimed by the UPDATE that sets `escalated_at` where it is still unset, and only the rows
    it returns are escalated: a round running at the same time has claimed the others (on
    PostgreSQL the candidates are also locked, skipping those another round holds, so the two
    rounds neither wait for each other nor deadlock)."""
    from portal.notifications.services import notify_many

    now = clock.now()
    candidates = db.session.execute(
        select(RunStep.id).where(RunStep.escalated_at.is_(None), overdue_condition(now))
        .order_by(RunStep.due_at, RunStep.id).limit(limit).with_for_update(skip_locked=True)).scalars().all()
    claimed = db.session.execute(
        update(RunStep).where(RunStep.id.in_(candidates), RunStep.escalated_at.is_(None),
                              RunStep.state == "pending")
        .values(escalated_at=now).returning(RunStep.id)
        .execution_options(synchronize_session=False)).scalars().all() if candidates else []
    if not claimed:
        db.session.commit()  # ends the transaction (on SQLite the write lock FOR UPDATE took)
        return 0
    steps = db.session.execute(
        select(RunStep).where(RunStep.id.in_(claimed)).options(joinedload(RunStep.run))
        .order_by(RunStep.due_at, RunStep.id).execution_options(populate_existing=True)).scalars().all()
    audience = _Audience()
    notices, entries = [], []
    for step in steps:
        run = step.run
        targets = audience.targets(run, step)
        message = _("Overdue: step %(step)s of %(number)s (%(subject)s) was due %(due)s.",
                    step=step.name, number=run.number, subject=run.subject,
                    due=clock.local(step.due_at).strftime("%Y-%m-%d %H:%M"))
        link = f"/runs/{run.id}"  # the jobs thread has no request to build a URL from
        notices.append((audience.assignees(run, step) + targets, "step_overdue", message, link))
        entries.append(("run.step_escalate", "run", run.id, None,
                        {"step": step.index, "name": step.name, "due_at": step.due_at,
                         "escalated_to": sorted(u.username for u in targets)}, None))
    notify_many(notices)
    trail.record_many("system", entries)
    db.session.commit()
    return len(steps)


class _Audience:
    """`assignees` and `escalation_targets` asked once per department, role and target within
    a batch: a thousand overdue steps are usually a handful of departments."""

    def __init__(self):
        self._assignees, self._targets = {}, {}

    def assignees(self, run: ProcedureRun, step: RunStep) -> list[User]:
        key = (step_department_id(run, step), step.role)
        if key not in self._assignees:
            self._assignees[key] = assignees(run, step)
        return self._assignees[key]

    def targets(self, run: ProcedureRun, step: RunStep) -> list[User]:
        key = (step.escalate_to, step_department_id(run, step), run.department_id)
        if key not in self._targets:
            self._targets[key] = escalation_targets(run, step)
        return self._targets[key]
