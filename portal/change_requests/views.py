"""Browser pages for change requests: the list, raising one (from a document or a corrective
action), the request with its decision forms, and the document page's list (template globals)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts.permissions import require_writer
from portal.change_requests import queries, services
from portal.change_requests.models import CHANGE_LEVELS, CHANGE_REQUEST_STATES, ChangeRequest
from portal.change_requests.serializers import visible_action
from portal.documents import queries as documents
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.trail.models import TrailEntry
from portal.trail.visibility import restrict
from portal.validation import MAX_ID, parse_id

bp = Blueprint("change_requests", __name__, template_folder="templates")
PAGE_ROWS = 500


def _id(value) -> int | None:
    number = parse_id(value)
    return number if number is not None and number <= MAX_ID else None


def _filters() -> dict:
    a = request.args
    return {"document_id": _id(a.get("document_id")),
            "state": a.get("state") if a.get("state") in CHANGE_REQUEST_STATES else None}


@bp.get("/change-requests")
@login_required
def index():
    """Change requests the user may see, by state and document."""
    rows = db.session.execute(queries.request_query(current_user, **_filters()).limit(PAGE_ROWS)).scalars().all()
    return render_template("change_requests/index.html", requests=rows, filters=_filters(),
                           states=CHANGE_REQUEST_STATES,
                           documents=queries.documents_with_requests(current_user))


def _action_from_args():
    """The corrective action a request is raised from (?action_id=), when the user may see it."""
    from portal.audit.queries import get_action

    action_id = _id(request.values.get("action_id"))
    if action_id is None:
        return None
    try:
        return get_action(current_user, action_id)
    except NotFound:
        return None


def _document_from_form(doc):
    """The fixed document, or the one whose code was typed (None: not one the user may see)."""
    if doc is not None:
        return doc
    code = (request.form.get("document_code") or "").strip()
    if not code:
        return None
    query = documents.document_query(current_user, code=code[:100])
    return db.session.execute(query).scalars().first()


@bp.route("/change-requests/new", methods=["GET", "POST"])
@bp.route("/documents/<int:doc_id>/change-requests/new", methods=["GET", "POST"])
@login_required
def new(doc_id: int | None = None):
    """Raise a change request on a document, from its page or from a corrective action."""
    require_writer(current_user)
    doc = documents.get_document(current_user, doc_id) if doc_id is not None else None
    if doc is not None:
        services.check_may_raise(current_user, doc)
    action = _action_from_args()
    context = dict(doc=doc, action=action, levels=CHANGE_LEVELS)
    if request.method == "GET":
        return render_template("change_requests/new.html", values={}, errors={}, **context)
    values = {k: request.form.get(k, "") for k in ("reason", "proposed_change", "change_level", "document_code")}
    target = _document_from_form(doc)
    try:
        if target is None:
            raise ValidationFailed(_("Please correct the marked fields."),
                                   fields={"document_code": _("no such document")})
        payload = {k: values[k] for k in ("reason", "proposed_change", "change_level")}
        if action is not None:
            payload["action_id"] = action.id
        cr = services.raise_request(current_user, target, payload)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return render_template("change_requests/new.html", values=values, errors=exc.fields, **context), 422
    flash(_("Change request %(number)s raised.", number=cr.number), "success")
    return redirect(url_for("change_requests.show", cr_id=cr.id))


def _history(cr) -> list[TrailEntry]:
    query = select(TrailEntry).where(TrailEntry.object_type == "change_request", TrailEntry.object_id == cr.id)
    return list(db.session.execute(restrict(query.order_by(TrailEntry.seq), current_user,
                                            kinds=("change_request",))).scalars())


def _show(cr, status=200, errors=None, values=None):
    may_decide = cr.state == "open" and services.may_decide(current_user, cr)
    writers = services.eligible_authors(cr.document) if may_decide else []
    revision = cr.revision if cr.revision and documents.can_view_revision(current_user, cr.revision) else None
    return render_template("change_requests/show.html", cr=cr, may_decide=may_decide, writers=writers,
                           action=visible_action(current_user, cr), revision=revision, history=_history(cr),
                           errors=errors or {}, values=values or {}), status


@bp.get("/change-requests/<int:cr_id>")
@login_required
def show(cr_id: int):
    """The request, its decision and the revision that implements it."""
    return _show(queries.get_change_request(current_user, cr_id))


@bp.post("/change-requests/<int:cr_id>/<any(accept, reject):decision>")
@login_required
def decide(cr_id: int, decision: str):
    """Accept (with the draft's author) or reject, with a comment."""
    cr = queries.get_change_request(current_user, cr_id)
    payload = {k: request.form[k] for k in ("comment", "author") if request.form.get(k)}
    try:
        if decision == "accept":
            services.accept(current_user, cr, payload)
        else:
            services.reject(current_user, cr, payload)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message if not exc.fields else _("Please correct the marked fields."), "error")
        return _show(queries.get_change_request(current_user, cr_id), 422, exc.fields,
                     {"decision": decision, **payload})
    if decision == "accept":
        flash(_("Change request %(number)s accepted: draft %(label)s opened.", number=cr.number,
                label=cr.revision.label), "success")
    else:
        flash(_("Change request %(number)s rejected.", number=cr.number), "success")
    return redirect(url_for("change_requests.show", cr_id=cr.id))


@bp.app_template_global("change_requests_of")
def _change_requests_of(doc):
    """The document page's list (the document is visible, so are its requests)."""
    return queries.requests_of(doc)


@bp.app_template_global("change_request_numbers")
def _change_request_numbers(revisions):
    """revision id → the number of the request it implements, for the 修订履历."""
    return queries.numbers_by_revision(r.id for r in revisions)


@bp.app_template_global("change_request_of")
def _change_request_of(rev):
    return queries.for_revision(rev.id)


@bp.app_template_global("change_requests_from")
def _change_requests_from(action):
    """The requests raised from a corrective action that the reader may see."""
    query = queries.request_query(current_user).where(ChangeRequest.action_id == action.id)
    return db.session.execute(query).scalars().all()
