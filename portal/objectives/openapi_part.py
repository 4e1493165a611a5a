"""The objectives operations and schemas of /api/v1/openapi.json (merged by portal.openapi.spec)."""
from portal.objectives.models import COMPARISONS, FREQUENCIES, UNITS
from portal.objectives.periods import MAX_PERIODS
from portal.objectives.services import MAX_TARGET, MAX_VALUE_CHARS, MAX_VALUES
from portal.openapi import (BOOL, CODE, ID, INT, OPT_STR, PAGING, READ, STR, TIME, XLSX, array,
                            enum, nullable, obj, op, page_of, query, record_of, ref, text, whole)

NUMBER = {"type": "number"}
OPT_NUMBER = nullable(NUMBER)
TARGET = {"type": "number", "minimum": -MAX_TARGET, "maximum": MAX_TARGET}
VALUE = {"anyOf": [text(MAX_VALUE_CHARS, required=True), {"type": "number"}, {"type": "boolean"}]}
MEASURE = {"oneOf": [
    obj(["kind", "document_id"], kind=enum(("on_time",)), document_id=dict(ID, description="a procedure"),
        step=dict(whole(0, 99), description="a step index (from 0) of its effective revision")),
    obj(["kind", "form_id", "field", "values"], kind=enum(("field_ratio",)), form_id=ID,
        field=dict(text(64, required=True), description="a field of the form's effective revision"),
        values=array(VALUE, MAX_VALUES, 1)),
    obj(["kind", "form_id", "field"], kind=enum(("field_mean",)), form_id=ID,
        field=dict(text(64, required=True), description="a number field of the form's effective revision")),
    obj(["kind", "form_id"], kind=enum(("count",)), form_id=ID)]}
PERIOD = text(10, description="YYYY-MM, YYYY-Qn, YYYY (or YYYY-MM-DD): the objective's period holding it")
RANGE = [query("from", PERIOD, "default: 11 periods before the current one"),
         query("to", PERIOD, f"default: the current period; at most {MAX_PERIODS} periods"),
         query("department", CODE, "a department code; default the objective's")]
VALUE_ERRORS = READ + ("422",)

ANSWERS = {
    "Objective": record_of(id=INT, name=STR, department=OPT_STR, target=NUMBER, comparison=enum(COMPARISONS),
                           unit=enum(UNITS), frequency=enum(FREQUENCIES), measure={"type": "object"},
                           active=BOOL, created_by=STR, created_at=TIME),
    "ObjectiveValue": record_of(period=STR, department=OPT_STR, numerator=NUMBER, denominator=INT,
                                value=OPT_NUMBER, target=NUMBER, met=nullable(BOOL)),
}

BODIES = {
    "ObjectiveCreate": obj(["name", "target", "comparison", "unit", "frequency", "measure"],
                           name=text(200, required=True), department=CODE, target=TARGET,
                           comparison=enum(COMPARISONS), unit=enum(UNITS), frequency=enum(FREQUENCIES),
                           measure=MEASURE),
    "ObjectiveUpdate": obj(closed=True, name=text(200, required=True), target=TARGET, active=BOOL),
}

OPERATIONS = [
    op("post", "/objectives", "Define a quality objective (controller); the value is computed, never typed in",
       "Objective", "ObjectiveCreate", 201),
    op("get", "/objectives", "Quality objectives, oldest first", page_of("Objective"),
       params=[query("active", enum(("1", "true", "0", "false"))), *PAGING]),
    op("get", "/objectives/{id}", "One objective", "Objective"),
    op("patch", "/objectives/{id}", "Change an objective's name, target or activity (controller)", "Objective",
       "ObjectiveUpdate"),
    op("get", "/objectives/{id}/values", "The objective's value per period (calendar periods in PORTAL_TIMEZONE)",
       record_of(items=array(ref("ObjectiveValue")), total=INT), params=RANGE, errors=VALUE_ERRORS),
    op("get", "/objectives/{id}/chart.svg", "The trend chart of the values (SVG)", ["image/svg+xml"],
       params=RANGE, errors=VALUE_ERRORS),
    op("get", "/objectives.xlsx", "Values of every active objective as Excel", XLSX,
       params=[query("from", PERIOD, "default: 11 months ago"), query("to", PERIOD, "default: this month"),
               query("department", CODE)], errors=VALUE_ERRORS),
]
