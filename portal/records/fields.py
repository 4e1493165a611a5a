"""Validating record data against a form revision's fields, with per-field messages."""
import math
import re

from portal.errors import ValidationFailed
from portal.validation import form_number, has_illegal_chars, parse_date

MAX_TEXT = {"text": 2000, "textarea": 20000}
MAX_ROWS = 500
# A number field holds a finite value of at most 10^15 either way: exact as a float (and
# so in JSON, the database and Excel), and more than any quantity a form records.
MAX_NUMBER = 10**15


def validate_data(fields: list[dict], data, partial: bool = False) -> dict:
    """Typed, checked data; ValidationFailed with a message per bad field.

    `partial` checks only the keys present (corrections change some fields).
    """
    if not isinstance(data, dict):
        raise ValidationFailed("data must be an object.", fields={"data": "must be an object"})
    by_name = {f["name"]: f for f in fields}
    errors = {k: "unknown field" for k in data if k not in by_name}
    clean = {}
    for field in fields:
        name = field["name"]
        if partial and name not in data:
            continue
        value, problem = check_value(field, data.get(name))
        if problem:
            errors[name] = problem
        elif value is not None:
            clean[name] = value
    if errors:
        raise ValidationFailed("Some fields are invalid.", code="invalid_record", fields=errors)
    return clean


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def check_value(field: dict, value):
    """(clean value, problem) for one field; problem is '' when the value is fine."""
    if _empty(value) or (field["type"] == "checkbox" and value is False and field.get("required")):
        return None, ("required" if field.get("required") else "")
    checker = CHECKERS[field["type"]]
    return checker(field, value)


def _text(field, value):
    if not isinstance(value, str):
        return None, "must be text"
    if has_illegal_chars(value):
        return None, "contains control characters"
    limit = MAX_TEXT.get(field["type"], 2000)
    if len(value) > limit:
        return None, f"at most {limit} characters"
    return value, ""


def _number(field, value):
    """A finite number with |value| <= MAX_NUMBER. Compared as it came, never converted:
    float() of a 309-digit integer overflows, and NaN compares false with everything."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and math.isnan(value)):
        return None, "must be a number"
    if abs(value) > MAX_NUMBER:  # Infinity and 1e999 included
        return None, "too large"
    return value, ""


def _date(field, value):
    parsed = parse_date(value) if isinstance(value, str) else None
    return (value, "") if parsed else (None, "must be a date YYYY-MM-DD")


def _choice(field, value):
    return (value, "") if value in field.get("choices", []) else (None, "not one of the choices")


def _checkbox(field, value):
    return (value, "") if isinstance(value, bool) else (None, "must be true or false")


def _table(field, value):
    if not isinstance(value, list) or len(value) > MAX_ROWS:
        return None, f"must be a list of at most {MAX_ROWS} rows"
    rows = []
    for i, row in enumerate(value, 1):
        if not isinstance(row, dict):
            return None, f"row {i}: must be an object"
        try:
            clean = validate_data(field["columns"], row)
        except ValidationFailed as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            return None, f"row {i}: {detail}"
        if clean:
            rows.append(clean)
    if field.get("required") and not rows:
        return None, "required"
    return rows, ""


CHECKERS = {"text": _text, "textarea": _text, "number": _number, "date": _date,
            "choice": _choice, "checkbox": _checkbox, "table": _table}


def _from_string(kind: str, raw: str):
    """Turn a browser form string into the field's JSON type (validation follows)."""
    if raw.strip() == "":
        return None
    return form_number(raw) if kind == "number" else raw.strip()


def data_from_form(fields: list[dict], form) -> dict:
    """Record data from a browser form: `f_<name>` inputs, tables as `f_<name>__<row>__<col>`."""
    data = {}
    for field in fields:
        key = f"f_{field['name']}"
        if field["type"] == "checkbox":
            data[field["name"]] = form.get(key) == "on"
        elif field["type"] == "table":
            data[field["name"]] = _rows_from_form(field, form, key)
        elif key in form:
            data[field["name"]] = _from_string(field["type"], form.get(key, ""))
    return data


def _rows_from_form(field: dict, form, key: str) -> list[dict]:
    """Table rows posted as `<key>__<index>__<column>`, in index order. A gap (rows of
    unchecked boxes post nothing) drops nothing after it, and every row is kept, so more
    than MAX_ROWS are refused by validation as in the API rather than cut off."""
    prefix = f"{key}__"
    indices = {match.group(1) for name in form.keys() if name.startswith(prefix)
               for match in [_ROW_INDEX.match(name, len(prefix))] if match}
    rows = []
    for index in sorted(indices, key=int):
        row = _row_from_form(field, form, f"{prefix}{index}__")
        if any(v not in (None, False) for v in row.values()):
            rows.append(row)
    return rows


_ROW_INDEX = re.compile(r"(0|[1-9][0-9]{0,8})__")


def _row_from_form(field: dict, form, prefix: str) -> dict:
    row = {}
    for col in field["columns"]:
        name = prefix + col["name"]
        if col["type"] == "checkbox":
            row[col["name"]] = form.get(name) == "on"
        else:
            value = _from_string(col["type"], form.get(name, ""))
            if value is not None:
                row[col["name"]] = value
    return row
