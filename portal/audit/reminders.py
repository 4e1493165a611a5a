"""The jobs round's corrective-action notices: a reminder to the owner a few days before the
due date, and an escalation once overdue to the owner, their department's manager and the
controllers. Each is sent once (reminded_at / escalated_at are set in the same transaction as
the notice) and in batches, rows locked SKIP LOCKED so two job runners never both send one."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.audit.actions import action_link
from portal.audit.models import CorrectiveAction
from portal.extensions import db
from portal.notifications.services import controllers, notify
from portal.trail import services as trail

REMIND_DAYS_BEFORE = 3


def _due(condition, batch: int):
    return db.session.execute(
        select(CorrectiveAction).where(CorrectiveAction.state == "open", *condition)
        .order_by(CorrectiveAction.due_date, CorrectiveAction.id).limit(batch)
        .with_for_update(skip_locked=True)).scalars().all()


def remind_due_actions(batch: int = 1000) -> int:
    """One reminder per open action due within REMIND_DAYS_BEFORE days (today included)."""
    today = clock.today()
    actions = _due((CorrectiveAction.reminded_at.is_(None), CorrectiveAction.due_date >= today,
                    CorrectiveAction.due_date <= today + timedelta(days=REMIND_DAYS_BEFORE)), batch)
    now = clock.now()
    for action in actions:
        action.reminded_at = now
        notify([action.owner], "action_due",
               _("Corrective action %(number)s (finding %(finding)s) is due %(due)s.",
                 number=action.number, finding=action.finding.number, due=action.due_date.isoformat()),
               action_link(action))
    db.session.commit()
    return len(actions)


def escalation_targets(action: CorrectiveAction) -> list:
    """The manager of the owner's department (when there is one) and the controllers."""
    department = action.owner.department
    manager = department.manager if department is not None else None
    return ([manager] if manager is not None and manager.active else []) + controllers()


def escalate_overdue_actions(batch: int = 1000) -> int:
    """One notice per newly overdue open action, kept in the action's trail; never repeated."""
    actions = _due((CorrectiveAction.escalated_at.is_(None), CorrectiveAction.due_date < clock.today()), batch)
    now = clock.now()
    for action in actions:
        action.escalated_at = now
        targets = escalation_targets(action)
        notify([action.owner] + targets, "action_overdue",
               _("Overdue: corrective action %(number)s (finding %(finding)s, owner %(owner)s) was due %(due)s.",
                 number=action.number, finding=action.finding.number, owner=action.owner.display_name,
                 due=action.due_date.isoformat()),
               action_link(action))
        trail.record("system", "action.escalate", "action", action.id, None,
                     {"number": action.number, "due_date": action.due_date,
                      "escalated_to": sorted({u.username for u in targets})})
    db.session.commit()
    return len(actions)
