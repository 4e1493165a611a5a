"""The procedures operations and schemas of /api/v1/openapi.json (merged by portal.openapi.spec)."""
from portal.documents.form_schema import MAX_DUE_HOURS, MAX_STEP_NAME, STEP_ROLES
from portal.openapi import (BOOL, FLAG, ID, OPT_INT, OPT_STR, OPT_TIME, PAGING, STR, TIME, XLSX, enum,
                            nullable, obj, op, page_of, query, record_of, ref, text)
from portal.procedures.models import ESCALATE_TO, PRIORITIES, RUN_STATES, STEP_STATES
from portal.workdays import MAX_WORKING_DAYS

HOURS = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DUE_HOURS}
# (due_hours | due_working_days, exactly one: the service says 422 when both or neither come)
STEP = obj(["name"], name=text(MAX_STEP_NAME, required=True), form_id=nullable(ID),
           role=nullable(enum(STEP_ROLES)), department=nullable(text(32, required=True)),
           due_hours={"description": "calendar hours from the run's start, or hours by priority "
                                     "(`ordinary` required)",
                      "anyOf": [HOURS, obj(["ordinary"], closed=True, **{p: HOURS for p in PRIORITIES})]},
           due_working_days={"type": "integer", "minimum": 1, "maximum": MAX_WORKING_DAYS,
                             "description": "due at 24:00 local of the Nth working day after the start"},
           escalate_to=dict(enum(ESCALATE_TO), default="manager"))

ANSWERS = {
    "RunStep": record_of(index={"type": "integer", "minimum": 0}, name=STR, form_id=OPT_INT, role=OPT_STR,
                         department=OPT_STR, due_at=OPT_TIME, state=enum(STEP_STATES), completed_at=OPT_TIME,
                         completed_by=OPT_STR, record_id=OPT_INT,
                         overdue=dict(BOOL, description="pending past due_at on an open run"),
                         late=dict(BOOL, description="completed after due_at")),
    "Run": record_of(id={"type": "integer"}, number=STR, document_id={"type": "integer"}, revision_label=STR,
                     subject=STR, department=STR, priority=enum(PRIORITIES), state=enum(RUN_STATES),
                     started_at=TIME, closed_at=OPT_TIME, cancelled_at=OPT_TIME, cancel_reason=OPT_STR,
                     created_by=STR, steps={"type": "array", "items": ref("RunStep")}),
}

BODIES = {
    "Step": STEP,
    "RunStart": obj(["subject", "department"], subject=text(500, required=True),
                    department=dict(text(32, required=True), description="department code"),
                    priority=enum(PRIORITIES),
                    started_at=dict(TIME, description="ISO 8601 with offset, not in the future "
                                                      "(a request received earlier by phone)")),
    "StepComplete": obj((), closed=True, record_id=dict(ID, description="an existing record of the step's form"),
                        data=dict(obj(), description="the step's form filled in: issues its record")),
}

RUN_FILTERS = [query("document_id", ID), query("state", enum(RUN_STATES)),
               query("department", text(32), "department code"),
               query("overdue", FLAG, "open runs with a pending step past due_at")]

OPERATIONS = [
    op("post", "/documents/{id}/runs", "Start a run from the procedure's effective revision", "Run", "RunStart", 201),
    op("post", "/runs/{id}/steps/{index}/complete",
       "Complete step `index` (from 0) in order, with record_id or data", "Run",
       "StepComplete", body_required=False),
    op("post", "/runs/{id}/cancel", "Cancel an open run (controller or the department's manager)", "Run", "Reason"),
    op("get", "/runs/{id}", "One run with its steps", "Run"),
    op("get", "/runs", "Runs the caller may see, newest first", page_of("Run"),
       params=RUN_FILTERS + PAGING),
    op("get", "/runs.xlsx", "The runs register as Excel (the list's filters)", XLSX, params=RUN_FILTERS),
]
