"""JSON API for the inbox."""
from flask import g, jsonify, request

from portal.api_support import api_blueprint, paginate
from portal.documents.serializers import iso
from portal.notifications import services

bp = api_blueprint("notifications_api")


def notification_json(n) -> dict:
    return {"id": n.id, "kind": n.kind, "message": n.message, "link": n.link,
            "created_at": iso(n.created_at), "read_at": iso(n.read_at), "email_status": n.email_status}


@bp.get("/notifications")
def inbox():
    """My notifications, newest first; ?unread=1 for unread only."""
    query = services.inbox(g.user, unread_only=request.args.get("unread") in ("1", "true"))
    return jsonify(paginate(query, notification_json))


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int):
    """Mark one of my notifications read."""
    return jsonify(notification_json(services.mark_read(g.user, notification_id)))
