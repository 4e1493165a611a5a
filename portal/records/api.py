"""JSON API for records (CONTRACT.md "Forms and numbered records")."""
from flask import current_app, g, jsonify, request

from portal.api_support import api_blueprint, created, id_arg, json_body, paginate
from portal.documents.exports import DOCX_MIME, attachment
from portal.errors import BadRequest
from portal.records import exports, queries, retention, services
from portal.records.docx_export import render_record_docx
from portal.records.serializers import attachment_json, record_json
from portal.validation import parse_date

bp = api_blueprint("records_api")


@bp.post("/documents/<int:form_id>/records")
def issue_record(form_id: int):
    """Issue a numbered record from the form's effective revision."""
    form = queries.get_form(g.user, form_id)
    return created(record_json(services.issue_record(g.user, form, json_body())))


def _date_arg(name: str):
    raw = request.args.get(name)
    if not raw:
        return None
    day = parse_date(raw)
    if day is None:
        raise BadRequest(f"{name} must be a date YYYY-MM-DD.", code="bad_parameter")
    return day


@bp.get("/records")
def list_records():
    """Records the caller may see; ?form_id=&number=&status=&department=&from=&to=."""
    a = request.args
    query = queries.record_query(g.user, form_id=id_arg("form_id"), number=a.get("number"),
                                 status=a.get("status"), department=a.get("department"),
                                 date_from=_date_arg("from"), date_to=_date_arg("to"))
    return jsonify(paginate(query, record_json))


@bp.get("/records/<int:record_id>")
def get_record(record_id: int):
    """One record with its corrections and attachments."""
    return jsonify(record_json(queries.get_record(g.user, record_id)))


@bp.patch("/records/<int:record_id>")
def correct_record(record_id: int):
    """Correct fields of an open record, with a reason."""
    rec = queries.get_record(g.user, record_id)
    return jsonify(record_json(services.correct_record(g.user, rec, json_body())))


@bp.post("/records/<int:record_id>/close")
def close_record(record_id: int):
    """Close a record."""
    rec = queries.get_record(g.user, record_id)
    return jsonify(record_json(services.close_record(g.user, rec)))


@bp.post("/records/<int:record_id>/void")
def void_record(record_id: int):
    """Void a record with a reason; the number stays taken."""
    rec = queries.get_record(g.user, record_id)
    return jsonify(record_json(services.void_record(g.user, rec, json_body())))


@bp.post("/records/<int:record_id>/attachments")
def attach(record_id: int):
    """Attach a file (multipart `file`)."""
    rec = queries.get_record(g.user, record_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        raise BadRequest("Attach the file as the multipart field `file`.", code="missing_file")
    att = services.attach_file(g.user, rec, file.read(), file.filename, current_app.config["MAX_UPLOAD_BYTES"])
    return created(attachment_json(att))


@bp.get("/attachments/<int:attachment_id>")
def download_attachment(attachment_id: int):
    """An attachment's content, if its record is visible (404 once disposed of)."""
    return attachment(*queries.attachment_content(g.user, attachment_id))


@bp.get("/records/<int:record_id>/export.docx")
def export_record(record_id: int):
    """The record as Word, laid out like the paper form."""
    rec = queries.get_record(g.user, record_id)
    name = f"{rec.number}_{rec.form.title}.docx".replace("/", "-")
    return attachment(render_record_docx(rec), name, DOCX_MIME)


@bp.get("/forms/<int:form_id>/register.xlsx")
def register_xlsx(form_id: int):
    """The form's register (台账) as Excel."""
    form = queries.get_form(g.user, form_id)
    from portal.extensions import db

    records = db.session.execute(queries.record_query(g.user, form_id=form.id)).scalars().all()
    return exports.register_response(form, records)


@bp.get("/records-list")
def records_list():
    """记录清单: every form with owner, retention and record count."""
    entries = queries.records_list(g.user)
    items = [{"form_id": e["form"].id, "code": e["form"].code, "title": e["form"].title,
              "department": e["form"].department.code, "retention_years": e["form"].retention_years,
              "records": e["count"]} for e in entries]
    return jsonify({"items": items, "total": len(items)})


@bp.get("/disposals")
def disposal_list():
    """Records past retention that may be disposed of."""
    return jsonify(paginate(retention.disposal_candidates(g.user), record_json))


@bp.post("/records/<int:record_id>/disposal-request")
def request_disposal(record_id: int):
    """Propose disposing of a record past retention (controller)."""
    rec = queries.get_record(g.user, record_id)
    return jsonify(record_json(retention.request_disposal(g.user, rec, json_body())))


@bp.post("/records/<int:record_id>/dispose")
def approve_disposal(record_id: int):
    """Approve a pending disposal with password re-entry (an approver, not the proposer)."""
    rec = queries.get_record(g.user, record_id)
    return jsonify(record_json(retention.approve_disposal(g.user, rec, json_body())))
