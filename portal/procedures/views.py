"""Browser pages for procedure runs: the list, starting a run, the timeline, completing a
step (the step's form filled in place, or an existing record linked by number), cancelling."""
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import clock
from portal.accounts import services as accounts
from portal.documents.models import Document
from portal.documents.queries import get_document
from portal.documents.queries import visible_to as documents_visible_to
from portal.errors import InvalidState, ValidationFailed
from portal.extensions import db
from portal.procedures import exports, queries, services
from portal.procedures.models import PRIORITIES, RUN_STATES
from portal.records import queries as record_queries
from portal.records import services as records
from portal.records.fields import data_from_form
from portal.validation import parse_id

bp = Blueprint("procedures", __name__, template_folder="templates")
PAGE_ROWS = 200


def _filters() -> dict:
    a = request.args
    return {"document_id": parse_id(a.get("document_id")),
            "state": a.get("state") if a.get("state") in RUN_STATES else None,
            "department": a.get("department") or None, "overdue": a.get("overdue") in ("1", "on", "true"),
            "q": (a.get("q") or "").strip()[:100] or None}


def _procedures():
    """Procedures the user may see, for the list's filter."""
    query = (select(Document).where(Document.doc_type == "procedure", documents_visible_to(current_user))
             .order_by(Document.code))
    return db.session.execute(query).scalars().all()


@bp.get("/runs")
@login_required
def index():
    """The runs, filtered by procedure, state, department and overdue."""
    runs = db.session.execute(queries.run_query(current_user, **_filters()).limit(PAGE_ROWS)).scalars().all()
    procedures = _procedures()
    startable = [] if current_user.is_read_only else [
        p for p in procedures if p.status == "effective" and p.current_revision is not None
        and p.current_revision.state == "effective" and p.current_revision.steps]
    return render_template("procedures/index.html", runs=runs, filters=_filters(), states=RUN_STATES,
                           procedures=procedures, startable=startable, departments=accounts.list_departments(),
                           now=clock.now(), is_overdue=queries.is_overdue)


@bp.get("/runs.xlsx")
@login_required
def index_xlsx():
    """The runs register as Excel, with the list's filters."""
    query = queries.run_query(current_user, **_filters()).limit(10_000)
    return exports.register_response(db.session.execute(query).scalars().all())


def _started_at(raw: str):
    """A browser's datetime-local value is local time without an offset: give it the portal's."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=clock.zone()).isoformat()
    except ValueError:
        return raw  # the service says what is wrong with it


@bp.route("/documents/<int:doc_id>/runs/new", methods=["GET", "POST"])
@login_required
def new(doc_id: int):
    """Start a run on the procedure's effective revision."""
    doc = get_document(current_user, doc_id)
    rev = services.running_revision(doc)
    context = dict(doc=doc, rev=rev, departments=accounts.list_departments(active_only=True),
                   priorities=PRIORITIES)
    if request.method == "POST":
        values = {"subject": request.form.get("subject", ""), "department": request.form.get("department", ""),
                  "priority": request.form.get("priority") or "ordinary",
                  "started_at": _started_at(request.form.get("started_at"))}
        try:
            run = services.start_run(current_user, doc, {k: v for k, v in values.items() if v is not None})
        except ValidationFailed as exc:
            db.session.rollback()
            flash(_("Please correct the marked fields."), "error")
            return render_template("procedures/new.html", values=request.form, errors=exc.fields, **context), 422
        flash(_("Run %(number)s started.", number=run.number), "success")
        return redirect(url_for("procedures.show", run_id=run.id))
    return render_template("procedures/new.html", values={}, errors={}, **context)


def _form_revision(step):
    """The revision a step's record would be issued on, or None (no form, or none effective)."""
    form = db.session.get(Document, step.form_id) if step is not None and step.form_id else None
    if form is None:
        return None
    try:
        return records.issuing_revision(form)
    except InvalidState:
        return None


def _show(run, status=200, errors=None, values=None):
    step = next((s for s in run.steps if s.state == "pending"), None) if run.state == "open" else None
    form_rev = _form_revision(step)
    return render_template("procedures/show.html", run=run, current=step, form_rev=form_rev,
                           may_complete=step is not None and services.may_complete(current_user, run, step),
                           may_cancel=run.state == "open" and services.may_cancel(current_user, run),
                           now=clock.now(), is_overdue=queries.is_overdue,
                           errors=errors or {}, values=values or {}), status


@bp.get("/runs/<int:run_id>")
@login_required
def show(run_id: int):
    """The run's timeline: every step, who, when, due, late, its record."""
    page, status = _show(queries.get_run(current_user, run_id))
    return page, status


@bp.post("/runs/<int:run_id>/steps/<int:index>/complete")
@login_required
def complete(run_id: int, index: int):
    """Complete a step by filling its form in place, or by linking a record by its number."""
    run = queries.get_run(current_user, run_id)
    step = run.steps[index] if 0 <= index < len(run.steps) else None
    payload, values = {}, {}
    number = (request.form.get("record_number") or "").strip()
    if step is not None and step.form_id and number:
        rec = record_queries.visible_record_id(current_user, number)
        payload["record_id"] = rec if rec is not None else 0  # 0: the service answers "no such record"
    elif step is not None and step.form_id:
        form_rev = _form_revision(step)
        values = data_from_form(form_rev.fields if form_rev else [], request.form)
        payload["data"] = values
    try:
        services.complete_step(current_user, run, index, payload)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message if not exc.fields else _("Please correct the marked fields."), "error")
        return _show(queries.get_run(current_user, run_id), 422, exc.fields, values)
    flash(_("Step completed."), "success")
    return redirect(url_for("procedures.show", run_id=run.id))


@bp.post("/runs/<int:run_id>/cancel")
@login_required
def cancel(run_id: int):
    """Cancel an open run with a reason."""
    run = queries.get_run(current_user, run_id)
    services.cancel_run(current_user, run, {"reason": request.form.get("reason", "")})
    flash(_("Run %(number)s cancelled.", number=run.number), "success")
    return redirect(url_for("procedures.show", run_id=run.id))


@bp.app_template_global("steps_table_html")
def _steps_table_html(steps):
    from portal.procedures.steps_table import steps_table_html

    return steps_table_html(steps)


@bp.app_template_global("run_step_of")
def _run_step_of(record):
    """The run step that issued or linked `record`, when the reader may see that run."""
    from flask_login import current_user

    from portal.procedures.models import RunStep
    from portal.procedures.queries import can_view
    from portal.extensions import db

    step = db.session.execute(select(RunStep).where(RunStep.record_id == record.id)).scalars().first()
    return step if step is not None and can_view(current_user, step.run) else None
