"""Browser pages for quality objectives (质量目标): the list with this period's value against
the target and a trend chart each, one objective's values per period, the definition form
(controllers) and the Excel export. The numbers all come from services.values."""
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.permissions import is_controller
from portal.documents.models import Document
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.objectives import exports, periods, queries, services
from portal.objectives.chart import render_chart
from portal.objectives.models import COMPARISONS, FREQUENCIES, MEASURE_KINDS, UNITS
from portal.validation import parse_id

bp = Blueprint("objectives", __name__, template_folder="templates")


@bp.context_processor
def _labels():
    return {"kind_labels": KIND_LABELS, "unit_labels": UNIT_LABELS, "frequency_labels": FREQUENCY_LABELS}
KIND_LABELS = {"on_time": _l("On-time share of runs or of one step"),
               "field_ratio": _l("Share of records with a field value"),
               "field_mean": _l("Mean of a number field"), "count": _l("Number of records")}
UNIT_LABELS = {"%": _l("percent (%)"), "score": _l("score"), "count": _l("count")}
FREQUENCY_LABELS = {"month": _l("monthly"), "quarter": _l("quarterly"), "year": _l("yearly")}
TRUTHS = {"true": True, "是": True, "1": True, "yes": True, "false": False, "否": False, "0": False, "no": False}


def _range(obj):
    default = periods.last_periods(obj.frequency)
    return request.args.get("from") or default[0].label, request.args.get("to") or default[-1].label


@bp.get("/objectives")
@login_required
def index():
    """Every active objective with the current period's value against its target."""
    objectives = db.session.execute(queries.objective_query(current_user, active=True)).scalars().all()
    current = []
    for obj in objectives:
        now = periods.current(obj.frequency).label
        current.append((obj, services.values(obj, now, now)[0]))
    return render_template("objectives/index.html", current=current, can_define=is_controller(current_user)
                           and not current_user.is_read_only)


@bp.get("/objectives/<int:objective_id>")
@login_required
def show(objective_id: int):
    """One objective: its values per period, filtered by range and department."""
    obj = queries.get_objective(current_user, objective_id)
    first, last = _range(obj)
    department = request.args.get("department") or None
    errors = {}
    try:
        rows = services.values(obj, first, last, department)
    except ValidationFailed as exc:
        errors, rows = exc.fields, []
    return render_template("objectives/show.html", obj=obj, rows=rows, first=first, last=last,
                           department=department or "", errors=errors, source=_source(obj),
                           departments=accounts.list_departments(active_only=True)), 422 if errors else 200


def _source(obj) -> Document | None:
    doc_id = obj.measure.get("document_id") or obj.measure.get("form_id")
    return db.session.get(Document, doc_id) if doc_id else None


@bp.get("/objectives/<int:objective_id>/chart.svg")
@login_required
def chart(objective_id: int):
    obj = queries.get_objective(current_user, objective_id)
    first, last = _range(obj)
    rows = services.values(obj, first, last, request.args.get("department") or None)
    return Response(render_chart(obj.name, rows, obj.target, obj.unit, obj.comparison), mimetype="image/svg+xml")


@bp.get("/objectives/export.xlsx")
@login_required
def export():
    tables = services.values_of_all(current_user, request.args.get("from") or None,
                                    request.args.get("to") or None, request.args.get("department") or None)
    return exports.values_response(tables)


def _choices():
    def effective(doc_type):
        return db.session.execute(select(Document).where(Document.doc_type == doc_type,
                                                         Document.status == "effective")
                                  .order_by(Document.code)).scalars().all()

    return {"procedures": effective("procedure"), "forms": effective("form"),
            "departments": accounts.list_departments(active_only=True), "kinds": MEASURE_KINDS,
            "comparisons": COMPARISONS, "units": UNITS, "frequencies": FREQUENCIES}


def _number(text: str):
    """A number typed in the form, or the text itself for the service to refuse."""
    try:
        return float(text) if "." in text or "e" in text.lower() else int(text)
    except ValueError:
        return text


def _ratio_value(form_id, field_name, text: str):
    """A typed value as the JSON type of the chosen field (是/否 for a checkbox, numbers)."""
    form = db.session.get(Document, form_id) if form_id else None
    rev = form.current_revision if form else None
    field = next((f for f in (rev.fields or []) if f.get("name") == field_name), None) if rev else None
    kind = field["type"] if field else "text"
    if kind == "checkbox":
        return TRUTHS.get(text.lower(), text)
    return _number(text) if kind == "number" else text


def _payload(form) -> dict:
    kind = form.get("kind", "")
    measure = {"kind": kind}
    if kind == "on_time":
        measure["document_id"] = parse_id(form.get("document_id"))
        step = form.get("step", "").strip()
        if step:
            measure["step"] = _number(step)
    else:
        measure["form_id"] = parse_id(form.get("form_id"))
        if kind in ("field_ratio", "field_mean"):
            measure["field"] = form.get("field", "")
        if kind == "field_ratio":
            typed = [v.strip() for v in form.get("values", "").replace("、", ",").replace("，", ",").split(",")]
            measure["values"] = [_ratio_value(measure["form_id"], measure["field"], v) for v in typed if v]
    target = form.get("target", "").strip()
    return {"name": form.get("name", ""), "department": form.get("department") or None,
            "target": _number(target) if target else None, "comparison": form.get("comparison"),
            "unit": form.get("unit"), "frequency": form.get("frequency"), "measure": measure}


@bp.route("/objectives/new", methods=["GET", "POST"])
@login_required
def new():
    """Define an objective (controllers): what is measured, the target, how often."""
    if request.method == "GET":
        services.require_controller(current_user, _("define quality objectives"))
        return render_template("objectives/new.html", values={"comparison": ">=", "unit": "%",
                                                               "frequency": "month", "kind": "on_time"},
                               errors={}, **_choices())
    try:
        obj = services.create_objective(current_user, _payload(request.form))
    except ValidationFailed as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return render_template("objectives/new.html", values=request.form, errors=exc.fields, **_choices()), 422
    flash(_("Objective %(name)s defined.", name=obj.name), "success")
    return redirect(url_for("objectives.show", objective_id=obj.id))
