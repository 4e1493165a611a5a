"""JSON API for management reviews (CONTRACT.md "Management review")."""
from flask import g, jsonify, request

from portal.api_support import api_blueprint, created, json_body, paginate
from portal.documents.exports import DOCX_MIME, attachment
from portal.errors import BadRequest
from portal.management_review import queries, services
from portal.management_review.docx_export import render_review_report, report_filename
from portal.management_review.models import REVIEW_STATES
from portal.management_review.serializers import output_json, review_json

bp = api_blueprint("management_review_api")


def _detail(review):
    return jsonify(review_json(review, g.user, detail=True))


@bp.post("/management-reviews")
def create_review():
    """Plan a review {title, period_from, period_to, meeting_date, chair, members}."""
    return created(review_json(services.create_review(g.user, json_body()), g.user, detail=True))


@bp.get("/management-reviews")
def list_reviews():
    """Reviews the caller may see, latest meeting first; ?state=."""
    state = request.args.get("state") or None
    if state is not None and state not in REVIEW_STATES:
        raise BadRequest(f"state must be one of {', '.join(REVIEW_STATES)}.", code="bad_parameter")
    return jsonify(paginate(queries.review_query(g.user, state), review_json))


@bp.get("/management-reviews/<int:review_id>")
def get_review(review_id: int):
    """One review with its inputs (computed while planned, frozen once held) and outputs."""
    return _detail(queries.get_review(g.user, review_id))


@bp.post("/management-reviews/<int:review_id>/hold")
def hold_review(review_id: int):
    """planned → held: the inputs are frozen with their SHA-256."""
    return _detail(services.hold_review(g.user, queries.get_review(g.user, review_id)))


@bp.post("/management-reviews/<int:review_id>/outputs")
def add_output(review_id: int):
    """Record an output {decision, owner, due_date} of a held review."""
    review = queries.get_review(g.user, review_id)
    return created(output_json(services.add_output(g.user, review, json_body())))


@bp.post("/review-outputs/<int:output_id>/complete")
def complete_output(output_id: int):
    """The owner reports the output done {note}."""
    output = queries.get_output(g.user, output_id)
    return jsonify(output_json(services.complete_output(g.user, output, json_body())))


@bp.post("/management-reviews/<int:review_id>/approve")
def approve_review(review_id: int):
    """The chair approves {conclusion: {suitable, adequate, effective}, summary, password} → closed."""
    review = queries.get_review(g.user, review_id)
    return _detail(services.approve_review(g.user, review, json_body()))


@bp.get("/management-reviews/<int:review_id>/report.docx")
def review_report(review_id: int):
    """The 管理评审报告 as Word."""
    review = queries.get_review(g.user, review_id)
    return attachment(render_review_report(review, g.user), report_filename(review), DOCX_MIME)
