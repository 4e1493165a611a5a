"""Read side of internal audits: who sees what, listings (the audit programme's coverage is
in portal/audit/coverage.py)."""
from sqlalchemy import extract, func, or_, select, true

from portal import clock
from portal.accounts.models import Department, User
from portal.audit.models import (EVIDENCE_KINDS, Audit, AuditChecklistItem, CorrectiveAction, Finding,
                                 audit_department, audit_team_member)
from portal.errors import NotFound
from portal.extensions import db
from portal.validation import MAX_ID

# A certification-body reviewer sees audit reports, never audits still being planned or run.
REPORTED = ("reported", "closed")


def can_view_audit(user, audit: Audit) -> bool:
    return not user.is_read_only or audit.state in REPORTED


def audits_visible_to(user):
    """The SQL condition on Audit of can_view_audit (the two are tested equal)."""
    return Audit.state.in_(REPORTED) if user.is_read_only else true()


def findings_visible_to(user):
    """The SQL condition on Finding: a finding is seen with its audit."""
    return Finding.audit_id.in_(select(Audit.id).where(audits_visible_to(user)))


def actions_visible_to(user):
    """The SQL condition on CorrectiveAction: an action is seen with its finding."""
    return CorrectiveAction.finding_id.in_(select(Finding.id).where(findings_visible_to(user)))


def get_audit(user, audit_id: int) -> Audit:
    audit = db.session.get(Audit, audit_id)
    if audit is None or not can_view_audit(user, audit):
        raise NotFound("No such audit.")
    return audit


def get_checklist_item(user, audit_id: int, item_id: int) -> AuditChecklistItem:
    audit = get_audit(user, audit_id)
    item = db.session.get(AuditChecklistItem, item_id)
    if item is None or item.audit_id != audit.id:
        raise NotFound("No such checklist item in this audit.")
    return item


def get_finding(user, finding_id: int) -> Finding:
    finding = db.session.get(Finding, finding_id)
    if finding is None or not can_view_audit(user, finding.audit):
        raise NotFound("No such finding.")
    return finding


def get_action(user, action_id: int) -> CorrectiveAction:
    """Corrective actions are open to every account; the certification-body reviewer sees
    them, like the findings they answer, once their audit is reported."""
    action = db.session.get(CorrectiveAction, action_id)
    if action is None or not can_view_audit(user, action.finding.audit):
        raise NotFound("No such corrective action.")
    return action


def audit_query(user, state: str | None = None, year: int | None = None):
    """A select() of the audits the user may see, latest planned first."""
    query = select(Audit).order_by(Audit.planned_start.desc(), Audit.id.desc())
    if state:
        query = query.where(Audit.state == state)
    if year:
        query = query.where(extract("year", Audit.planned_start) == year)
    return query.where(audits_visible_to(user))


def action_query(user, state: str | None = None, owner: str | None = None):
    """A select() of the corrective actions the user may see, due soonest first."""
    query = select(CorrectiveAction).order_by(CorrectiveAction.due_date, CorrectiveAction.id)
    query = query.where(actions_visible_to(user))
    if state:
        query = query.where(CorrectiveAction.state == state)
    if owner:
        query = query.join(User, CorrectiveAction.owner_id == User.id).where(
            func.lower(User.username) == owner.lower())
    return query


def evidence_ref(user, kind: str, object_id: int) -> str | None:
    """The code, label or number of a document, revision or record `user` may see; else None."""
    from portal.documents import queries as documents
    from portal.records import queries as records

    if not 1 <= object_id <= MAX_ID:
        return None
    try:
        if kind == "document":
            return documents.get_document(user, object_id).code
        if kind == "revision":
            rev = documents.get_revision(user, object_id)
            return f"{rev.document.code} {rev.label}"
        return records.get_record(user, object_id).number
    except NotFound:
        return None


def evidence_for(user, finding: Finding) -> list[dict]:
    """A finding's evidence as `user` may see it."""
    return visible_evidence(user, finding.evidence)


def visible_evidence(user, evidence) -> list[dict]:
    """Evidence references ([{kind, id, ref}], of a finding or of its trail entry) as `user` may
    see them. A reference to something hidden from them (a confidential document, a draft) keeps
    its kind only: its code would tell them it exists."""
    return [e if (isinstance(e, dict) and e.get("kind") in EVIDENCE_KINDS
                  and evidence_ref(user, e["kind"], _evidence_id(e)) is not None)
            else {"kind": e.get("kind") if isinstance(e, dict) else None, "id": None, "ref": None,
                  "restricted": True}
            for e in evidence or []]


def _evidence_id(entry: dict) -> int:
    value = entry.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- the dashboard -------------------------------------------------------------------------

# Who watches every overdue action; an approver or a department manager watches their department's.
OVERDUE_WATCHERS = ("admin", "controller", "auditor")
VERIFIERS = ("admin", "controller", "auditor")
DASHBOARD_ROWS = 100


def action_dashboard(user) -> dict:
    """我的纠正措施, 我的审核, 逾期措施 and 待验证 for `user`, each within what they may see."""
    return {"my_actions": _rows(my_actions_query(user)), "my_audits": _rows(my_audits_query(user)),
            "overdue_actions": _rows(overdue_actions_query(user)),
            "actions_to_verify": _rows(actions_to_verify_query(user))}


def _rows(query):
    return [] if query is None else db.session.execute(query.limit(DASHBOARD_ROWS)).scalars().all()


def my_actions_query(user):
    """Open and completed (waiting for verification) actions I own, due soonest first."""
    return (select(CorrectiveAction).where(actions_visible_to(user), CorrectiveAction.owner_id == user.id,
                                           CorrectiveAction.state.in_(("open", "completed")))
            .order_by(CorrectiveAction.due_date, CorrectiveAction.id))


def my_audits_query(user):
    """Audits not closed where I am the lead or on the team, soonest first."""
    on_team = select(audit_team_member.c.audit_id).where(audit_team_member.c.user_id == user.id)
    return (select(Audit).where(audits_visible_to(user), Audit.state != "closed",
                                or_(Audit.lead_auditor_id == user.id, Audit.id.in_(on_team)))
            .order_by(Audit.planned_start, Audit.id))


def overdue_actions_query(user):
    """Open actions past their due date: every one for controllers, admins and auditors; those of
    their department for an approver (管理者代表, 部门经理) and of the departments a user manages;
    None for anyone else."""
    query = (select(CorrectiveAction).where(actions_visible_to(user), CorrectiveAction.state == "open",
                                            CorrectiveAction.due_date < clock.today())
             .order_by(CorrectiveAction.due_date, CorrectiveAction.id))
    if user.role in OVERDUE_WATCHERS:
        return query
    departments = select(Department.id).where(Department.manager_id == user.id)
    if user.role == "approver" and user.department_id:
        departments = departments.union(select(Department.id).where(Department.id == user.department_id))
    elif user.is_read_only or not db.session.execute(departments.limit(1)).first():
        return None
    owners = select(User.id).where(User.department_id.in_(departments))
    findings = select(Finding.id).where(Finding.department_id.in_(departments))
    return query.where(or_(CorrectiveAction.owner_id.in_(owners), CorrectiveAction.finding_id.in_(findings)))


def actions_to_verify_query(user):
    """Completed actions `user` may verify: an auditor (controller, admin) who does not own the
    action and is not of a department its audit audited; None for anyone else."""
    if user.is_read_only or user.role not in VERIFIERS:
        return None
    query = (select(CorrectiveAction).where(actions_visible_to(user), CorrectiveAction.state == "completed",
                                            CorrectiveAction.owner_id != user.id)
             .order_by(CorrectiveAction.verify_after, CorrectiveAction.id))
    if user.department_id:
        own_audits = select(audit_department.c.audit_id).where(audit_department.c.department_id == user.department_id)
        query = query.where(CorrectiveAction.finding_id.in_(
            select(Finding.id).where(Finding.audit_id.not_in(own_audits))))
    return query
