"""`portal demo` carries one internal audit built through the audit services (CONTRACT.md
"Command line": demo data with an audit)."""
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
