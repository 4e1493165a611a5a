"""JSON API for documents and revisions (CONTRACT.md "Documents and revisions")."""
from flask import Response, g, jsonify, request

from portal.api_support import api_blueprint, created, id_arg, json_body, paginate
from portal.documents import exports, queries, services, workflow
from portal.documents.diff import diff_html
from portal.documents.serializers import document_json, revision_json
from portal.errors import BadRequest
from portal.validation import parse_date

bp = api_blueprint("documents_api")


@bp.post("/documents")
def create_document():
    """Register a controlled document."""
    doc = services.create_document(g.user, json_body())
    return created(document_json(doc, g.user))


@bp.get("/documents")
def list_documents():
    """Documents the caller may see, filtered by code, type, department, status."""
    a = request.args
    query = queries.document_query(g.user, code=a.get("code"), doc_type=a.get("doc_type"),
                                   department=a.get("department"), status=a.get("status"),
                                   q=a.get("q"))
    return jsonify(paginate(query, lambda d: document_json(d, g.user)))


@bp.get("/documents/<int:doc_id>")
def get_document(doc_id: int):
    """One document; `?as_of=YYYY-MM-DD` adds the revision effective on that day."""
    doc = queries.get_document(g.user, doc_id)
    body = document_json(doc, g.user)
    if "as_of" in request.args:
        day = parse_date(request.args["as_of"])
        if day is None:
            raise BadRequest("as_of must be a date YYYY-MM-DD.", code="bad_parameter")
        rev = queries.revision_as_of(doc, day)
        visible = rev is not None and queries.can_view_revision(g.user, rev)
        body["revision_as_of"] = revision_json(rev) if visible else None
    return jsonify(body)


@bp.patch("/documents/<int:doc_id>")
def update_document(doc_id: int):
    """Change a document's metadata."""
    doc = queries.get_document(g.user, doc_id)
    return jsonify(document_json(services.update_document(g.user, doc, json_body()), g.user))


@bp.post("/documents/<int:doc_id>/revisions")
def start_revision(doc_id: int):
    """Open a draft revision from JSON or from an uploaded .docx (multipart `file`)."""
    doc = queries.get_document(g.user, doc_id)
    data, upload = _revision_input()
    return created(revision_json(services.start_revision(g.user, doc, data, upload)))


def _revision_input():
    if request.mimetype == "multipart/form-data":
        file = request.files.get("file")
        if file is None or not file.filename:
            raise BadRequest("Attach the .docx as the multipart field `file`.", code="missing_file")
        data = {k: v for k, v in request.form.items() if k != "file"}
        return data, (file.read(), file.filename)
    return json_body(), None


@bp.get("/revisions/<int:rev_id>")
def get_revision(rev_id: int):
    """One revision with its body and signatures."""
    return jsonify(revision_json(queries.get_revision(g.user, rev_id)))


@bp.patch("/revisions/<int:rev_id>")
def update_revision(rev_id: int):
    """Edit a draft revision."""
    rev = queries.get_revision(g.user, rev_id)
    data, upload = _revision_input()
    return jsonify(revision_json(services.update_revision(g.user, rev, data, upload)))


@bp.post("/revisions/<int:rev_id>/submit")
def submit_revision(rev_id: int):
    """Send a draft to its reviewers and approver."""
    rev = queries.get_revision(g.user, rev_id)
    return jsonify(revision_json(workflow.submit_revision(g.user, rev, json_body())))


@bp.post("/revisions/<int:rev_id>/sign")
def sign_revision(rev_id: int):
    """Review or approve (accept or reject) with password re-entry."""
    rev = queries.get_revision(g.user, rev_id)
    return jsonify(revision_json(workflow.sign_revision(g.user, rev, json_body())))


@bp.post("/revisions/<int:rev_id>/release")
def release_revision(rev_id: int):
    """Release an approved revision with its effective date."""
    rev = queries.get_revision(g.user, rev_id)
    return jsonify(revision_json(workflow.release_revision(g.user, rev, json_body())))


@bp.post("/documents/<int:doc_id>/obsolete")
def obsolete_document(doc_id: int):
    """Make a document obsolete, with a reason."""
    doc = queries.get_document(g.user, doc_id)
    return jsonify(document_json(workflow.obsolete_document(g.user, doc, json_body()), g.user))


@bp.get("/revisions/<int:rev_id>/diff")
def diff_revisions(rev_id: int):
    """Differences between this revision and `?against=`."""
    rev, other = queries.revisions_to_compare(g.user, rev_id, id_arg("against"))
    return jsonify({"from": other.id, "to": rev.id, "diff_html": diff_html(other.text, rev.text)})


@bp.get("/revisions/<int:rev_id>/export.docx")
def export_revision(rev_id: int):
    """The revision as a Word file with header block, signatures and 修订履历."""
    rev = queries.get_revision(g.user, rev_id)
    return exports.docx_response(rev, g.user)


@bp.get("/master-list")
def master_list():
    """受控文件清单 as JSON."""
    docs = queries.master_list(g.user)
    return jsonify({"items": [document_json(d, g.user) for d in docs], "total": len(docs)})


@bp.get("/master-list.xlsx")
def master_list_xlsx() -> Response:
    """受控文件清单 as an Excel workbook."""
    return exports.master_list_response(queries.master_list(g.user))
