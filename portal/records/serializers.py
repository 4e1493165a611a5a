"""JSON shapes of records (CONTRACT.md "Forms and numbered records")."""
from portal.documents.serializers import iso


def record_json(rec) -> dict:
    return {"id": rec.id, "number": rec.number, "form_id": rec.form_id, "form_code": rec.form.code,
            "form_title": rec.form.title, "revision_id": rec.revision_id,
            "revision_label": rec.revision_label,
            "department": rec.department.code if rec.department else None,
            "status": rec.status, "data": rec.data, "created_by": rec.created_by.username,
            "created_at": iso(rec.created_at), "closed_at": iso(rec.closed_at),
            "voided_at": iso(rec.voided_at), "void_reason": rec.void_reason,
            "retain_until": iso(rec.retain_until),
            "disposal": _disposal(rec),
            # a disposed record keeps only its stub: its old values went with its data
            "corrections": [] if rec.status == "disposed" else [correction_json(c) for c in rec.corrections],
            "attachments": [] if rec.status == "disposed" else [attachment_json(a) for a in rec.attachments]}


def _disposal(rec) -> dict | None:
    if rec.disposal_requested_at is None:
        return None
    return {"method": rec.disposal_method, "requested_by": rec.disposal_requested_by.username,
            "requested_at": iso(rec.disposal_requested_at),
            "disposed_by": rec.disposed_by.username if rec.disposed_by else None,
            "disposed_at": iso(rec.disposed_at)}


def correction_json(c) -> dict:
    return {"field": c.field, "old_value": c.old_value, "new_value": c.new_value,
            "reason": c.reason, "by": c.by.username, "at": iso(c.at)}


def attachment_json(a) -> dict:
    return {"id": a.id, "filename": a.filename, "sha256": a.sha256, "size": a.size,
            "content_type": a.content_type, "uploaded_by": a.uploaded_by.username,
            "uploaded_at": iso(a.uploaded_at)}
