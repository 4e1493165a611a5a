"""Validating a form revision's field definitions and a procedure's steps."""
import math
import re

from flask_babel import gettext as _

from portal.accounts.models import ROLES
from portal.errors import ValidationFailed
from portal.procedures.models import ESCALATE_TO, PRIORITIES
from portal.validation import MAX_ID, has_illegal_chars
from portal.workdays import MAX_WORKING_DAYS

FIELD_TYPES = ("text", "textarea", "number", "date", "choice", "checkbox", "table")
COLUMN_TYPES = ("text", "number", "date", "choice", "checkbox")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_FIELDS = 200


def validate_fields(fields) -> list[dict]:
    """Normalise `[{name, label, type, required, choices?}]`; 422 with the first problems."""
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise ValidationFailed("fields must be a list of at most 200 field definitions.",
                               fields={"fields": "a list of field definitions"})
    out, seen, errors = [], set(), {}
    for i, spec in enumerate(fields):
        problem = _field_problem(spec, seen)
        if problem:
            errors[f"fields[{i}]"] = problem
            continue
        seen.add(spec["name"])
        out.append(_normalise_field(spec))
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ValidationFailed(_("Invalid field definitions: %(detail)s", detail=detail), fields=errors)
    return out


def _field_problem(spec, seen: set) -> str:
    if not isinstance(spec, dict):
        return "must be an object"
    name, label, kind = spec.get("name"), spec.get("label"), spec.get("type")
    if not isinstance(name, str) or not FIELD_NAME.match(name):
        return "name: letters, digits and _ (an identifier)"
    if name in seen:
        return f"duplicate name {name}"
    if not isinstance(label, str) or not label.strip() or len(label) > 200:
        return "label: required, up to 200 characters"
    if has_illegal_chars(label):  # a Word export or an .xlsx register cannot hold them
        return _("label: contains control characters")
    if kind not in FIELD_TYPES:
        return "type: one of " + ", ".join(FIELD_TYPES)
    if not isinstance(spec.get("required", False), bool):
        return "required: true or false"
    if kind == "choice" and not _valid_choices(spec.get("choices")):
        return "choices: a non-empty list of strings"
    if kind == "choice" and any(has_illegal_chars(c) for c in spec["choices"]):
        return _("choices: contain control characters")
    if kind == "table":
        return _columns_problem(spec.get("columns"))
    return ""


def _valid_choices(choices) -> bool:
    return (isinstance(choices, list) and 0 < len(choices) <= 100
            and all(isinstance(c, str) and 0 < len(c) <= 200 for c in choices))


def _columns_problem(columns) -> str:
    """A table field's columns: like fields, without nesting."""
    if not isinstance(columns, list) or not 0 < len(columns) <= 30:
        return "columns: a list of 1 to 30 column definitions"
    seen = set()
    for col in columns:
        if not isinstance(col, dict) or col.get("type") not in COLUMN_TYPES:
            return "columns: each needs a type among " + ", ".join(COLUMN_TYPES)
        problem = _field_problem({**col, "required": bool(col.get("required", False))}, seen)
        if problem:
            return f"columns: {problem}"
        seen.add(col["name"])
    return ""


def _normalise_field(spec: dict) -> dict:
    field = {"name": spec["name"], "label": spec["label"].strip(), "type": spec["type"],
             "required": bool(spec.get("required", False))}
    if spec["type"] == "choice":
        field["choices"] = list(dict.fromkeys(spec["choices"]))
    if spec["type"] == "table":
        field["columns"] = [_normalise_field({**c, "required": bool(c.get("required", False))})
                            for c in spec["columns"]]
    return field


# Who may be asked to do a step: any role but the read-only external reviewer.
STEP_ROLES = tuple(r for r in ROLES if r != "external_reviewer")
MAX_STEP_NAME = 200
MAX_DUE_HOURS = 24 * 365  # a clock past a year is a typing error, not a procedure


def validate_steps(steps) -> list[dict]:
    """Normalise procedure steps `[{name, form_id?, role?, department?, due_hours? |
    due_working_days?, escalate_to?}]` (CONTRACT "Procedure runs"): exactly one clock. Whether
    the form and the department exist is for the caller, which has the database."""
    if not isinstance(steps, list) or len(steps) > 100:
        raise ValidationFailed("steps must be a list of at most 100 steps.",
                               fields={"steps": "a list of steps"})
    errors = {f"steps[{i}]": problem for i, step in enumerate(steps) if (problem := _step_problem(step))}
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ValidationFailed(_("Invalid steps: %(detail)s", detail=detail), fields=errors)
    return [_normalise_step(step) for step in steps]


def _normalise_step(step: dict) -> dict:
    out = {"name": step["name"].strip(), "form_id": step.get("form_id"), "role": step.get("role"),
           "department": step.get("department")}
    if step.get("due_hours") is not None:
        due = step["due_hours"]
        out["due_hours"] = {k: due[k] for k in PRIORITIES if k in due} if isinstance(due, dict) else due
    else:
        out["due_working_days"] = step["due_working_days"]
    out["escalate_to"] = step.get("escalate_to") or "manager"
    return out


def _valid_hours(value) -> bool:
    """A positive, finite number of hours up to a year (bool is an int in Python: refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and 0 < value <= MAX_DUE_HOURS


def _clock_problem(step: dict) -> str:
    hours, days = step.get("due_hours"), step.get("due_working_days")
    if hours is None and days is None:
        return _("a clock is required: due_hours or due_working_days")
    if hours is not None and days is not None:
        return _("one clock only: due_hours or due_working_days")
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= MAX_WORKING_DAYS:
            return _("due_working_days: a whole number from 1 to %(limit)d", limit=MAX_WORKING_DAYS)
        return ""
    if isinstance(hours, dict):
        if (not hours or "ordinary" not in hours or any(k not in PRIORITIES for k in hours)
                or not all(_valid_hours(v) for v in hours.values())):
            return _("due_hours: hours by priority, e.g. {\"ordinary\": 24, \"emergency\": 2}, "
                     "each more than 0 and at most %(limit)d", limit=MAX_DUE_HOURS)
        return ""
    if not _valid_hours(hours):
        return _("due_hours: a number of hours more than 0 and at most %(limit)d", limit=MAX_DUE_HOURS)
    return ""


def _step_problem(step) -> str:
    if not isinstance(step, dict) or not isinstance(step.get("name"), str) or not step["name"].strip():
        return "name is required"
    if len(step["name"].strip()) > MAX_STEP_NAME:
        return _("name: at most %(limit)d characters", limit=MAX_STEP_NAME)
    if has_illegal_chars(step["name"]):
        return _("name: contains control characters")
    problem = _clock_problem(step)
    if problem:
        return problem
    if step.get("escalate_to") is not None and step["escalate_to"] not in ESCALATE_TO:
        return _("escalate_to: one of %(targets)s", targets=", ".join(ESCALATE_TO))
    form_id = step.get("form_id")
    if form_id is not None and (isinstance(form_id, bool) or not isinstance(form_id, int)
                                or not 0 < form_id <= MAX_ID):
        return _("form_id: the id of a form")
    if step.get("role") is not None and step["role"] not in STEP_ROLES:
        return _("role: one of %(roles)s", roles=", ".join(STEP_ROLES))
    department = step.get("department")
    if department is not None and not (isinstance(department, str) and 0 < len(department) <= 32):
        return _("department: a department code")
    return ""
