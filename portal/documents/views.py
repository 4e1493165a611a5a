"""Browser pages for documents and revisions: list, page, editor, signing, diff."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import services as accounts
from portal.api_support import id_arg
from portal.accounts.permissions import MANAGE_DOCUMENTS, is_controller, require_role
from portal.audit.clauses import list_clauses
from portal.documents import distribution, exports, queries, review, services, workflow
from portal.documents.diff import diff_html
from portal.documents.models import CONFIDENTIALITY, DOC_TYPES
from portal.errors import BadRequest, DomainError
from portal.extensions import db
from portal.validation import form_int

bp = Blueprint("documents", __name__, template_folder="templates")


def _form_data(*names: str) -> dict:
    return {n: request.form[n] for n in names if n in request.form}


@bp.get("/documents")
@login_required
def index():
    """Document list with filters."""
    a = request.args
    query = queries.document_query(current_user, doc_type=a.get("doc_type") or None,
                                   department=a.get("department") or None,
                                   status=a.get("status") or None, q=a.get("q") or None)
    docs = db.session.execute(query).scalars().all()
    return render_template("documents/index.html", docs=docs, doc_types=DOC_TYPES,
                           departments=accounts.list_departments())


@bp.route("/documents/new", methods=["GET", "POST"])
@login_required
def new():
    """Register a document (controllers)."""
    require_role(current_user, MANAGE_DOCUMENTS, "register documents")
    if request.method == "POST":
        data = _form_data("code", "title", "doc_type", "department", "confidentiality",
                          "numbering_pattern", "external_source", "external_edition", "received_on",
                          "applicability")
        data = {k: v for k, v in data.items() if v != "" or k in ("code", "title")}
        data["distribution"] = [n.strip() for n in request.form.get("distribution", "").replace("，", ",").split(",")
                                if n.strip()]
        data["clauses"] = request.form.getlist("clauses")
        for key in ("review_period_months", "retention_years"):
            if form_int(request.form.get(key)) is not None:  # checked by the service, as from the API
                data[key] = form_int(request.form.get(key))
        doc = services.create_document(current_user, data)
        flash(_("Document registered."), "success")
        return redirect(url_for("documents.show", doc_id=doc.id))
    return render_template("documents/new.html", doc_types=DOC_TYPES, confidentiality=CONFIDENTIALITY,
                           departments=accounts.list_departments(active_only=True),
                           clauses=list_clauses())


@bp.get("/documents/<int:doc_id>")
@login_required
def show(doc_id: int):
    """Document page: current revision, revision history, copies of the trail."""
    doc = queries.get_document(current_user, doc_id)
    as_of = request.args.get("as_of")
    as_of_rev = None
    if as_of:
        from portal.validation import parse_date

        day = parse_date(as_of)
        if day is None:
            raise BadRequest(_("Invalid date."))
        as_of_rev = queries.revision_as_of(doc, day)
    history = queries.document_history(current_user, doc)
    copies = db.session.execute(distribution.copy_query(document_id=doc.id)).scalars().all()
    return render_template("documents/show.html", doc=doc,
                           revisions=queries.visible_revisions(current_user, doc),
                           history=history, as_of=as_of, as_of_rev=as_of_rev, copies=copies,
                           reviews=review.reviews_of(doc), may_review=review.may_review(current_user, doc),
                           can_manage=is_controller(current_user),
                           can_view_revision=lambda r: queries.can_view_revision(current_user, r))


@bp.route("/documents/<int:doc_id>/revisions/new", methods=["GET", "POST"])
@login_required
def new_revision(doc_id: int):
    """Revision editor for a new draft (rich text or a .docx upload)."""
    doc = queries.get_document(current_user, doc_id)
    if request.method == "POST":
        data = _form_data("body_html", "change_summary", "change_reason", "change_level")
        rev = services.start_revision(current_user, doc, data, _upload())
        flash(_("Draft %(label)s created.", label=rev.label), "success")
        return redirect(url_for("documents.revision", rev_id=rev.id))
    base = doc.current_revision
    return render_template("documents/editor.html", doc=doc, rev=None,
                           body=base.body_html if base else "")


def _upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        return None
    return file.read(), file.filename


@bp.route("/revisions/<int:rev_id>/edit", methods=["GET", "POST"])
@login_required
def edit_revision(rev_id: int):
    """Edit a draft."""
    rev = queries.get_revision(current_user, rev_id)
    if request.method == "POST":
        data = _form_data("body_html", "change_summary", "change_reason", "change_level")
        services.update_revision(current_user, rev, data, _upload())
        flash(_("Draft saved."), "success")
        return redirect(url_for("documents.revision", rev_id=rev.id))
    return render_template("documents/editor.html", doc=rev.document, rev=rev, body=rev.body_html)


@bp.get("/revisions/<int:rev_id>")
@login_required
def revision(rev_id: int):
    """A revision with its body, signatures and workflow actions."""
    return _revision_page(queries.get_revision(current_user, rev_id))


def _revision_page(rev, entered: dict | None = None):
    """The revision page; `entered` is a refused signature as typed, shown again in its form."""
    others = [r for r in queries.visible_revisions(current_user, rev.document) if r.id != rev.id]
    users = [u for u in accounts.list_users() if u.is_active and not u.is_read_only]
    return render_template("documents/revision.html", rev=rev, doc=rev.document, others=others,
                           users=users, my_pending=workflow.signable_slots(current_user, rev),
                           entered=entered or {}, latest_effective=workflow.latest_effective_date(),
                           can_edit=services.can_edit_revision(current_user, rev),
                           can_manage=is_controller(current_user))


@bp.post("/revisions/<int:rev_id>/submit")
@login_required
def submit(rev_id: int):
    """Send a draft for review and approval."""
    rev = queries.get_revision(current_user, rev_id)
    data = {"reviewers": [u for u in request.form.getlist("reviewers") if u],
            "approver": request.form.get("approver", "")}
    workflow.submit_revision(current_user, rev, data)
    flash(_("Submitted for review."), "success")
    return redirect(url_for("documents.revision", rev_id=rev.id))


@bp.post("/revisions/<int:rev_id>/sign")
@login_required
def sign(rev_id: int):
    """Sign (accept or reject) with password re-entry. A refused signature (no comment to a
    rejection, wrong password, …) shows the page again with the decision and comment as they
    were entered: a redirect would lose them and offer the form afresh."""
    rev = queries.get_revision(current_user, rev_id)
    data = _form_data("meaning", "decision", "comment", "password")
    try:
        workflow.sign_revision(current_user, rev, data)
    except DomainError as exc:
        if exc.status == 401:
            raise
        db.session.rollback()
        flash(exc.message, "error")
        entered = {k: data.get(k) for k in ("meaning", "decision", "comment")}
        return _revision_page(queries.get_revision(current_user, rev_id), entered), exc.status
    flash(_("Signature recorded."), "success")
    return redirect(url_for("documents.revision", rev_id=rev.id))


@bp.post("/revisions/<int:rev_id>/release")
@login_required
def release(rev_id: int):
    """Release an approved revision."""
    rev = queries.get_revision(current_user, rev_id)
    workflow.release_revision(current_user, rev, _form_data("effective_date"))
    flash(_("Revision released."), "success")
    return redirect(url_for("documents.revision", rev_id=rev.id))


@bp.post("/documents/<int:doc_id>/obsolete")
@login_required
def obsolete(doc_id: int):
    """Make a document obsolete."""
    doc = queries.get_document(current_user, doc_id)
    workflow.obsolete_document(current_user, doc, _form_data("reason"))
    flash(_("Document made obsolete."), "success")
    return redirect(url_for("documents.show", doc_id=doc.id))


@bp.get("/revisions/<int:rev_id>/diff")
@login_required
def diff(rev_id: int):
    """Differences between two revisions of one document."""
    # id_arg: an id too large for the database is unknown (404), not a database error.
    rev, other = queries.revisions_to_compare(current_user, rev_id, id_arg("against"))
    return render_template("documents/diff.html", rev=rev, other=other, doc=rev.document,
                           diff=diff_html(other.text, rev.text))


@bp.get("/revisions/<int:rev_id>/export.docx")
@login_required
def export_docx(rev_id: int):
    """Download the revision as Word."""
    return exports.docx_response(queries.get_revision(current_user, rev_id), current_user)


@bp.get("/master-list")
@login_required
def master_list():
    """受控文件清单."""
    return render_template("documents/master_list.html", docs=queries.master_list(current_user))


@bp.get("/master-list.xlsx")
@login_required
def master_list_xlsx():
    """受控文件清单 as Excel."""
    return exports.master_list_response(queries.master_list(current_user))
