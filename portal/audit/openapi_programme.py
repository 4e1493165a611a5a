"""The operations and schemas of the annual audit programme and the auditor register, merged
into /api/v1/openapi.json by portal.openapi.spec."""
from portal.audit.coverage import STATUSES
from portal.audit.programme import MAX_CLAUSES, MAX_DEPARTMENTS, MAX_STANDARDS, TEXT_MAX
from portal.audit.qualification import NOTE_MAX
from portal.openapi import (BOOL, DAY, INT, OPT_STR, OPT_TIME, READ, STR, TIME, WRITE, XLSX, array, nullable, obj,
                            op, record_of, ref, text)

YEAR_NOTE = " Years outside 2000–2100 answer 404."

ANSWERS = {
    "AuditorQualification": record_of(
        standards=array(STR), qualified_until=DAY, note=OPT_STR,
        valid=dict(BOOL, description="qualified_until is today or later"), updated_by=STR, updated_at=TIME),
    "ProgrammeScope": record_of(
        year=INT, objectives=STR, criteria=STR, standards=array(STR), departments=array(STR), clauses=array(STR),
        approved_by=dict(OPT_STR, description="cleared when the scope changes after approval"),
        approved_at=OPT_TIME, created_by=STR, created_at=TIME, updated_at=TIME),
    "Programme": record_of(
        year=INT, programme=dict(nullable(ref("ProgrammeScope")), description="null until a scope is set"),
        departments=dict(array(STR), description="the scope's departments (every active one without a scope) "
                                                 "and any other audited that year"),
        clauses=dict(array(STR), description="the scope's clauses and any other an audit of the year names"),
        cells=array(record_of(
            department=STR, clause=STR,
            status=dict({"type": "string", "enum": list(STATUSES)},
                        description="audited: a checklist result or finding covers it; planned: an audit not "
                                    "yet reported names it (or a sub-clause); else not_covered"),
            audits=dict(array(STR), description="numbers of the audits that name it"))),
        summary=record_of(**{status: INT for status in STATUSES}),
        audits=array(ref("Audit"))),
    "ProposedAudit": record_of(title=STR, departments=array(STR), clauses=array(STR), planned_start=DAY,
                               planned_end=DAY, lead_auditor=STR, team=array(STR)),
    "Proposal": record_of(
        audits=dict(array(ref("ProposedAudit")), description="POST each to /audits to plan it"),
        unassigned=dict(array(record_of(department=STR, clauses=array(STR))),
                        description="gaps no qualified, independent auditor can cover")),
    "ProgrammeCalendar": record_of(year=INT, months=array(record_of(
        month=dict(STR, description="YYYY-MM"), audits=array(ref("Audit")), actions=array(ref("Action"))))),
    "RegisteredAuditor": record_of(username=STR, name=STR, role=STR, department=OPT_STR, active=BOOL,
                                   auditor=ref("AuditorQualification"),
                                   audits=array(record_of(id=INT, number=STR, state=STR))),
}

QUALIFICATION = obj(["standards", "qualified_until"], closed=True,
                    standards=dict(array(text(60, required=True), 20, 1), description="from the clause catalogue"),
                    qualified_until=dict(DAY, description="2000-01-01 to 2100-12-31"), note=text(NOTE_MAX))

BODIES = {
    "Qualification": QUALIFICATION,
    "ProgrammeScopeSet": obj(
        ["objectives", "criteria", "standards", "departments"], closed=True,
        objectives=text(TEXT_MAX, required=True), criteria=text(TEXT_MAX, required=True),
        standards=dict(array(text(60, required=True), MAX_STANDARDS, 1), description="from the clause catalogue"),
        departments=dict(array(text(32, required=True), MAX_DEPARTMENTS, 1), description="active department codes"),
        clauses=dict(nullable(array(text(100, required=True), MAX_CLAUSES)),
                     description="refs of those standards; default (absent, null or empty): their two-level "
                                 "clauses (7.5, 9.2 …)")),
    "ProgrammeApproval": obj(["password"], closed=True, password=text(required=True)),
}

OPERATIONS = [
    op("get", "/audit-programme/{year}", "The year's scope and the coverage of every department × clause: "
       "audited, planned or not_covered." + YEAR_NOTE, "Programme"),
    op("put", "/audit-programme/{year}", "Set the year's scope (a controller or an auditor); a change after approval "
       "withdraws the approval." + YEAR_NOTE, "Programme", "ProgrammeScopeSet"),
    op("post", "/audit-programme/{year}/approve", "Approve the year's programme with password re-entry (an "
       "approver; 403 for anyone else or a wrong password, 404 without a scope, 409 once approved)", "Programme",
       "ProgrammeApproval"),
    op("post", "/audit-programme/{year}/propose", "Audits that would cover every department × clause of the scope "
       "still not covered nor planned, over the working months left, with qualified, independent auditors and "
       "the load spread; nothing is saved (409 without a scope or once the year is over)", "Proposal",
       errors=WRITE),
    op("get", "/audit-programme/{year}/calendar", "Each month: the audits planned to start in it and the corrective "
       "actions due in it", "ProgrammeCalendar", errors=READ),
    op("get", "/audit-programme/{year}.xlsx", "The coverage matrix as Excel", XLSX),
    op("get", "/auditors", "The auditor register (内审员名册): every registered auditor, unpaged",
       record_of(items=array(ref("RegisteredAuditor")), total=INT)),
]
