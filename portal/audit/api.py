"""JSON API for the clause catalogue."""
from flask import jsonify, request

from portal.api_support import api_blueprint
from portal.audit.clauses import list_clauses

bp = api_blueprint("audit_api")


@bp.get("/clauses")
def clauses():
    """Every clause of the catalogue (optionally one standard), unpaged."""
    items = [{"standard": c.standard, "number": c.number, "title": c.title_zh,
              "title_en": c.title_en} for c in list_clauses(request.args.get("standard"))]
    return jsonify({"items": items, "total": len(items)})
