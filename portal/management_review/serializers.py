"""JSON shapes of management reviews and their outputs (CONTRACT.md "Management review")."""
from portal.documents.serializers import iso
from portal.management_review import inputs as review_inputs
from portal.management_review.queries import is_overdue


def output_json(output) -> dict:
    return {"id": output.id, "review_id": output.review_id, "review_number": output.review.number,
            "decision": output.decision, "owner": output.owner.username, "owner_name": output.owner.display_name,
            "due_date": iso(output.due_date), "state": output.state, "overdue": is_overdue(output),
            "completion_note": output.completion_note, "completed_at": iso(output.completed_at),
            "created_by": output.created_by.username, "created_at": iso(output.created_at)}


def review_json(review, user=None, detail: bool = False) -> dict:
    """`detail` (with `user`, who reads it) adds the inputs: frozen once held, else computed
    now; references hidden from the reader are `restricted` (inputs.as_seen_by)."""
    body = {"id": review.id, "number": review.number, "title": review.title, "state": review.state,
            "period_from": iso(review.period_from), "period_to": iso(review.period_to),
            "meeting_date": iso(review.meeting_date), "chair": review.chair.username,
            "chair_name": review.chair.display_name, "members": [u.username for u in review.members],
            "inputs_sha256": review.inputs_sha256, "held_at": iso(review.held_at),
            "held_by": review.held_by.username if review.held_by else None,
            "conclusion": review.conclusion, "summary": review.summary,
            "approved_at": iso(review.approved_at), "retain_until": iso(review.retain_until),
            "created_by": review.created_by.username, "created_at": iso(review.created_at),
            "outputs": [output_json(o) for o in review.outputs]}
    if detail:
        frozen = review.inputs is not None
        body["inputs_frozen"] = frozen
        body["inputs"] = review_inputs.as_seen_by(user, review.inputs if frozen else review_inputs.compute(review))
    return body
