"""JSON shapes of audits, checklist items, findings and corrective actions
(CONTRACT.md "Internal audits and corrective actions")."""
from portal import clock
from portal.audit.qualification import justification_json
from portal.audit.queries import evidence_for
from portal.documents.serializers import iso


def audit_json(audit, user=None, detail: bool = False) -> dict:
    """`detail` (with `user`, who reads it) adds the checklist and the findings."""
    body = {"id": audit.id, "number": audit.number, "title": audit.title, "state": audit.state,
            "planned_start": iso(audit.planned_start), "planned_end": iso(audit.planned_end),
            "departments": [d.code for d in audit.departments], "clauses": list(audit.clauses or []),
            "lead_auditor": audit.lead_auditor.username, "team": [u.username for u in audit.team],
            "summary": audit.summary, "conclusion": audit.conclusion,
            "opening_notes": audit.opening_notes, "closing_notes": audit.closing_notes,
            "created_by": audit.created_by.username, "created_at": iso(audit.created_at),
            "started_at": iso(audit.started_at), "reported_at": iso(audit.reported_at),
            "closed_at": iso(audit.closed_at), "kind": audit.kind, "reason": audit.ad_hoc_reason,
            "independence": justification_json(audit)}
    if detail:
        body["checklist"] = [checklist_item_json(i) for i in audit.checklist]
        body["findings"] = [finding_json(x, user) for x in audit.findings]
    return body


def checklist_item_json(item) -> dict:
    return {"id": item.id, "audit_id": item.audit_id, "clause": item.clause,
            "department": item.department.code, "question": item.question, "result": item.result,
            "notes": item.notes, "auditor": item.auditor.username if item.auditor else None,
            "checked_at": iso(item.checked_at)}


def finding_json(finding, user) -> dict:
    return {"id": finding.id, "number": finding.number, "audit_id": finding.audit_id,
            "audit_number": finding.audit.number, "classification": finding.classification,
            "clause": finding.clause, "department": finding.department.code,
            "statement": finding.statement, "evidence": evidence_for(user, finding),
            "checklist_item_id": finding.checklist_item_id,
            "acknowledged_by": finding.acknowledged_by.username if finding.acknowledged_by else None,
            "acknowledged_at": iso(finding.acknowledged_at),
            "created_by": finding.created_by.username, "created_at": iso(finding.created_at),
            "actions": [action_json(a) for a in finding.actions]}


def action_json(action) -> dict:
    verification = None
    if action.verified_at is not None:
        verification = {"effective": action.verified_effective, "note": action.verification_note,
                        "by": action.verified_by.username, "at": iso(action.verified_at)}
    return {"id": action.id, "number": action.number, "finding_id": action.finding_id,
            "finding_number": action.finding.number, "audit_id": action.finding.audit_id,
            "owner": action.owner.username, "due_date": iso(action.due_date),
            "containment": action.containment, "root_cause": action.root_cause, "plan": action.plan,
            "occurs_elsewhere": action.occurs_elsewhere, "verify_after": iso(action.verify_after),
            "reopened_count": action.reopened_count or 0,
            "overdue": action.state == "open" and action.due_date < clock.today(),
            "state": action.state, "created_by": action.created_by.username,
            "created_at": iso(action.created_at), "completed_at": iso(action.completed_at),
            "completion_note": action.completion_note, "verification": verification,
            "closed_at": iso(action.closed_at)}
