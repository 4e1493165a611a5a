"""Browser pages for controlled copies, periodic reviews, external documents and the inbox."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.api_support import id_arg
from portal.documents import distribution, exports, queries, review, services
from portal.documents.copies_api import get_copy
from portal.extensions import db
from portal.notifications import services as notifications
from portal.xlsx import workbook_bytes

bp = Blueprint("copies", __name__)


def _back_to(doc_id: int):
    return redirect(url_for("documents.show", doc_id=doc_id) + "#copies")


@bp.post("/revisions/<int:rev_id>/copies")
@login_required
def issue(rev_id: int):
    """Issue a copy to one holder or to the whole 发放范围."""
    rev = queries.get_revision(current_user, rev_id)
    if request.form.get("distribution") == "1":
        copies = distribution.issue_copy(current_user, rev, {"distribution": True})
    else:
        copies = distribution.issue_copy(current_user, rev, {"holder": request.form.get("holder", "")})
    flash(_("Issued: %(numbers)s", numbers=", ".join(c.copy_no for c in copies)), "success")
    return _back_to(rev.document_id)


@bp.post("/documents/<int:doc_id>/distribution")
@login_required
def set_distribution(doc_id: int):
    """Save the 发放范围 (one holder per line or separated by commas)."""
    doc = queries.get_document(current_user, doc_id)
    raw = request.form.get("distribution", "").replace(",", "\n").replace("，", "\n")
    services.update_document(current_user, doc, {"distribution": [n.strip() for n in raw.splitlines() if n.strip()]})
    flash(_("Distribution list saved."), "success")
    return _back_to(doc.id)


@bp.get("/copies/<int:copy_id>")
@login_required
def show(copy_id: int):
    """One controlled copy."""
    copy = get_copy(current_user, copy_id)
    return render_template("documents/copy.html", copy=copy,
                           may_acknowledge=distribution.may_act_as_holder(current_user, copy))


@bp.post("/copies/<int:copy_id>/acknowledge")
@login_required
def acknowledge(copy_id: int):
    """签收."""
    distribution.acknowledge_copy(current_user, get_copy(current_user, copy_id))
    flash(_("Receipt acknowledged."), "success")
    return redirect(request.referrer or url_for("copies.show", copy_id=copy_id))


@bp.post("/copies/<int:copy_id>/recall")
@login_required
def recall(copy_id: int):
    """回收."""
    copy = get_copy(current_user, copy_id)
    distribution.recall_copy(current_user, copy, {"outcome": request.form.get("outcome", "returned"),
                                                  "witness": request.form.get("witness") or None})
    flash(_("Recall recorded."), "success")
    return redirect(request.referrer or url_for("copies.show", copy_id=copy_id))


@bp.post("/copies/<int:copy_id>/replace")
@login_required
def replace(copy_id: int):
    """Replace a lost or damaged copy."""
    copy = get_copy(current_user, copy_id)
    new = distribution.replace_copy(current_user, copy, {"reason": request.form.get("reason", "")})
    flash(_("Copy %(old)s voided; new copy %(new)s issued.", old=copy.copy_no, new=new.copy_no), "success")
    return redirect(url_for("copies.show", copy_id=new.id))


@bp.get("/copies/<int:copy_id>/export.docx")
@login_required
def export(copy_id: int):
    """The controlled copy as Word."""
    copy = distribution.copy_for_export(current_user, get_copy(current_user, copy_id))
    return exports.docx_response(copy.revision, current_user, copy)


@bp.get("/copies")
@login_required
def register():
    """文件发放回收记录 portal-wide; ?outstanding_recall=1 for the recall list."""
    outstanding = request.args.get("outstanding_recall") == "1"
    query = queries.restrict_copies(distribution.copy_query(
        document_id=id_arg("document_id"), outstanding_recall=outstanding), current_user)
    copies = db.session.execute(query).scalars().all()
    if request.args.get("format") == "xlsx":
        return _register_xlsx(copies)
    return render_template("documents/copies.html", copies=copies, outstanding=outstanding)


COPY_COLUMNS = ["发放号", "文件编号", "文件名称", "版本", "持有人", "发放日期", "签收", "状态", "回收日期", "回收方式", "见证人"]


def _local_day(dt) -> str:
    from portal import clock

    return clock.local(dt).strftime("%Y-%m-%d") if dt else ""


def copy_row(c) -> list:
    fmt = _local_day
    return [c.copy_no, c.revision.document.code, c.revision.document.title, c.revision.label, c.holder_name,
            fmt(c.issued_at), fmt(c.acknowledged_at), _(c.status), fmt(c.recalled_at),
            _(c.recall_outcome) if c.recall_outcome else "", c.recall_witness or ""]


def _register_xlsx(copies):
    from portal import clock

    data = workbook_bytes("文件发放回收记录", COPY_COLUMNS, [copy_row(c) for c in copies])
    return exports.attachment(data, f"文件发放回收记录_{clock.today().isoformat()}.xlsx", exports.XLSX_MIME)


@bp.post("/documents/<int:doc_id>/periodic-review")
@login_required
def periodic_review(doc_id: int):
    """Sign a periodic review."""
    doc = queries.get_document(current_user, doc_id)
    review.record_review(current_user, doc, {k: request.form.get(k, "") for k in ("outcome", "comment", "password")})
    flash(_("Periodic review recorded."), "success")
    return redirect(url_for("documents.show", doc_id=doc.id) + "#review")


@bp.get("/external")
@login_required
def external():
    """外来文件清单."""
    docs = db.session.execute(queries.document_query(current_user, doc_type="external")).scalars().all()
    if request.args.get("format") == "xlsx":
        return exports.external_list_response(docs)
    return render_template("documents/external.html", docs=docs)


@bp.get("/inbox")
@login_required
def inbox():
    """My notifications."""
    items = db.session.execute(notifications.inbox(current_user).limit(200)).scalars().all()
    return render_template("inbox.html", items=items)


@bp.post("/inbox/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Mark read and follow the link."""
    note = notifications.mark_read(current_user, notification_id)
    return redirect(note.link or url_for("copies.inbox"))
