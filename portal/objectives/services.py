"""Objective rules: defining an objective (controllers), changing its name, target or
activity, and computing its values per period from runs and records, in the database.

`values` is the one computation every reader uses (the API, the pages, the chart, the
export and, later, management review): it takes a period range and answers one row per
period, so two readers can never disagree about a month."""
import math

from flask_babel import gettext as _

from portal.accounts import services as accounts
from portal.accounts.permissions import is_controller, require_writer
from portal.documents.models import Document
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db
from portal.objectives import measures
from portal.objectives import periods as P
from portal.objectives.models import COMPARISONS, FREQUENCIES, MEASURE_KINDS, UNITS, Objective
from portal.records.models import MEASURED_TEXT_CHARS
from portal.trail import services as trail
from portal.validation import MAX_ID, Fields

MAX_TARGET = 10**12
MAX_VALUES = 50
MAX_VALUE_CHARS = MEASURED_TEXT_CHARS  # longer record texts are not kept in record_value
RATIO_KINDS = ("on_time", "field_ratio")
# What a record field of each type may be compared with in a field_ratio measure.
RATIO_FIELD_TYPES = ("text", "choice", "checkbox", "number", "date")


def objective_state(obj: Objective) -> dict:
    return {"name": obj.name, "department": obj.department.code if obj.department else None,
            "target": obj.target, "comparison": obj.comparison, "unit": obj.unit,
            "frequency": obj.frequency, "measure": obj.measure, "active": obj.active}


def require_controller(actor, what: str) -> None:
    require_writer(actor)
    if not is_controller(actor):
        raise NotAllowed(_("Only a document controller may %(what)s.", what=what))


# --- defining ----------------------------------------------------------------------------

def _target(f: Fields):
    value = f.data.get("target")
    if value is None:
        f.fail("target", _("required"))
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        f.fail("target", _("must be a finite number"))
    elif abs(value) > MAX_TARGET:
        f.fail("target", _("too large"))
    else:
        return float(value)
    return None


def _id(raw, name: str, errors: dict):
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_ID:
        errors[name] = _("must be a document id")
        return None
    return raw


def _effective_revision(doc: Document):
    rev = doc.current_revision
    return rev if doc.status == "effective" and rev is not None and rev.state == "effective" else None


def _check_measure(raw) -> tuple[dict | None, dict]:
    """The normalised measure and the per-field errors (keys `measure.<name>`)."""
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        return None, {"measure": _("an object with a kind")}
    kind = raw.get("kind")
    if kind not in MEASURE_KINDS:
        return None, {"measure.kind": _("one of %(kinds)s", kinds=", ".join(MEASURE_KINDS))}
    if kind == "on_time":
        return _check_on_time(raw, errors)
    form_id = _id(raw.get("form_id"), "measure.form_id", errors)
    form = db.session.get(Document, form_id) if form_id else None
    if form_id and (form is None or form.doc_type != "form"):
        errors["measure.form_id"] = _("no such form")
    if errors:
        return None, errors
    if kind == "count":
        return {"kind": kind, "form_id": form.id}, errors
    field = _form_field(form, raw.get("field"), errors)
    if field is None:
        return None, errors
    measure = {"kind": kind, "form_id": form.id, "field": field["name"]}
    if kind == "field_mean":
        if field["type"] != "number":
            errors["measure.field"] = _("a mean needs a number field; %(field)s is %(type)s",
                                        field=field["name"], type=field["type"])
            return None, errors
        return measure, errors
    if field["type"] not in RATIO_FIELD_TYPES:
        errors["measure.field"] = _("a field of type %(types)s", types=", ".join(RATIO_FIELD_TYPES))
        return None, errors
    values = _ratio_values(field, raw.get("values"), errors)
    return ({**measure, "values": values}, errors) if values is not None else (None, errors)


def _check_on_time(raw: dict, errors: dict):
    doc_id = _id(raw.get("document_id"), "measure.document_id", errors)
    doc = db.session.get(Document, doc_id) if doc_id else None
    if doc_id and (doc is None or doc.doc_type != "procedure"):
        errors["measure.document_id"] = _("no such procedure")
    measure = {"kind": "on_time", "document_id": doc.id if doc else None}
    step = raw.get("step")
    if step is not None and not errors:
        rev = _effective_revision(doc)
        count = len(rev.steps or []) if rev else 0
        if isinstance(step, bool) or not isinstance(step, int):
            errors["measure.step"] = _("must be a whole number")
        elif not 0 <= step < count:
            errors["measure.step"] = (_("the procedure's effective revision has no steps") if not count else
                                      _("a step index from 0 to %(last)d", last=count - 1))
        else:
            measure["step"] = step
    return (None if errors else measure), errors


def _form_field(form: Document, name, errors: dict):
    rev = _effective_revision(form)
    if rev is None:
        errors["measure.form_id"] = _("the form has no effective revision")
        return None
    if not isinstance(name, str) or not name:
        errors["measure.field"] = _("required")
        return None
    field = next((f for f in rev.fields or [] if f.get("name") == name), None)
    if field is None:
        errors["measure.field"] = _("the form's effective revision has no field %(name)s", name=name[:64])
    return field


def _ratio_values(field: dict, values, errors: dict):
    if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
        errors["measure.values"] = _("a list of 1 to %(limit)d values", limit=MAX_VALUES)
        return None
    kind = field["type"]
    if kind == "checkbox":
        ok = all(isinstance(v, bool) for v in values)
        expected = _("true or false")
    elif kind == "number":
        ok = all(not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
                 and abs(v) <= MAX_TARGET for v in values)
        expected = _("numbers")
    else:
        ok = all(isinstance(v, str) and 0 < len(v) <= MAX_VALUE_CHARS for v in values)
        expected = _("texts of at most %(limit)d characters", limit=MAX_VALUE_CHARS)
        if ok and kind == "choice":
            unknown = [v for v in values if v not in field.get("choices", [])]
            if unknown:
                errors["measure.values"] = _("not a choice of the field: %(values)s",
                                             values="、".join(unknown)[:300])
                return None
    if not ok:
        errors["measure.values"] = _("the values must be %(expected)s", expected=expected)
        return None
    return list(dict.fromkeys(values))


def create_objective(actor, data: dict) -> Objective:
    """Define an objective (controllers); every problem is a 422 with a message per field."""
    require_controller(actor, _("define quality objectives"))
    f = Fields(data)
    name = f.text("name", 200, required=True)
    dept_code = f.text("department", 32)
    target = _target(f)
    comparison = f.choice("comparison", COMPARISONS, required=True)
    unit = f.choice("unit", UNITS, required=True)
    frequency = f.choice("frequency", FREQUENCIES, required=True)
    dept = None
    if dept_code and "department" not in f.errors:
        try:
            dept = accounts.department_by_code(dept_code)
        except ValidationFailed:
            f.fail("department", _("unknown department"))
    if "measure" not in f.data:
        f.fail("measure", _("required"))
        measure = None
    else:
        measure, problems = _check_measure(f.data["measure"])
        f.errors.update(problems)
    if measure and unit:
        _check_unit(f, measure["kind"], unit, target)
    f.done(_("Invalid objective."))
    obj = Objective(name=name, department=dept, target=target, comparison=comparison, unit=unit,
                    frequency=frequency, measure=measure, active=True, created_by=actor)
    db.session.add(obj)
    db.session.flush()
    trail.record(actor, "objective.create", "objective", obj.id, None, objective_state(obj))
    db.session.commit()
    return obj


def _check_unit(f: Fields, kind: str, unit: str, target) -> None:
    """A share is a percentage and a count is a count: the unit follows from the kind, except
    for a mean (a score, a percentage or a count of something)."""
    if kind in RATIO_KINDS and unit != "%":
        f.fail("unit", _("a share is measured in percent"))
    elif kind == "count" and unit != "count":
        f.fail("unit", _("a count is measured in count"))
    if unit == "%" and kind in RATIO_KINDS and target is not None and not 0 <= target <= 100:
        f.fail("target", _("a percentage from 0 to 100"))


def update_objective(actor, obj: Objective, data: dict) -> Objective:
    """Change the name, target or activity (controllers). What is measured never changes:
    values already reviewed must keep meaning what they meant; define a new objective."""
    require_controller(actor, _("change quality objectives"))
    f = Fields(data)
    unknown = sorted(set(f.data) - {"name", "target", "active"})
    for key in unknown[:20]:
        f.fail(str(key)[:64], _("cannot be changed; define a new objective instead"))
    name = f.text("name", 200, required="name" in f.data)
    target = _target(f) if "target" in f.data else obj.target
    active = f.data.get("active", obj.active)
    if not isinstance(active, bool):
        f.fail("active", _("true or false"))
    if "target" in f.data and target is not None:
        _check_unit(f, obj.measure["kind"], obj.unit, target)
    if not f.data:
        f.fail("name", _("nothing to change"))
    f.done(_("Invalid objective."))
    before = objective_state(obj)
    if name:
        obj.name = name
    obj.target, obj.active = target, active
    after = objective_state(obj)
    if after == before:
        raise ValidationFailed(_("Nothing would change."), code="no_change", fields={"name": _("no change")})
    trail.record(actor, "objective.update", "objective", obj.id,
                 {k: v for k, v in before.items() if after[k] != v},
                 {k: v for k, v in after.items() if before[k] != v})
    db.session.commit()
    return obj


# --- computing -----------------------------------------------------------------------------

def values(objective: Objective, first_period, last_period, department=None) -> list[dict]:
    """One row per period from `first_period` to `last_period` (period texts YYYY-MM, YYYY-Qn,
    YYYY, or dates; each taken as the objective's period that holds it):
    {period, department, numerator, denominator, value, target, met}.

    `department` (a Department, a code, or None for the objective's own) narrows to the
    records issued by, or the runs of, that department. The numbers are counted in the
    database per period bound (UTC instants of local midnights), one query per call whatever
    the number of periods (portal.objectives.measures)."""
    periods = P.period_range(objective.frequency, first_period, last_period)
    return values_for_periods(objective, periods, department)


def values_of_all(user, first=None, last=None, department=None) -> list[tuple]:
    """(objective, values) for every active objective the user sees; `first`/`last` default
    to the last 12 months, which each objective takes as the periods of its own frequency
    that overlap them."""
    from portal.objectives.queries import objective_query

    months = P.last_periods("month")
    first, last = first or months[0].label, last or months[-1].label
    objectives = db.session.execute(objective_query(user, active=True)).scalars().all()
    return [(obj, values(obj, first, last, department)) for obj in objectives]


def values_for_periods(objective: Objective, periods: list, department=None) -> list[dict]:
    dept = _department(department) if department is not None else objective.department
    totals = measures._aggregate(objective.measure, periods, dept.id if dept else None)
    rows = []
    for i, period in enumerate(periods):
        numerator, denominator = totals.get(i, (0, 0))
        value = _value(objective, numerator, denominator)
        rows.append({"period": period.label, "department": dept.code if dept else None,
                     "numerator": numerator, "denominator": denominator, "value": value,
                     "target": objective.target, "met": _met(objective, value)})
    return rows


def _department(department):
    if hasattr(department, "id"):
        return department
    try:
        return accounts.department_by_code(department)
    except ValidationFailed:
        raise ValidationFailed(_("Unknown department %(code)s.", code=str(department)[:32]),
                               code="unknown_department",
                               fields={"department": _("unknown department")}) from None


def _value(objective: Objective, numerator, denominator):
    kind = objective.measure["kind"]
    if kind == "count":
        return numerator
    if not denominator:
        return None
    if kind == "field_mean":
        return round(numerator / denominator, 4)
    return round(100 * numerator / denominator, 4)


def _met(objective: Objective, value):
    if value is None:
        return None
    return value >= objective.target if objective.comparison == ">=" else value <= objective.target
