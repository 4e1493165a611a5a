"""`portal demo` carries one internal audit built through the audit services (CONTRACT.md
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
    audit = db.session.execute(select(Audit)).scalar_one()
    assert audit.state == "closed" and audit.summary and audit.conclusion
    assert {d.code for d in audit.departments} == {"SH", "ZB"}
    assert audit.checklist and all(item.result for item in audit.checklist)
    # Auditors never audit their own department.
    audited = {d.id for d in audit.departments}
    assert all(u.department_id not in audited for u in audit.auditors)
    by_class = {x.classification: x for x in audit.findings}
    assert set(by_class) == {"minor", "observation"}
    minor = by_class["minor"]
    assert minor.evidence and minor.actions
    action = minor.actions[0]
    assert action.state == "closed" and action.verified_effective is True
    assert action.verified_by_id != action.owner_id
    actions = set(db.session.execute(select(TrailEntry.action).where(
        TrailEntry.object_type.in_(("audit", "finding", "action")))).scalars())
    assert {"audit.create", "audit.start", "audit.report", "audit.close", "finding.create",
            "action.create", "action.complete", "action.verify"} <= actions
    db.session.rollback()
    assert cli("verify-trail").exit_code == 0


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
