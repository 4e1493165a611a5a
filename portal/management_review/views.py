"""Browser pages for management reviews: the list, planning, the review page (inputs, the
meeting, outputs, approval) and the report download; and the dashboard's 我的管理评审输出."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import services as accounts
from portal.documents.exports import DOCX_MIME, attachment
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.management_review import inputs as review_inputs
from portal.management_review import queries, services
from portal.management_review.docx_export import render_review_report, report_filename
from portal.management_review.models import REVIEW_STATES

bp = Blueprint("management_review", __name__, template_folder="templates")


@bp.app_template_global()
def my_review_outputs():
    """The signed-in user's open review outputs, for the dashboard block
    (management_review/_dashboard.html) without touching the dashboard's view."""
    return queries.open_outputs_for(current_user)


def _people():
    return [u for u in accounts.list_users() if u.is_active and not u.is_read_only]


@bp.get("/management-reviews")
@login_required
def index():
    """Reviews I may see, latest meeting first."""
    state = request.args.get("state") if request.args.get("state") in REVIEW_STATES else None
    reviews = db.session.execute(queries.review_query(current_user, state).limit(500)).scalars().all()
    return render_template("management_review/index.html", reviews=reviews, states=REVIEW_STATES,
                           may_create=services.may_create(current_user))


def _plan_from_form() -> dict:
    form = request.form
    return {"title": form.get("title", ""), "period_from": form.get("period_from", ""),
            "period_to": form.get("period_to", ""), "meeting_date": form.get("meeting_date", ""),
            "chair": form.get("chair", ""), "members": [name for name in form.getlist("members") if name]}


def _render_new(values: dict, errors: dict, status: int = 200):
    return render_template("management_review/new.html", values=values, errors=errors,
                           people=_people()), status


@bp.route("/management-reviews/new", methods=["GET", "POST"])
@login_required
def new():
    """Plan a review (controllers and approvers)."""
    services.require_planner(current_user)
    if request.method == "GET":
        return _render_new({}, {})
    values = _plan_from_form()
    try:
        review = services.create_review(current_user, values)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return _render_new(values, exc.fields, 422)
    flash(_("Management review %(number)s planned.", number=review.number), "success")
    return redirect(url_for("management_review.show", review_id=review.id))


@bp.get("/management-reviews/<int:review_id>")
@login_required
def show(review_id: int):
    """The review: plan, inputs (computed or frozen), outputs, conclusion and the next step."""
    return _render_show(queries.get_review(current_user, review_id))


def _render_show(review, approval: dict | None = None, status: int = 200):
    frozen = review.inputs is not None
    data = review_inputs.as_seen_by(current_user, review.inputs if frozen else review_inputs.compute(review))
    return render_template("management_review/show.html", review=review, data=data, frozen=frozen,
                           may_organise=queries.may_organise(current_user, review), people=_people(),
                           is_overdue=queries.is_overdue, approval=approval or {}), status


def _back(review_id: int, anchor: str | None = None):
    return redirect(url_for("management_review.show", review_id=review_id, _anchor=anchor))


@bp.post("/management-reviews/<int:review_id>/hold")
@login_required
def hold(review_id: int):
    """The meeting is held: freeze the inputs."""
    review = services.hold_review(current_user, queries.get_review(current_user, review_id))
    flash(_("Review held; its inputs are frozen (SHA-256 %(digest)s).", digest=review.inputs_sha256), "success")
    return _back(review_id)


@bp.post("/management-reviews/<int:review_id>/outputs")
@login_required
def add_output(review_id: int):
    """Record a decision of the meeting."""
    review = queries.get_review(current_user, review_id)
    payload = {k: request.form.get(k, "") for k in ("decision", "owner", "due_date")}
    output = services.add_output(current_user, review, payload)
    flash(_("Review output recorded."), "success")
    return _back(review_id, f"output-{output.id}")


@bp.post("/review-outputs/<int:output_id>/complete")
@login_required
def complete_output(output_id: int):
    """The owner reports an output done."""
    output = queries.get_output(current_user, output_id)
    services.complete_output(current_user, output, {"note": request.form.get("note", "")})
    flash(_("Review output completed."), "success")
    return _back(output.review_id, f"output-{output.id}")


@bp.post("/management-reviews/<int:review_id>/approve")
@login_required
def approve(review_id: int):
    """The chair approves with password: three conclusions (checked or not) and a summary."""
    review = queries.get_review(current_user, review_id)
    approval = {"conclusion": {key: request.form.get(key) == "1" for key in services.CONCLUSION_KEYS},
                "summary": request.form.get("summary", "")}
    try:
        services.approve_review(current_user, review, {**approval, "password": request.form.get("password", "")})
    except DomainError as exc:  # the chair's conclusion and summary stay on the form, as when signing
        db.session.rollback()
        if exc.status in (401, 404) or exc.code == "read_only":
            raise
        flash(exc.message, "error")
        return _render_show(queries.get_review(current_user, review_id), approval, exc.status)
    flash(_("Management review approved and closed."), "success")
    return _back(review_id)


@bp.get("/management-reviews/<int:review_id>/report.docx")
@login_required
def report_docx(review_id: int):
    """The 管理评审报告 as Word."""
    review = queries.get_review(current_user, review_id)
    return attachment(render_review_report(review, current_user), report_filename(review), DOCX_MIME)
