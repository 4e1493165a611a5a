"""JSON API for document change requests (CONTRACT.md "Document change requests")."""
from flask import g, jsonify, request

from portal.api_support import api_blueprint, created, id_arg, json_body, paginate
from portal.change_requests import queries, services
from portal.change_requests.serializers import change_request_json
from portal.documents.queries import get_document

bp = api_blueprint("change_requests_api")


def _json(cr) -> dict:
    return change_request_json(cr, g.user)


@bp.post("/documents/<int:doc_id>/change-requests")
def raise_request(doc_id: int):
    """Request a change of a document the caller may see."""
    doc = get_document(g.user, doc_id)
    return created(_json(services.raise_request(g.user, doc, json_body())))


@bp.post("/change-requests/<int:cr_id>/accept")
def accept(cr_id: int):
    """Accept an open request: the draft revision that implements it opens."""
    cr = queries.get_change_request(g.user, cr_id)
    return jsonify(_json(services.accept(g.user, cr, json_body())))


@bp.post("/change-requests/<int:cr_id>/reject")
def reject(cr_id: int):
    """Reject an open request with a comment."""
    cr = queries.get_change_request(g.user, cr_id)
    return jsonify(_json(services.reject(g.user, cr, json_body())))


@bp.get("/change-requests")
def list_requests():
    """Requests the caller may see, newest first; ?document_id=&state=."""
    query = queries.request_query(g.user, document_id=id_arg("document_id"), state=request.args.get("state") or None)
    return jsonify(paginate(query, _json))


@bp.get("/change-requests/<int:cr_id>")
def get_request(cr_id: int):
    """One request, with the revision that implements it once accepted."""
    return jsonify(_json(queries.get_change_request(g.user, cr_id)))
