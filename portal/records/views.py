"""Browser pages for forms and records: 记录清单, 台账, filling in, 划改, closing, voiding."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import services as accounts
from portal.accounts.permissions import is_controller
from portal.documents.exports import DOCX_MIME, attachment
from portal.errors import BadRequest, ValidationFailed
from portal.extensions import db
from portal.records import exports, queries, retention, services
from portal.records.docx_export import render_record_docx
from portal.records.fields import data_from_form
from portal.validation import parse_date

bp = Blueprint("records", __name__, template_folder="templates")


@bp.get("/forms")
@login_required
def forms():
    """记录清单: every form with owner, retention and record count."""
    return render_template("records/forms.html", entries=queries.records_list(current_user))


@bp.get("/forms.xlsx")
@login_required
def forms_xlsx():
    """记录清单 as Excel."""
    return exports.records_list_response(queries.records_list(current_user))


def _register_filters() -> dict:
    a = request.args
    day_from, day_to = parse_date(a.get("from", "")), parse_date(a.get("to", ""))
    return {"status": a.get("status") or None, "department": a.get("department") or None,
            "date_from": day_from, "date_to": day_to, "q": a.get("q") or None}


@bp.get("/forms/<int:form_id>/records")
@login_required
def register(form_id: int):
    """台账: the records of one form, filtered."""
    form = queries.get_form(current_user, form_id)
    query = queries.record_query(current_user, form_id=form.id, **_register_filters())
    records = db.session.execute(query.limit(500)).scalars().all()
    return render_template("records/register.html", form=form, records=records,
                           departments=accounts.list_departments())


@bp.get("/forms/<int:form_id>/records.xlsx")
@login_required
def register_xlsx(form_id: int):
    """台账 as Excel, with the same filters."""
    form = queries.get_form(current_user, form_id)
    query = queries.record_query(current_user, form_id=form.id, **_register_filters())
    return exports.register_response(form, db.session.execute(query).scalars().all())


@bp.route("/forms/<int:form_id>/records/new", methods=["GET", "POST"])
@login_required
def new(form_id: int):
    """Fill in a form; the number is assigned on saving."""
    form = queries.get_form(current_user, form_id)
    rev = services.issuing_revision(form)
    departments = accounts.list_departments(active_only=True)
    if request.method == "POST":
        data = data_from_form(rev.fields, request.form)
        try:
            rec = services.issue_record(current_user, form, {"data": data,
                                                             "department": request.form.get("department") or None})
        except ValidationFailed as exc:
            return _refill(exc, form=form, rev=rev, rec=None, values=data, departments=departments)
        flash(_("Record %(number)s issued.", number=rec.number), "success")
        return redirect(url_for("records.show", record_id=rec.id))
    return render_template("records/fill.html", form=form, rev=rev, rec=None, values={},
                           departments=departments, errors={})


def _refill(exc: ValidationFailed, **context):
    """Show the form again with what the user typed and a message beside each bad field."""
    db.session.rollback()
    flash(exc.message if not exc.fields else _("Please correct the marked fields."), "error")
    return render_template("records/fill.html", errors=exc.fields, **context), 422


@bp.get("/records/<int:record_id>")
@login_required
def show(record_id: int):
    """A record with its values, 划改 history and attachments."""
    rec = queries.get_record(current_user, record_id)
    corrected: dict[str, list] = {}
    for correction in rec.corrections:
        corrected.setdefault(correction.field, []).append(correction)
    return render_template("records/show.html", rec=rec, corrected=corrected,
                           can_change=services.can_change_record(current_user, rec) and not current_user.is_read_only,
                           can_manage=is_controller(current_user))


@bp.route("/records/<int:record_id>/correct", methods=["GET", "POST"])
@login_required
def correct(record_id: int):
    """划改: change values with a reason; the old values stay visible."""
    rec = queries.get_record(current_user, record_id)
    if request.method == "POST":
        data = data_from_form(rec.revision.fields, request.form)
        changed = {k: v for k, v in data.items() if (rec.data or {}).get(k) != v}
        try:
            services.correct_record(current_user, rec, {"data": changed, "reason": request.form.get("reason", "")})
        except ValidationFailed as exc:
            return _refill(exc, form=rec.form, rev=rec.revision, rec=rec, values={**(rec.data or {}), **data},
                           departments=[])
        flash(_("Correction recorded."), "success")
        return redirect(url_for("records.show", record_id=rec.id))
    return render_template("records/fill.html", form=rec.form, rev=rec.revision, rec=rec,
                           values=rec.data or {}, departments=[], errors={})


@bp.post("/records/<int:record_id>/close")
@login_required
def close(record_id: int):
    """Close a record."""
    services.close_record(current_user, queries.get_record(current_user, record_id))
    flash(_("Record closed."), "success")
    return redirect(url_for("records.show", record_id=record_id))


@bp.post("/records/<int:record_id>/void")
@login_required
def void(record_id: int):
    """Void a record with a reason."""
    rec = queries.get_record(current_user, record_id)
    services.void_record(current_user, rec, {"reason": request.form.get("reason", "")})
    flash(_("Record voided; its number stays taken."), "success")
    return redirect(url_for("records.show", record_id=record_id))


@bp.post("/records/<int:record_id>/attachments")
@login_required
def attach(record_id: int):
    """Attach a file."""
    rec = queries.get_record(current_user, record_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        raise BadRequest(_("Choose a file."))
    services.attach_file(current_user, rec, file.read(), file.filename, current_app.config["MAX_UPLOAD_BYTES"])
    flash(_("File attached."), "success")
    return redirect(url_for("records.show", record_id=record_id))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    """Download an attachment (if its record is visible)."""
    return attachment(*queries.attachment_content(current_user, attachment_id))


@bp.get("/records/<int:record_id>/export.docx")
@login_required
def export_docx(record_id: int):
    """The record as Word."""
    rec = queries.get_record(current_user, record_id)
    return attachment(render_record_docx(rec), f"{rec.number}_{rec.form.title}.docx".replace("/", "-"), DOCX_MIME)


@bp.get("/disposals")
@login_required
def disposals():
    """Records past retention, and pending disposals."""
    records = db.session.execute(retention.disposal_candidates(current_user)).scalars().all()
    return render_template("records/disposals.html", records=records)


@bp.post("/records/<int:record_id>/disposal-request")
@login_required
def request_disposal(record_id: int):
    """Propose a disposal."""
    rec = queries.get_record(current_user, record_id)
    retention.request_disposal(current_user, rec, {"method": request.form.get("method", "")})
    flash(_("Disposal proposed; an approver must confirm it."), "success")
    return redirect(url_for("records.show", record_id=record_id))


@bp.post("/records/<int:record_id>/dispose")
@login_required
def dispose(record_id: int):
    """Approve a disposal with password re-entry."""
    rec = queries.get_record(current_user, record_id)
    retention.approve_disposal(current_user, rec, {"password": request.form.get("password", "")})
    flash(_("Record disposed of; its stub remains."), "success")
    return redirect(url_for("records.show", record_id=record_id))
