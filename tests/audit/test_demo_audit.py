"""`portal demo` carries two internal audits built through the audit services (CONTRACT.md
"Command line": demo data with an audit)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from portal.audit.models import Audit
from portal.extensions import db
from portal.trail.models import TrailEntry


def test_demo_has_a_closed_audit_with_checklist_findings_and_a_verified_action(cli):
    result = cli("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    db.session.rollback()
    audit = db.session.execute(select(Audit).where(Audit.state == "closed")).scalar_one()
    assert audit.summary and audit.conclusion and audit.opening_notes and audit.closing_notes
    assert {d.code for d in audit.departments} == {"SH", "ZB"}
    assert audit.checklist and all(item.result for item in audit.checklist)
    # Auditors never audit their own department.
    audited = {d.id for d in audit.departments}
    assert all(u.department_id not in audited for u in audit.auditors)
    by_class = {x.classification: x for x in audit.findings}
    assert set(by_class) == {"minor", "observation"}
    # raised from their 检查表 rows and acknowledged by someone of the audited department
    assert all(x.checklist_item is not None and x.checklist_item.result in ("nonconforming", "observation")
               for x in audit.findings)
    assert all(x.acknowledged_by.department_id == x.department_id for x in audit.findings)
    minor = by_class["minor"]
    assert minor.evidence and minor.actions
    action = minor.actions[0]
    assert action.state == "closed" and action.verified_effective is True and action.root_cause
    assert action.verified_by_id != action.owner_id
    actions = set(db.session.execute(select(TrailEntry.action).where(
        TrailEntry.object_type.in_(("audit", "finding", "action")))).scalars())
    assert {"audit.create", "audit.start", "audit.notes", "audit.report", "audit.close", "finding.create",
            "finding.acknowledge", "action.create", "action.complete", "action.verify",
            "action.escalate"} <= actions
    db.session.rollback()
    assert cli("verify-trail").exit_code == 0


def test_demo_has_a_second_audit_with_actions_in_every_state(cli):
    """Reported with a clause left unchecked (the warning is in the trail); one action found not
    effective and reopened, one completed waiting for verification, one overdue and escalated."""
    from portal.audit.models import CorrectiveAction
    from portal.notifications.models import Notification

    assert cli("demo", "--no-serve").exit_code == 0
    db.session.rollback()
    audit = db.session.execute(select(Audit).where(Audit.state == "reported")).scalar_one()
    assert {d.code for d in audit.departments} == {"SH", "SC"} and len(audit.findings) == 3
    report = db.session.execute(select(TrailEntry).where(
        TrailEntry.object_type == "audit", TrailEntry.object_id == audit.id,
        TrailEntry.action == "audit.report")).scalar_one()
    assert any("10.2" in w for w in report.after["warnings"])
    actions = {a.owner.username: a for x in audit.findings for a in x.actions}
    reopened, waiting, overdue = actions["sunli"], actions["liuyang"], actions["zhangwei"]
    assert (reopened.state, reopened.reopened_count, reopened.verified_effective) == ("open", 1, False)
    assert waiting.state == "completed" and waiting.verify_after > waiting.completed_at.date()
    assert overdue.state == "open" and overdue.reminded_at and overdue.escalated_at
    kinds = set(db.session.execute(select(Notification.kind).where(
        Notification.link.in_([f"/actions/{a.id}" for a in actions.values()]))).scalars())
    assert {"action_assigned", "action_reopened", "action_due", "action_overdue"} <= kinds
    assert db.session.execute(select(CorrectiveAction).where(CorrectiveAction.state == "closed")).scalars().all()


@pytest.mark.parametrize("loaded_on", [None, datetime(2026, 4, 10, 1, tzinfo=timezone.utc)])
def test_the_demo_history_never_goes_back_in_time(app, frozen, loaded_on):
    """The demo replays its history step by step: in the trail's order every entry is at or
    after the one before it. Steps that froze the clock later than their slot broke this: a
    record closed at 16:00 before the next was issued at 10:00, and, for a demo loaded in
    April 2026, the audit's 04-15 verification slotted among the open drafts of early April."""
    from portal.demo.loader import load_demo

    if loaded_on:
        frozen(loaded_on)
    load_demo()
    db.session.rollback()
    entries = db.session.execute(select(TrailEntry.seq, TrailEntry.at, TrailEntry.action)
                                 .order_by(TrailEntry.seq)).all()
    backwards = [(a, b) for a, b in zip(entries, entries[1:]) if b.at < a.at]
    assert entries and not backwards, backwards[:3]
