"""The operations and schemas of running an audit (meeting notes, acknowledgements, step
warnings, completion with a root cause) and of its Word reports, merged into
/api/v1/openapi.json by portal.openapi.spec."""
from portal.audit.actions import TEXT_MAX
from portal.audit.running import NOTES_MAX
from portal.openapi import DAY, DOCX, STR, WRITE, array, obj, op, record_of, ref, text

ANSWERS = {
    "AuditStep": {"allOf": [ref("AuditDetail"), record_of(warnings=dict(
        array(STR), description="what was unusual about the step, said but not refused: an early start, "
                                "clauses in scope with no checklist result"))]},
}

BODIES = {
    "AuditNotes": obj(closed=True, opening_notes=dict(text(NOTES_MAX), description="首次会议"),
                      closing_notes=dict(text(NOTES_MAX), description="末次会议")),
    "ActionComplete": obj(["note"], note=text(TEXT_MAX, required=True),
                          root_cause=dict(text(TEXT_MAX), description="required unless the action has one"),
                          occurs_elsewhere=dict(text(TEXT_MAX), description="could it occur elsewhere?"),
                          verify_after=dict(DAY, description="not in the past; default the action's, else today")),
}

OPERATIONS = [
    op("patch", "/audits/{id}", "The opening and closing meeting notes (the audit's auditors, until it closes; "
       "409 once closed)", "AuditDetail", "AuditNotes"),
    op("post", "/findings/{id}/acknowledge", "The audited department (a member or its manager) acknowledges the "
       "finding, once (409 the second time, 403 from anyone else)", "Finding", errors=WRITE),
    op("get", "/findings/{id}/report.docx", "不符合项报告 of one finding as Word (A4)", DOCX),
    op("get", "/actions/{id}/report.docx", "纠正/预防措施报告 of one corrective action as Word (A4)", DOCX),
]
