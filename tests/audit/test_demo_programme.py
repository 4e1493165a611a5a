"""The demo holds an approved 2026 audit programme and its auditors' qualifications, made through
the services before the first audit was planned."""
from sqlalchemy import select

from portal.audit.models import Audit, AuditorQualification, AuditProgramme
from portal.extensions import db
from portal.trail.models import TrailEntry


def test_the_demo_programme_is_approved_and_its_auditors_qualified(app):
    from portal.audit import coverage
    from portal.accounts.services import user_by_username
    from portal.demo.loader import load_demo

    load_demo()
    db.session.rollback()
    programme = db.session.execute(select(AuditProgramme).where(AuditProgramme.year == 2026)).scalar_one()
    assert programme.approved_by.username == "zhaoguoqiang" and programme.standards == ["ISO 9001:2015"]
    assert set(programme.department_codes) == {"SC", "SH", "XZ", "YF", "YX", "ZB"}
    qualified = {q.user.username: q for q in db.session.execute(select(AuditorQualification)).scalars()}
    assert {"zhoujing", "wuhaitao"} <= set(qualified)
    first_audit = min(a.created_at for a in db.session.execute(select(Audit)).scalars())
    steps = {e.action: e.at for e in db.session.execute(select(TrailEntry).where(
        TrailEntry.action.in_(("user.auditor_qualify", "programme.create", "programme.approve")))).scalars()}
    assert steps["user.auditor_qualify"] < steps["programme.create"] < steps["programme.approve"] < first_audit
    data = coverage.matrix(user_by_username("zhoujing"), 2026)
    assert data["summary"]["audited"] > 0 and data["summary"]["not_covered"] > 0
    assert len(data["clauses"]) == 28 and len(data["departments"]) == 6
