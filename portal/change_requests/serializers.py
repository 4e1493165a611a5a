"""JSON shape of a change request (CONTRACT.md "Document change requests")."""
from portal.documents.serializers import iso


def visible_action(user, cr):
    """The corrective action the request was raised from, when `user` may see it."""
    from portal.audit.queries import can_view_audit

    action = cr.action
    return action if action is not None and can_view_audit(user, action.finding.audit) else None


def change_request_json(cr, user) -> dict:
    action = visible_action(user, cr)
    return {"id": cr.id, "number": cr.number, "document_id": cr.document_id,
            "document_code": cr.document.code, "document_title": cr.document.title,
            "reason": cr.reason, "proposed_change": cr.proposed_change, "change_level": cr.change_level,
            "action_id": action.id if action else None, "action_number": action.number if action else None,
            "state": cr.state, "requested_by": cr.requested_by.username, "created_at": iso(cr.created_at),
            "decided_by": cr.decided_by.username if cr.decided_by else None, "decided_at": iso(cr.decided_at),
            "decision_comment": cr.decision_comment, "revision_id": cr.revision_id,
            "revision_label": cr.revision.label if cr.revision else None,
            "implemented_at": iso(cr.implemented_at)}
