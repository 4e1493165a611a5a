"""JSON shapes of runs (CONTRACT.md "Procedure runs")."""
from portal import clock
from portal.documents.serializers import iso


def step_json(step, now=None) -> dict:
    from portal.procedures.queries import is_overdue

    return {"index": step.index, "name": step.name, "form_id": step.form_id, "role": step.role,
            "department": step.department.code if step.department else None,
            "due_at": iso(step.due_at), "state": step.state, "completed_at": iso(step.completed_at),
            "completed_by": step.completed_by.username if step.completed_by else None,
            "record_id": step.record_id, "overdue": is_overdue(step, now), "late": step.late}


def run_json(run) -> dict:
    now = clock.now()
    return {"id": run.id, "number": run.number, "document_id": run.document_id,
            "revision_label": run.revision_label, "subject": run.subject,
            "department": run.department.code, "priority": run.priority, "state": run.state,
            "started_at": iso(run.started_at), "closed_at": iso(run.closed_at),
            "cancelled_at": iso(run.cancelled_at), "cancel_reason": run.cancel_reason,
            "created_by": run.created_by.username,
            "steps": [step_json(s, now) for s in run.steps]}
