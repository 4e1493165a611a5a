"""JSON API for the audit trail."""
from flask import g, jsonify, request

from portal.api_support import api_blueprint, id_arg, paginate
from portal.errors import BadRequest
from portal.trail.models import OBJECT_TYPES
from portal.trail.services import entries_for
from portal.trail.visibility import as_seen_by, require_trail_access, restrict

bp = api_blueprint("trail_api")


@bp.get("/trail")
def list_trail():
    """Trail entries the caller may read (trail/visibility.py), oldest first, optionally for one object."""
    object_type = request.args.get("object_type") or None
    if object_type and object_type not in OBJECT_TYPES:
        raise BadRequest("Unknown object_type.", code="bad_parameter")
    object_id = id_arg("object_id")
    require_trail_access(g.user, object_type, object_id)
    query = restrict(entries_for(object_type, object_id), g.user, kinds=(object_type,) if object_type else None)
    return jsonify(paginate(query, lambda entry: as_seen_by(g.user, entry)))
