"""The jobs round reminds a corrective action's owner before the due date and escalates an
overdue action to the owner's department manager and the controllers: once each, with a trail
entry per escalation, never for an action that is completed or closed."""
from datetime import datetime, timezone

from sqlalchemy import select

from portal.accounts import services as accounts
from portal.audit.models import CorrectiveAction
from portal.audit.reminders import escalate_overdue_actions, remind_due_actions
from portal.extensions import db
from portal.jobs import run_jobs_once
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry


def at(day: int, month: int = 5):
    """10:00 in Shanghai on that day of 2026."""
    return datetime(2026, month, day, 2, tzinfo=timezone.utc)


def kinds(user) -> list[str]:
    db.session.rollback()
    return list(db.session.execute(select(Notification.kind).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)).scalars())


def escalations() -> list[TrailEntry]:
    db.session.rollback()
    return list(db.session.execute(select(TrailEntry).where(TrailEntry.action == "action.escalate")).scalars())


def test_the_owner_is_reminded_three_days_before_once(frozen, action, owner):
    frozen(at(1))
    act = action(due_date="2026-05-10")
    frozen(at(6))
    assert remind_due_actions() == 0  # four days before: not yet
    frozen(at(7))
    assert remind_due_actions() == 1
    assert remind_due_actions() == 0  # never twice
    frozen(at(9))
    assert remind_due_actions() == 0
    assert kinds(owner) == ["action_assigned", "action_due"]
    assert db.session.get(CorrectiveAction, act["id"]).reminded_at is not None


def test_an_overdue_action_is_escalated_once_to_the_manager_and_the_controllers(f, frozen, action, owner):
    manager, controller = f.user("approver", department="SC"), f.user("controller")
    accounts.set_department_manager(f.user("admin"), "SC", manager.username)
    frozen(at(1))
    act = action(due_date="2026-05-10")
    frozen(at(10))
    assert escalate_overdue_actions() == 0  # due today is not overdue
    frozen(at(11))
    assert escalate_overdue_actions() == 1
    frozen(at(20))
    assert escalate_overdue_actions() == 0
    assert kinds(manager) == ["action_overdue"] and kinds(controller) == ["action_overdue"]
    assert kinds(owner)[-1] == "action_overdue"
    [entry] = escalations()
    assert (entry.actor, entry.object_type, entry.object_id) == ("system", "action", act["id"])
    assert entry.after["escalated_to"] == sorted([manager.username, controller.username])


def test_without_a_manager_the_controllers_hear_of_it(f, frozen, action):
    controller = f.user("controller")
    frozen(at(1))
    action(due_date="2026-05-02")
    frozen(at(3))
    escalate_overdue_actions()
    assert kinds(controller) == ["action_overdue"]
    assert escalations()[0].after["escalated_to"] == [controller.username]


def test_completed_actions_are_neither_reminded_nor_escalated(f, frozen, action, owner):
    frozen(at(1))
    act = action(due_date="2026-05-03")
    assert f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"}).status_code == 200
    frozen(at(2))
    assert remind_due_actions() == 0
    frozen(at(9))
    assert escalate_overdue_actions() == 0 and escalations() == []


def test_a_reopened_action_with_a_new_due_date_is_reminded_and_escalated_again(f, api, frozen, action, owner):
    frozen(at(1))
    act = action(due_date="2026-05-03")
    frozen(at(4))
    escalate_overdue_actions()
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    f.api(f.user("auditor")).post(f"/actions/{act['id']}/verify", json={
        "effective": False, "note": "无效", "due_date": "2026-05-20"})
    frozen(at(18))
    assert remind_due_actions() == 1
    frozen(at(21))
    assert escalate_overdue_actions() == 1 and len(escalations()) == 2


def test_escalations_go_in_batches_and_the_jobs_round_runs_them(app, f, frozen, action):
    frozen(at(1))
    for due in ("2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"):
        action(due_date=due)
    frozen(at(10))
    assert escalate_overdue_actions(batch=2) == 2  # the oldest first
    db.session.rollback()
    done = run_jobs_once(app)
    assert done["action_escalations"] == 2 and done["action_reminders"] == 0
    assert len(escalations()) == 4 and escalate_overdue_actions() == 0
