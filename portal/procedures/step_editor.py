"""The step editor: the author of a draft procedure revision (or a controller) edits its steps
in the browser. The rows are saved by the same service as the API's `steps`, so a step is
refused for the same reasons, with the same words."""
import math
import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.documents import queries, services
from portal.documents.form_schema import STEP_ROLES
from portal.documents.models import Document
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.procedures.models import ESCALATE_TO
from portal.validation import form_int, form_number

bp = Blueprint("step_editor", __name__, template_folder="templates")
BLANK_ROWS = 5
CLOCKS = ("hours", "priority", "days")
ROW_KEYS = ("position", "name", "form", "role", "department", "clock", "value", "emergency", "escalate")
_ROW_NAME = re.compile(r"name-(0|[1-9][0-9]{0,3})")
_STEP_KEY = re.compile(r"steps\[([0-9]+)\]")


# --- rows as typed <-> steps as stored ---------------------------------------------------------

def rows_from_steps(steps: list[dict]) -> list[dict]:
    """The stored steps as the editor's rows of text."""
    return [_row_from_step(step, number) for number, step in enumerate(steps, 1)]


def _text(value) -> str:
    return "" if value is None else str(value)  # not :g, whose six digits would round a saved clock


def _row_from_step(step: dict, number: int) -> dict:
    due, days = step.get("due_hours"), step.get("due_working_days")
    if isinstance(due, dict):
        clock, value, emergency = "priority", due.get("ordinary"), due.get("emergency")
    elif due is not None:
        clock, value, emergency = "hours", due, None
    else:
        clock, value, emergency = "days", days, None
    return {"position": str(number), "name": step.get("name") or "", "form": _text(step.get("form_id")),
            "role": step.get("role") or "", "department": step.get("department") or "", "clock": clock,
            "value": _text(value), "emergency": _text(emergency),
            "escalate": step.get("escalate_to") or "manager"}


def rows_from_form(form) -> list[dict]:
    """The posted rows that name a step (a blanked name removes the step), in the order of
    their position numbers; a row without a usable number keeps its place on the page."""
    rows = []
    for index in sorted({int(m.group(1)) for key in form if (m := _ROW_NAME.fullmatch(key))}):
        row = {key: form.get(f"{key}-{index}", "") for key in ROW_KEYS}
        if row["name"].strip():
            rows.append((_position(row["position"], index), index, row))
    return [row for _place, _index, row in sorted(rows, key=lambda item: item[:2])]


def _position(text: str, index: int) -> float:
    number = form_number(text)
    if isinstance(number, (int, float)) and math.isfinite(number):
        return float(number)
    return float(index + 1)


def step_from_row(row: dict) -> dict:
    """A row as a step for the service, every value as typed so the service judges it as it
    judges JSON. An emergency time makes the hours by priority; with working days it is a
    second clock, which the service refuses rather than this page dropping it."""
    step = {"name": row["name"], "form_id": form_int(row["form"]), "role": row["role"] or None,
            "department": row["department"] or None, "escalate_to": row["escalate"] or None}
    value, emergency = form_number(row["value"]), form_number(row["emergency"])
    if row["clock"] == "days":
        step["due_working_days"] = value
        if emergency is not None:
            step["due_hours"] = {"emergency": emergency}
    elif row["clock"] == "priority" or emergency is not None:
        step["due_hours"] = {k: v for k, v in (("ordinary", value), ("emergency", emergency)) if v is not None}
    else:
        step["due_hours"] = value
    return step


def row_errors(exc: ValidationFailed, count: int) -> tuple[dict, list[str]]:
    """The service's `steps[i]` messages by row; its whole message when part of it is about
    no one row (too many steps, the revision's change reason)."""
    by_row = {}
    for key, message in exc.fields.items():
        match = _STEP_KEY.fullmatch(key)
        if match and int(match.group(1)) < count:
            by_row[int(match.group(1))] = message
    return by_row, [] if by_row and len(by_row) == len(exc.fields) else [exc.message]


# --- the page ----------------------------------------------------------------------------------

def _choices(rows: list[dict]) -> dict:
    """What the selects offer: effective forms the user may see, step roles, active
    departments, plus whatever a row already names, so nothing is changed by just saving."""
    forms = db.session.execute(select(Document).where(Document.doc_type == "form", Document.status == "effective",
                                                      queries.visible_to(current_user))
                               .order_by(Document.code)).scalars().all()
    form_options = [(str(f.id), f"{f.code} {f.title}") for f in forms]
    known = {value for value, _label in form_options}
    form_options += [(r["form"], _("Form %(id)s (not an effective form)", id=r["form"]))
                     for r in rows if r["form"] and r["form"] not in known]
    departments = [(d.code, f"{d.code} {d.name}") for d in accounts.list_departments(active_only=True)]
    codes = {code for code, _label in departments}
    departments += [(r["department"], r["department"]) for r in rows if r["department"] and r["department"] not in codes]
    return {"forms": list(dict(form_options).items()), "departments": list(dict(departments).items()),
            "roles": STEP_ROLES, "clocks": CLOCKS, "targets": ESCALATE_TO}


def _page(rev, rows: list[dict], errors: dict | None = None, general: list[str] | None = None):
    blank = [{"position": str(len(rows) + n), "clock": "hours", "escalate": "manager"}
             for n in range(1, BLANK_ROWS + 1)]
    return render_template("procedures/step_editor.html", rev=rev, doc=rev.document, rows=rows + blank,
                           errors=errors or {}, general=general or [], **_choices(rows))


def _refused(exc):
    """A refusal as its own status, for a post too: the editor has nowhere to go back to."""
    db.session.rollback()
    return render_template("error.html", status=exc.status, message=exc.message), exc.status


def _procedure_revision(rev_id: int):
    rev = queries.get_revision(current_user, rev_id)
    if rev.document.doc_type != "procedure":
        raise NotFound(_("Only a procedure has steps."))
    return rev


@bp.route("/revisions/<int:rev_id>/steps", methods=["GET", "POST"])
@login_required
def edit(rev_id: int):
    """Edit the steps of a draft procedure revision (approved like any other change)."""
    rev = _procedure_revision(rev_id)
    try:
        services.check_draft_editable(current_user, rev)
    except (Conflict, NotAllowed) as exc:
        return _refused(exc)
    if request.method == "GET":
        return _page(rev, rows_from_steps(rev.steps or []))
    rows = rows_from_form(request.form)
    try:
        services.update_revision(current_user, rev, {"steps": [step_from_row(row) for row in rows]})
    except ValidationFailed as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return _page(rev, rows, *row_errors(exc, len(rows))), 422
    except (Conflict, NotAllowed) as exc:  # the draft was submitted while the page was open
        return _refused(exc)
    flash(_("Steps saved."), "success")
    return redirect(url_for("step_editor.edit", rev_id=rev.id))
