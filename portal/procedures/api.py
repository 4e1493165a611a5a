"""JSON API for procedure runs (CONTRACT.md "Procedure runs")."""
from flask import g, jsonify, request

from portal.api_support import api_blueprint, created, id_arg, json_body, paginate
from portal.documents.queries import get_document
from portal.errors import BadRequest
from portal.extensions import db
from portal.procedures import exports, queries, services
from portal.procedures.serializers import run_json

bp = api_blueprint("procedures_api")
MAX_EXPORT_ROWS = 10_000


@bp.post("/documents/<int:doc_id>/runs")
def start_run(doc_id: int):
    """Start a run from the procedure's effective revision."""
    doc = get_document(g.user, doc_id)
    return created(run_json(services.start_run(g.user, doc, json_body())))


@bp.post("/runs/<int:run_id>/steps/<int:index>/complete")
def complete_step(run_id: int, index: int):
    """Complete a step with {record_id} or {data}, in order."""
    run = queries.get_run(g.user, run_id)
    return jsonify(run_json(services.complete_step(g.user, run, index, json_body())))


@bp.post("/runs/<int:run_id>/cancel")
def cancel_run(run_id: int):
    """Cancel an open run with a reason."""
    run = queries.get_run(g.user, run_id)
    return jsonify(run_json(services.cancel_run(g.user, run, json_body())))


@bp.get("/runs/<int:run_id>")
def get_run(run_id: int):
    """One run with its steps."""
    return jsonify(run_json(queries.get_run(g.user, run_id)))


def list_filters() -> dict:
    """The query string of the list and the register (shared with the pages)."""
    a = request.args
    overdue = a.get("overdue", "")
    if overdue not in ("", "0", "1", "true", "false"):
        raise BadRequest("overdue must be 1 or 0.", code="bad_parameter")
    return {"document_id": id_arg("document_id"), "state": a.get("state") or None,
            "department": a.get("department") or None, "overdue": overdue in ("1", "true")}


@bp.get("/runs")
def list_runs():
    """Runs the caller may see, newest first; ?document_id=&state=&department=&overdue=1."""
    return jsonify(paginate(queries.run_query(g.user, **list_filters()), run_json))


@bp.get("/runs.xlsx")
def runs_xlsx():
    """The runs register as Excel, with the list's filters."""
    query = queries.run_query(g.user, **list_filters()).limit(MAX_EXPORT_ROWS)
    return exports.register_response(db.session.execute(query).scalars().all())
