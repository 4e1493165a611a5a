"""JSON API for controlled copies, periodic reviews and external documents (CONTRACT.md
"Distribution of controlled copies")."""
from flask import current_app, g, jsonify, request

from portal.api_support import api_blueprint, created, id_arg, int_arg, json_body, paginate
from portal.documents import distribution, exports, queries, review
from portal.documents.models import ControlledCopy
from portal.documents.serializers import copy_json, document_json, review_json
from portal.errors import NotFound
from portal.extensions import db

bp = api_blueprint("copies_api")


def get_copy(user, copy_id: int) -> ControlledCopy:
    copy = db.session.get(ControlledCopy, copy_id)
    if copy is None or not queries.can_view_document(user, copy.revision.document):
        raise NotFound("No such copy.")
    return copy


@bp.post("/revisions/<int:rev_id>/copies")
def issue_copies(rev_id: int):
    """Issue a numbered copy to {holder}, or copies to the whole 发放范围 with {distribution: true}."""
    rev = queries.get_revision(g.user, rev_id)
    payload = json_body()
    copies = distribution.issue_copy(g.user, rev, payload)
    if payload.get("distribution") is True:
        return created({"items": [copy_json(c) for c in copies], "total": len(copies)})
    return created(copy_json(copies[0]))


@bp.get("/copies")
def list_copies():
    """文件发放回收记录: ?document_id=&outstanding_recall=1&mine=1."""
    flag = lambda name: request.args.get(name) in ("1", "true")  # noqa: E731
    query = distribution.copy_query(document_id=id_arg("document_id"), outstanding_recall=flag("outstanding_recall"),
                                    holder_user=g.user if flag("mine") else None)
    if flag("late"):
        query = distribution.late_filter(query, current_app.config["ACKNOWLEDGE_DAYS"])
    return jsonify(paginate(queries.restrict_copies(query, g.user), copy_json))


@bp.get("/copies/<int:copy_id>")
def show_copy(copy_id: int):
    """One copy."""
    return jsonify(copy_json(get_copy(g.user, copy_id)))


@bp.post("/copies/<int:copy_id>/acknowledge")
def acknowledge(copy_id: int):
    """签收 by the holder."""
    return jsonify(copy_json(distribution.acknowledge_copy(g.user, get_copy(g.user, copy_id))))


@bp.post("/copies/<int:copy_id>/recall")
def recall(copy_id: int):
    """回收 {outcome: returned|destroyed, witness?} by a controller."""
    copy = get_copy(g.user, copy_id)
    body = json_body() if request.content_length else {}
    return jsonify(copy_json(distribution.recall_copy(g.user, copy, body)))


@bp.post("/copies/<int:copy_id>/replace")
def replace(copy_id: int):
    """Replace a lost or damaged copy {reason}: the old number is voided."""
    copy = get_copy(g.user, copy_id)
    return jsonify(copy_json(distribution.replace_copy(g.user, copy, json_body())))


@bp.get("/copies/<int:copy_id>/export.docx")
def export_copy(copy_id: int):
    """The controlled copy as Word: 受控, its 发放号 and holder on every page."""
    copy = distribution.copy_for_export(g.user, get_copy(g.user, copy_id))
    return exports.docx_response(copy.revision, g.user, copy)


@bp.post("/documents/<int:doc_id>/periodic-review")
def periodic_review(doc_id: int):
    """Record a periodic review {outcome, comment, password}."""
    doc = queries.get_document(g.user, doc_id)
    item = review.record_review(g.user, doc, json_body())
    return jsonify({**review_json(item), "document": document_json(doc, g.user)})


@bp.get("/documents/<int:doc_id>/reviews")
def list_reviews(doc_id: int):
    """The document's periodic reviews, newest first."""
    doc = queries.get_document(g.user, doc_id)
    items = [review_json(r) for r in review.reviews_of(doc)]
    return jsonify({"items": items, "total": len(items)})


@bp.get("/reviews/due")
def reviews_due():
    """Documents whose periodic review is due within ?days= (default 30), overdue first."""
    docs = review.reviews_due(None, int_arg("days", 30, 0, 3660))
    items = [document_json(d, g.user) for d in docs if queries.can_view_document(g.user, d)]
    return jsonify({"items": items, "total": len(items)})


@bp.get("/external-documents")
def external_documents():
    """外来文件清单: standards, laws and customer specifications in force."""
    query = queries.document_query(g.user, doc_type="external")
    return jsonify(paginate(query, lambda d: document_json(d, g.user)))


@bp.get("/external-documents.xlsx")
def external_documents_xlsx():
    """外来文件清单 as Excel."""
    docs = db.session.execute(queries.document_query(g.user, doc_type="external")).scalars().all()
    return exports.external_list_response(docs)
