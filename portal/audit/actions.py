"""Corrective actions (纠正措施, QP1401): assigned to someone of the 责任部门 and notified with
the due date; completed only with a root cause; verified for effectiveness by an independent
auditor no earlier than `verify_after`; back to open, with the owner told, when not effective."""
from datetime import date

from flask_babel import gettext as _

from portal import clock, numbering
from portal.accounts import services as accounts
from portal.accounts.permissions import require_writer
from portal.audit import access
from portal.audit.models import CorrectiveAction, Finding
from portal.errors import InvalidState, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.notifications.services import notify
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

ACTION_PATTERN = "CA-{yyyy}-{seq:4}"
TEXT_MAX = 4000
ACTIONS_ASSIGNABLE = ("in_progress", "reported")


def action_state(action: CorrectiveAction) -> dict:
    return {"number": action.number, "finding": action.finding.number, "state": action.state,
            "owner": action.owner.username, "due_date": action.due_date, "plan": action.plan,
            "containment": action.containment, "root_cause": action.root_cause,
            "occurs_elsewhere": action.occurs_elsewhere, "verify_after": action.verify_after}


def action_link(action: CorrectiveAction) -> str:
    return f"/actions/{action.id}"  # the jobs thread has no request to build a URL from


def open_action(actor, finding: Finding, payload: dict) -> CorrectiveAction:
    """Assign a corrective action on a finding to someone of its department, with a due date
    and a plan; the owner is told at once."""
    access.require_on_audit(actor, finding.audit, "assign corrective actions")
    access.lock_row(finding.audit)  # nor a close between the check and the new action
    if finding.audit.state not in ACTIONS_ASSIGNABLE:
        raise InvalidState(f"Audit {finding.audit.number} is {finding.audit.state}; "
                           "corrective actions are assigned once it runs and until it closes.",
                           code="audit_not_open_for_actions")
    f = Fields(payload)
    owner = _owner(f, finding, f.text("owner", 64, required=True))
    due = f.day("due_date", required=True)
    verify_after = f.day("verify_after")
    texts = {name: f.text(name, TEXT_MAX) or None for name in ("containment", "root_cause", "occurs_elsewhere")}
    plan = f.text("plan", TEXT_MAX, required=True)
    _not_past(f, "due_date", due)
    _not_past(f, "verify_after", verify_after)
    f.done("Invalid corrective action.")
    action = CorrectiveAction(number=numbering.next_number("action", ACTION_PATTERN, "", None),
                              finding=finding, owner=owner, due_date=due, plan=plan, state="open",
                              verify_after=verify_after, created_by=actor, created_at=clock.now(), **texts)
    db.session.add(action)
    db.session.flush()
    trail.record(actor, "action.create", "action", action.id, None, action_state(action))
    notify([owner], "action_assigned",
           _("Corrective action %(number)s on finding %(finding)s is yours; due %(due)s.",
             number=action.number, finding=finding.number, due=due.isoformat()), action_link(action))
    _enqueue_action(action)
    db.session.commit()
    return action


def _not_past(f: Fields, name: str, day: date | None) -> None:
    if day and day < clock.today():
        f.fail(name, "in the past")


def _owner(f: Fields, finding: Finding, username: str | None):
    """QP1401 4.2/4.5: the 责任部门 named on the 不合格报告 (the finding's department) analyses
    the cause and acts, so the owner is one of its people or its manager. No override: an
    action owned elsewhere would answer for a department that never acknowledged the finding."""
    if not username:
        return None
    try:
        user = accounts.user_by_username(username, "owner")
    except ValidationFailed as exc:
        f.fail("owner", exc.message)
        return None
    if not user.is_active or user.is_read_only:
        f.fail("owner", f"{username} cannot own corrective actions")
    elif not belongs_to(user, finding.department):
        f.fail("owner", f"{username} is not of {finding.department.code}, the department of the finding")
    return user


def belongs_to(user, department) -> bool:
    """A member of the department, or its manager."""
    return user.department_id == department.id or department.manager_id == user.id


def _enqueue_action(action: CorrectiveAction) -> None:
    enqueue("action", action.id)
    enqueue("finding", action.finding_id)  # a finding is open while any of its actions is


def complete_action(actor, action: CorrectiveAction, payload: dict) -> CorrectiveAction:
    """The owner reports the action done, with its root cause (kept, or given now) and whether
    the nonconformity could occur elsewhere; an auditor then verifies effectiveness."""
    require_writer(actor)
    if actor.id != action.owner_id:
        raise NotAllowed(_("Only the action's owner may complete it."))
    access.lock_row(action)
    if action.state != "open":
        raise InvalidState(f"Corrective action {action.number} is {action.state}, not open.",
                           code="action_not_open")
    f = Fields(payload)
    note = f.text("note", TEXT_MAX, required=True)
    root_cause = f.text("root_cause", TEXT_MAX) or action.root_cause
    occurs_elsewhere = f.text("occurs_elsewhere", TEXT_MAX) or action.occurs_elsewhere
    verify_after = f.day("verify_after")
    if not root_cause and "root_cause" not in f.errors:
        f.fail("root_cause", "required before completion (QP1401 4.4)")
    _not_past(f, "verify_after", verify_after)
    f.done(_("Describe what was done and the root cause."))
    before = {"state": "open", "root_cause": action.root_cause, "occurs_elsewhere": action.occurs_elsewhere,
              "verify_after": action.verify_after}
    action.state, action.completed_at, action.completion_note = "completed", clock.now(), note
    action.root_cause, action.occurs_elsewhere = root_cause, occurs_elsewhere
    action.verify_after = verify_after or action.verify_after or clock.today()
    trail.record(actor, "action.complete", "action", action.id, before,
                 {"state": "completed", "note": note, "root_cause": root_cause,
                  "occurs_elsewhere": occurs_elsewhere, "verify_after": action.verify_after})
    _enqueue_action(action)
    db.session.commit()
    return action


def verify_action(actor, action: CorrectiveAction, payload: dict) -> CorrectiveAction:
    """An independent auditor other than the owner judges effectiveness, on or after
    `verify_after`: closed, or back to open (reopened, the owner told, a new due date if given)."""
    access.require_auditor(actor, "verify corrective actions")
    if actor.id == action.owner_id:
        raise NotAllowed(_("The owner of a corrective action cannot verify it."))
    # any independent auditor may verify, later too; never one from the audited department
    reason = access.not_independent(actor, action.finding.audit)
    if reason:
        raise NotAllowed(f"{reason}; {actor.username} may not verify its corrective actions.")
    access.lock_row(action)
    if action.state != "completed":
        raise InvalidState(f"Corrective action {action.number} is {action.state}; only a completed "
                           "action can be verified.", code="action_not_completed")
    f = Fields(payload)
    effective = f.data.get("effective")
    if not isinstance(effective, bool):
        f.fail("effective", "must be true or false")
    note = f.text("note", TEXT_MAX, required=True)
    new_due = f.day("due_date")
    _not_past(f, "due_date", new_due)
    if new_due and effective is True:
        f.fail("due_date", "only for an action found not effective")
    f.done("Invalid verification.")
    if action.verify_after and clock.today() < action.verify_after:
        raise InvalidState(_("Effectiveness of %(number)s is verified on or after %(day)s.",
                             number=action.number, day=action.verify_after.isoformat()),
                           code="too_early_to_verify")
    now = clock.now()
    before = {"state": "completed", "due_date": action.due_date}
    action.verified_effective, action.verification_note = effective, note
    action.verified_by, action.verified_at = actor, now
    if effective:
        action.state, action.closed_at = "closed", now
    else:
        _reopen(action, new_due)
    trail.record(actor, "action.verify", "action", action.id, before,
                 {"state": action.state, "effective": effective, "due_date": action.due_date,
                  "reopened_count": action.reopened_count}, note)
    _enqueue_action(action)
    db.session.commit()
    return action


def _reopen(action: CorrectiveAction, new_due: date | None) -> None:
    """QP1401 4.7: not effective → analyse the cause again and act; the owner hears of it."""
    action.state, action.closed_at = "open", None
    action.reopened_count = (action.reopened_count or 0) + 1
    action.verify_after = None  # the next completion sets the next one
    if new_due:
        # a new due date starts a new round of reminder and escalation
        action.due_date, action.reminded_at, action.escalated_at = new_due, None, None
    notify([action.owner], "action_reopened",
           _("Corrective action %(number)s was found not effective and is open again; due %(due)s.",
             number=action.number, due=action.due_date.isoformat()), action_link(action))
