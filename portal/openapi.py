"""The OpenAPI 3 description served at /api/v1/openapi.json."""

ERROR = {"$ref": "#/components/schemas/Error"}

# (method, path, summary, request schema or None, success status)
OPERATIONS = [
    ("get", "/me", "The account behind the token", None, 200),
    ("get", "/departments", "List departments", None, 200),
    ("post", "/departments", "Create a department (admin)", "Department", 201),
    ("get", "/users", "List users (admin)", None, 200),
    ("post", "/users", "Create a user (admin)", "UserCreate", 201),
    ("patch", "/users/{id}", "Change a user (admin); deactivation instead of deletion", "UserUpdate", 200),
    ("post", "/tokens", "Create a token for the caller", None, 201),
    ("post", "/tokens/{id}/revoke", "Revoke a token", None, 200),
    ("get", "/clauses", "The clause catalogue, unpaged; ?standard=", None, 200),
    ("get", "/documents", "List documents; ?code=&doc_type=&department=&status=&page=&per_page=", None, 200),
    ("post", "/documents", "Register a document", "DocumentCreate", 201),
    ("get", "/documents/{id}", "One document; ?as_of=YYYY-MM-DD adds revision_as_of", None, 200),
    ("patch", "/documents/{id}", "Change a document's metadata", "DocumentUpdate", 200),
    ("post", "/documents/{id}/revisions", "Start a draft revision (JSON or multipart .docx `file`)", "RevisionCreate", 201),
    ("post", "/documents/{id}/obsolete", "Make a document obsolete", "Reason", 200),
    ("get", "/revisions/{id}", "One revision", None, 200),
    ("patch", "/revisions/{id}", "Edit a draft revision", "RevisionCreate", 200),
    ("post", "/revisions/{id}/submit", "Submit for review and approval", "Submit", 200),
    ("post", "/revisions/{id}/sign", "Sign with password re-entry", "Sign", 200),
    ("post", "/revisions/{id}/release", "Release an approved revision", "Release", 200),
    ("get", "/revisions/{id}/diff", "Diff against ?against={other_id}", None, 200),
    ("get", "/revisions/{id}/export.docx", "Word export with header block and 修订履历", None, 200),
    ("get", "/master-list", "受控文件清单", None, 200),
    ("get", "/master-list.xlsx", "受控文件清单 as Excel", None, 200),
    ("get", "/trail", "Audit trail; ?object_type=&object_id=&page=&per_page=", None, 200),
    # Distribution of controlled copies, periodic review, external documents
    ("post", "/revisions/{id}/copies", "Issue a controlled copy {holder} or copies to the distribution list {distribution: true}", "CopyIssue", 201),
    ("get", "/copies", "文件发放回收记录; ?document_id=&outstanding_recall=1&mine=1&late=1", None, 200),
    ("get", "/copies/{id}", "One controlled copy", None, 200),
    ("post", "/copies/{id}/acknowledge", "签收 by the holder", None, 200),
    ("post", "/copies/{id}/recall", "回收 {outcome: returned|destroyed, witness?} (controller)", "Recall", 200),
    ("post", "/copies/{id}/replace", "Replace a lost or damaged copy {reason}; the old number is voided", "Reason", 200),
    ("get", "/copies/{id}/export.docx", "The controlled copy as Word (受控, 发放号, holder)", None, 200),
    ("post", "/documents/{id}/periodic-review", "Periodic review {outcome, comment, password}", "Review", 200),
    ("get", "/documents/{id}/reviews", "Periodic reviews of a document", None, 200),
    ("get", "/reviews/due", "Documents whose review is due within ?days=", None, 200),
    ("get", "/external-documents", "外来文件清单", None, 200),
    ("get", "/external-documents.xlsx", "外来文件清单 as Excel", None, 200),
    ("get", "/notifications", "My inbox; ?unread=1", None, 200),
    ("post", "/notifications/{id}/read", "Mark a notification read", None, 200),
    # Forms and numbered records
    ("post", "/documents/{id}/records", "Issue a numbered record {department?, data}", "RecordIssue", 201),
    ("get", "/records", "Records; ?form_id=&number=&status=&department=&from=&to=", None, 200),
    ("get", "/records/{id}", "One record with corrections and attachments", None, 200),
    ("patch", "/records/{id}", "Correct an open record {data, reason}", "RecordCorrect", 200),
    ("post", "/records/{id}/close", "Close a record", None, 200),
    ("post", "/records/{id}/void", "Void a record {reason}; the number stays taken", "Reason", 200),
    ("post", "/records/{id}/attachments", "Attach a file (multipart `file`)", None, 201),
    ("get", "/attachments/{id}", "Download an attachment", None, 200),
    ("get", "/records/{id}/export.docx", "The record as Word, laid out like the paper form", None, 200),
    ("get", "/forms/{id}/register.xlsx", "台账 of a form as Excel", None, 200),
    ("get", "/records-list", "记录清单: forms with owner, retention and counts", None, 200),
    ("get", "/disposals", "Records past retention (controllers, approvers)", None, 200),
    ("post", "/records/{id}/disposal-request", "Propose disposal {method}", "Disposal", 200),
    ("post", "/records/{id}/dispose", "Approve a disposal {password}", "Password", 200),
    # Internal audits and corrective actions
    ("post", "/audits", "Plan an audit; auditors may not belong to an audited department (422)", "AuditCreate", 201),
    ("get", "/audits", "Audits; ?state=planned|in_progress|reported|closed&year=&page=&per_page= "
     "(external reviewers: reported and closed only)", None, 200),
    ("get", "/audits/{id}", "One audit with its checklist, findings and their corrective actions", None, 200),
    ("post", "/audits/{id}/start", "planned → in_progress (409 from any other state)", None, 200),
    ("post", "/audits/{id}/report", "in_progress → reported, with the report text", "AuditReport", 200),
    ("post", "/audits/{id}/close", "reported → closed; 409 while a major or minor finding has no corrective action",
     None, 200),
    ("post", "/audits/{id}/checklist", "Add a 检查表 question for a clause and department in scope "
     "(while planned or in progress)", "ChecklistItem", 201),
    ("patch", "/audits/{id}/checklist/{item_id}", "Record a checklist result (while in progress)", "CheckResult", 200),
    ("post", "/audits/{id}/checklist/{item_id}", "Same as PATCH", "CheckResult", 200),
    ("post", "/audits/{id}/findings", "Write a finding (while in progress); evidence must exist", "FindingCreate", 201),
    ("get", "/findings/{id}", "One finding with its corrective actions", None, 200),
    ("post", "/findings/{id}/actions", "Assign a corrective action (state open)", "ActionCreate", 201),
    ("get", "/actions", "Corrective actions; ?state=open|completed|closed&owner=username", None, 200),
    ("get", "/actions/{id}", "One corrective action", None, 200),
    ("post", "/actions/{id}/complete", "The owner reports the open action done {note}", "Note", 200),
    ("post", "/actions/{id}/verify", "An auditor who is not the owner verifies a completed action: "
     "effective → closed, not effective → open", "Verify", 200),
    ("get", "/audits/{id}/report.docx", "内审报告 as Word", None, 200),
    ("get", "/audit-programme/{year}", "Coverage of every department × clause in the year's scope: "
     "audited, planned or not_covered", None, 200),
    # Search and evidence
    ("get", "/search", "Full-text search; ?q=&kind=&department=&clause=&form=&state=&as_of=&date_from=&date_to=&sort=&page=&per_page=", None, 200),
    ("post", "/evidence", "Freeze a search as evidence {q, filters?, note, finding_id? | checklist_item_id?}; "
     "attaching needs an auditor, controller or admin and an audit that is not closed", "Evidence", 201),
    ("get", "/evidence", "Evidence items; ?finding_id= or ?audit_id= for one finding's or one audit's", None, 200),
    ("get", "/evidence/{id}", "One evidence item, unchanged", None, 200),
    ("post", "/evidence/{id}/attach", "Attach an unattached evidence item to a finding or checklist item "
     "(409 once attached or when the audit is closed)", "EvidenceAttach", 200),
    ("get", "/search/health", "Database vs index counts (admin, controller)", None, 200),
]

SCHEMAS = {
    "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object"}}}}},
    "Department": {"type": "object", "required": ["code", "name"],
                   "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "UserCreate": {"type": "object", "required": ["username", "password", "role"], "properties": {
        "username": {"type": "string"}, "password": {"type": "string"},
        "role": {"enum": ["admin", "controller", "staff", "approver", "auditor", "external_reviewer"]},
        "department": {"type": "string"}, "name": {"type": "string"},
        "expires": {"type": "string", "format": "date"}}},
    "UserUpdate": {"type": "object", "properties": {
        "role": {"type": "string"}, "department": {"type": "string"}, "name": {"type": "string"},
        "active": {"type": "boolean"}, "expires": {"type": "string", "format": "date"}}},
    "DocumentCreate": {"type": "object", "required": ["code", "title", "doc_type", "department"], "properties": {
        "code": {"type": "string", "maxLength": 100}, "title": {"type": "string", "maxLength": 300},
        "doc_type": {"enum": ["manual", "procedure", "work_instruction", "form", "external", "policy"]},
        "department": {"type": "string"}, "clauses": {"type": "array", "items": {"type": "string"}},
        "review_period_months": {"type": "integer"},
        "confidentiality": {"enum": ["public", "internal", "confidential"]},
        "numbering_pattern": {"type": "string"}, "retention_years": {"type": "integer"}}},
    "DocumentUpdate": {"type": "object", "properties": {
        "title": {"type": "string"}, "clauses": {"type": "array", "items": {"type": "string"}},
        "review_period_months": {"type": "integer"}, "confidentiality": {"type": "string"},
        "department": {"type": "string"}, "numbering_pattern": {"type": "string"},
        "retention_years": {"type": "integer"}}},
    "RevisionCreate": {"type": "object", "properties": {
        "body_html": {"type": "string"}, "change_summary": {"type": "string"},
        "change_reason": {"type": "string"}, "change_level": {"enum": ["minor", "major"]},
        "fields": {"type": "array", "items": {"type": "object"}},
        "steps": {"type": "array", "items": {"type": "object"}}}},
    "Submit": {"type": "object", "required": ["reviewers", "approver"], "properties": {
        "reviewers": {"type": "array", "items": {"type": "string"}}, "approver": {"type": "string"}}},
    "Sign": {"type": "object", "required": ["meaning", "decision", "password"], "properties": {
        "meaning": {"enum": ["review", "approve"]}, "decision": {"enum": ["accept", "reject"]},
        "comment": {"type": "string"}, "password": {"type": "string"}}},
    "Release": {"type": "object", "required": ["effective_date"],
                "properties": {"effective_date": {"type": "string", "format": "date"}}},
    "Reason": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
    "CopyIssue": {"type": "object", "properties": {"holder": {"type": "string"}, "distribution": {"type": "boolean"}}},
    "Recall": {"type": "object", "properties": {"outcome": {"enum": ["returned", "destroyed"]},
                                                "witness": {"type": "string"}}},
    "Review": {"type": "object", "required": ["outcome", "comment", "password"], "properties": {
        "outcome": {"enum": ["keep", "revise", "obsolete"]}, "comment": {"type": "string"},
        "password": {"type": "string"}}},
    "RecordIssue": {"type": "object", "required": ["data"], "properties": {
        "department": {"type": "string"}, "data": {"type": "object"}}},
    "RecordCorrect": {"type": "object", "required": ["data", "reason"], "properties": {
        "data": {"type": "object"}, "reason": {"type": "string"}}},
    "Disposal": {"type": "object", "required": ["method"], "properties": {"method": {"type": "string"}}},
    "Password": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}},
    "AuditCreate": {"type": "object", "required": ["title", "planned_start", "planned_end", "departments",
                                                   "clauses", "lead_auditor"], "properties": {
        "title": {"type": "string", "maxLength": 300},
        "planned_start": {"type": "string", "format": "date"}, "planned_end": {"type": "string", "format": "date"},
        "departments": {"type": "array", "items": {"type": "string"}, "description": "department codes"},
        "clauses": {"type": "array", "items": {"type": "string"}, "description": "e.g. ISO 9001:2015 7.5.3"},
        "lead_auditor": {"type": "string", "description": "username (auditor, controller or admin)"},
        "team": {"type": "array", "items": {"type": "string"}}}},
    "AuditReport": {"type": "object", "properties": {"summary": {"type": "string", "maxLength": 4000},
                                                     "conclusion": {"type": "string", "maxLength": 4000}}},
    "ChecklistItem": {"type": "object", "required": ["clause", "department", "question"], "properties": {
        "clause": {"type": "string"}, "department": {"type": "string"}, "question": {"type": "string"}}},
    "CheckResult": {"type": "object", "required": ["result"], "properties": {
        "result": {"enum": ["conforming", "nonconforming", "observation", "not_applicable"]},
        "notes": {"type": "string", "maxLength": 4000}}},
    "FindingCreate": {"type": "object", "required": ["classification", "clause", "department", "statement"],
                      "properties": {
        "classification": {"enum": ["major", "minor", "observation", "ofi"]}, "clause": {"type": "string"},
        "department": {"type": "string"}, "statement": {"type": "string", "maxLength": 4000},
        "evidence": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["kind", "id"],
                     "properties": {"kind": {"enum": ["document", "revision", "record"]}, "id": {"type": "integer"}}}}}},
    "ActionCreate": {"type": "object", "required": ["owner", "due_date", "plan"], "properties": {
        "owner": {"type": "string"}, "due_date": {"type": "string", "format": "date"},
        "containment": {"type": "string"}, "root_cause": {"type": "string"}, "plan": {"type": "string"}}},
    "Note": {"type": "object", "required": ["note"], "properties": {"note": {"type": "string"}}},
    "Verify": {"type": "object", "required": ["effective", "note"], "properties": {
        "effective": {"type": "boolean"}, "note": {"type": "string"}}},
    "Evidence": {"type": "object", "required": ["q"], "properties": {
        "q": {"type": "string"}, "filters": {"type": "object"}, "note": {"type": "string"},
        "finding_id": {"type": "integer"}, "checklist_item_id": {"type": "integer"}}},
    "EvidenceAttach": {"type": "object", "properties": {
        "finding_id": {"type": "integer"}, "checklist_item_id": {"type": "integer"}}},
}

ERROR_STATUSES = {"400": "Malformed request", "401": "Not authenticated", "403": "Not allowed",
                  "404": "Unknown id", "409": "Not allowed in the current state, or duplicate",
                  "413": "Too large", "415": "Wrong file type", "422": "Invalid field values"}


def _operation(summary: str, schema: str | None, status: int, path: str) -> dict:
    op = {"summary": summary, "responses": {str(status): {"description": "OK"}}}
    op["responses"].update({code: {"description": text, "content": {"application/json": {"schema": ERROR}}}
                            for code, text in ERROR_STATUSES.items()})
    params = [name for name in ("id", "item_id", "year") if "{" + name + "}" in path]
    if params:
        op["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
                            for name in params]
    if schema:
        op["requestBody"] = {"content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{schema}"}}}}
    return op


def spec() -> dict:
    paths: dict = {}
    for method, path, summary, schema, status in OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(summary, schema, status, path)
    return {"openapi": "3.0.3",
            "info": {"title": "portal API", "version": "1",
                     "description": "Document control, records and audits. Bearer tokens from `portal create-token`."},
            "servers": [{"url": "/api/v1"}], "paths": paths,
            "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]}
