"""Validating a form revision's field definitions and a procedure's steps."""
import re

from portal.errors import ValidationFailed

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
        raise ValidationFailed("Invalid field definitions.", fields=errors)
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
    if kind not in FIELD_TYPES:
        return "type: one of " + ", ".join(FIELD_TYPES)
    if not isinstance(spec.get("required", False), bool):
        return "required: true or false"
    if kind == "choice" and not _valid_choices(spec.get("choices")):
        return "choices: a non-empty list of strings"
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


def validate_steps(steps) -> list[dict]:
    """Normalise procedure steps `[{name, form_id?, role?, due_hours}]`."""
    if not isinstance(steps, list) or len(steps) > 100:
        raise ValidationFailed("steps must be a list of at most 100 steps.",
                               fields={"steps": "a list of steps"})
    out, errors = [], {}
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("name"), str) or not step["name"].strip():
            errors[f"steps[{i}]"] = "name is required"
            continue
        due = step.get("due_hours")
        if isinstance(due, bool) or not isinstance(due, int) or not 0 < due <= 24 * 366:
            errors[f"steps[{i}]"] = "due_hours: a whole number of hours"
            continue
        form_id = step.get("form_id")
        if form_id is not None and (isinstance(form_id, bool) or not isinstance(form_id, int)):
            errors[f"steps[{i}]"] = "form_id: an integer"
            continue
        out.append({"name": step["name"].strip()[:200], "form_id": form_id,
                    "role": step.get("role") if isinstance(step.get("role"), str) else None,
                    "due_hours": due})
    if errors:
        raise ValidationFailed("Invalid steps.", fields=errors)
    return out
