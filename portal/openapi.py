"""The OpenAPI 3.1 description served at /api/v1/openapi.json.

Every operation says what it takes (path and query parameters with the limits the handler
enforces, the JSON body with its required fields, lengths and vocabularies), what it answers
on success (the serializers' shapes) and which errors it may give. Vocabularies and limits are
imported from the code that enforces them, so the two cannot drift apart; tests/test_api_fuzz.py
runs schemathesis against this description."""
from portal.accounts.models import ROLES
from portal.api_support import MAX_PER_PAGE
from portal.audit.models import (ACTION_STATES, AUDIT_KINDS, AUDIT_STATES, CHECK_RESULTS, CLASSIFICATIONS,
                                 EVIDENCE_KINDS)
from portal.audit.services import MAX_EVIDENCE, TEXT_MAX
from portal.documents.form_schema import COLUMN_TYPES, FIELD_TYPES, MAX_FIELDS
from portal.documents.models import (CONFIDENTIALITY, COPY_STATUSES, DOC_TYPES, DOCUMENT_STATUSES, RECALL_OUTCOMES,
                                     REVIEW_OUTCOMES, REVISION_STATES, SIGNATURE_MEANINGS)
from portal.documents.services import MAX_BODY
from portal.records.models import RECORD_STATUSES
from portal.search.evidence import FILTER_NAMES
from portal.search.query import MAX_FILTER_CHARS, SEARCH_KINDS
from portal.search.query import STATES as SEARCH_STATES
from portal.security.attachments import ALLOWED as ATTACHMENT_TYPES
from portal.trail.models import OBJECT_TYPES
from portal.validation import MAX_ID

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- schema shorthands ------------------------------------------------------------------

def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def text(max_len: int | None = None, required: bool = False, **extra) -> dict:
    """A string as Fields.text takes it: stripped, at most max_len characters."""
    schema = {"type": "string", **extra}
    if max_len:
        schema["maxLength"] = max_len
    if required:
        schema["minLength"] = 1
    return schema


def enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


def array(items: dict, max_items: int | None = None, min_items: int | None = None) -> dict:
    schema = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    if min_items is not None:
        schema["minItems"] = min_items
    return schema


def obj(required: list[str] | tuple = (), /, closed: bool = False, **properties) -> dict:
    """An object schema; `required` is positional so that a property may be called "required"."""
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def record_of(**properties) -> dict:
    """An answer object: every property listed is always present."""
    return obj(list(properties), **properties)


STR, INT, BOOL, ANY = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {}
DAY = {"type": "string", "format": "date"}
TIME = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
CODE, USERNAME = text(32), text(64)
OPT_STR, OPT_INT, OPT_DAY, OPT_TIME = nullable(STR), nullable(INT), nullable(DAY), nullable(TIME)


def page_of(item: str) -> dict:
    return record_of(items=array(ref(item)), total=INT, page=INT, per_page=INT)


def all_of(item: str) -> dict:
    """An unpaged list."""
    return record_of(items=array(ref(item)), total=INT)


# --- answers (the serializers' shapes) ---------------------------------------------------

ANSWERS = {
    "Error": record_of(error=obj(["code", "message"], code=STR, message=STR,
                                 fields={"type": "object", "additionalProperties": STR,
                                         "description": "field name → why it was refused"})),
    "User": record_of(id=INT, username=STR, name=STR, role=enum(ROLES), department=OPT_STR,
                      active=BOOL, email=OPT_STR, expires=OPT_DAY,
                      auditor=dict(nullable(ref("AuditorQualification")), description="null: not a registered auditor")),
    "Department": record_of(id=INT, code=STR, name=STR, active=BOOL,
                            manager=dict(OPT_STR, description="username; null when none")),
    "Token": record_of(token=STR, user=STR),
    "RevokedToken": record_of(id=INT, revoked_at=TIME),
    "Clause": record_of(standard=STR, number=STR, title=STR, title_en=OPT_STR),
    "Signature": record_of(id=INT, meaning=enum(SIGNATURE_MEANINGS), signer=STR, printed_name=OPT_STR,
                           round=INT, decision=nullable(enum(("accept", "reject"))), comment=OPT_STR,
                           signed_at=OPT_TIME),
    "RevisionSummary": record_of(id=INT, label=STR, state=enum(REVISION_STATES), effective_date=OPT_DAY,
                                 ended_on=OPT_DAY, change_summary=OPT_STR, author=STR),
    "Revision": {"allOf": [ref("RevisionSummary"), record_of(
        document_id=INT, code=STR, change_level=nullable(enum(("minor", "major"))), change_reason=OPT_STR,
        body_html=OPT_STR, text=OPT_STR, fields=nullable(array(ref("FieldDefinition"))),
        steps=nullable(array(ref("Step"))), source_filename=OPT_STR, source_sha256=OPT_STR,
        signatures=array(ref("Signature")), submitted_at=OPT_TIME, approved_at=OPT_TIME,
        released_at=OPT_TIME, created_at=TIME, updated_at=OPT_TIME,
        change_request_id=dict(OPT_INT, description="the change request this revision implements"))]},
    "Document": {"allOf": [record_of(
        id=INT, code=STR, title=STR, doc_type=enum(DOC_TYPES), department=STR, department_name=STR,
        clauses=array(STR), confidentiality=enum(CONFIDENTIALITY), review_period_months=OPT_INT,
        status=enum(DOCUMENT_STATUSES), numbering_pattern=OPT_STR, retention_years=OPT_INT,
        parts=nullable(array(STR)), distribution=array(STR), external_source=OPT_STR,
        external_edition=OPT_STR, received_on=OPT_DAY, applicability=OPT_STR,
        current_revision=nullable(ref("RevisionSummary")), revisions=array(ref("RevisionSummary")),
        next_review_due=OPT_DAY, obsolete_reason=OPT_STR, created_at=TIME),
        obj(revision_as_of=dict(nullable(ref("Revision")),
                                description="only with ?as_of=: the revision effective that day"))]},
    "Copy": record_of(
        id=INT, copy_no=STR, holder=STR, holder_name=STR, holder_type=enum(("user", "department")),
        revision_id=INT, revision_label=STR, revision_state=enum(REVISION_STATES), document_id=INT, code=STR,
        title=STR, status=enum(COPY_STATUSES), recall_due=BOOL, issued_at=TIME, issued_by=OPT_STR,
        acknowledged_at=OPT_TIME, acknowledged_by=OPT_STR, recalled_at=OPT_TIME,
        recall_outcome=nullable(enum(RECALL_OUTCOMES)), recall_witness=OPT_STR, voided_at=OPT_TIME,
        void_reason=OPT_STR, replaces_id=OPT_INT, follows_id=OPT_INT),
    "PeriodicReview": record_of(id=INT, document_id=INT, revision=OPT_STR, outcome=enum(REVIEW_OUTCOMES),
                                comment=STR, reviewer=STR, printed_name=STR, signed_at=TIME, due_was=OPT_DAY,
                                next_due=OPT_DAY),
    "Notification": record_of(id=INT, kind=STR, message=STR, link=OPT_STR, created_at=TIME, read_at=OPT_TIME,
                              email_status=OPT_STR),
    "Correction": record_of(field=STR, old_value=ANY, new_value=ANY, reason=STR, by=STR, at=TIME),
    "Attachment": record_of(id=INT, filename=STR, sha256=STR, size=INT, content_type=STR, uploaded_by=STR,
                            uploaded_at=TIME),
    "Record": record_of(
        id=INT, number=STR, form_id=INT, form_code=STR, form_title=STR, revision_id=INT, revision_label=STR,
        department=OPT_STR, status=enum(RECORD_STATUSES),
        data=dict(nullable({"type": "object"}), description="field name → value; null once disposed of"),
        created_by=STR, created_at=TIME, closed_at=OPT_TIME, voided_at=OPT_TIME, void_reason=OPT_STR,
        retain_until=OPT_DAY,
        disposal=nullable(record_of(method=STR, requested_by=STR, requested_at=TIME, disposed_by=OPT_STR,
                                    disposed_at=OPT_TIME)),
        corrections=array(ref("Correction")), attachments=array(ref("Attachment"))),
    "FormSummary": record_of(form_id=INT, code=STR, title=STR, department=STR, retention_years=OPT_INT,
                             records=INT),
    "ChecklistItem": record_of(id=INT, audit_id=INT, clause=STR, department=STR, question=STR,
                               result=nullable(enum(CHECK_RESULTS)), notes=OPT_STR, auditor=OPT_STR,
                               checked_at=OPT_TIME),
    "Action": record_of(
        id=INT, number=STR, finding_id=INT, finding_number=STR, audit_id=INT, owner=STR, due_date=DAY,
        containment=OPT_STR, root_cause=OPT_STR, plan=STR, state=enum(ACTION_STATES), created_by=STR,
        occurs_elsewhere=dict(OPT_STR, description="could it occur elsewhere? (ISO 9001 10.2.1 b)"),
        verify_after=dict(OPT_DAY, description="effectiveness is verified on or after this day"),
        reopened_count=dict(INT, description="times found not effective"),
        overdue=dict(BOOL, description="open past its due date"),
        created_at=TIME, completed_at=OPT_TIME, completion_note=OPT_STR,
        verification=nullable(record_of(effective=BOOL, note=STR, by=STR, at=TIME)), closed_at=OPT_TIME),
    "Finding": record_of(
        id=INT, number=STR, audit_id=INT, audit_number=STR, classification=enum(CLASSIFICATIONS), clause=STR,
        department=STR, statement=STR,
        evidence=array(dict(obj(["kind"], kind=OPT_STR, id=OPT_INT, ref=OPT_STR, restricted=BOOL),
                            description="what the reader may not see keeps only its kind (restricted)")),
        checklist_item_id=dict(OPT_INT, description="the 检查表 row it was raised from"),
        acknowledged_by=dict(OPT_STR, description="who of the audited department acknowledged it"),
        acknowledged_at=OPT_TIME, created_by=STR, created_at=TIME, actions=array(ref("Action"))),
    "Audit": record_of(
        id=INT, number=STR, title=STR, state=enum(AUDIT_STATES), planned_start=DAY, planned_end=DAY,
        departments=array(STR), clauses=array(STR), lead_auditor=STR, team=array(STR), summary=OPT_STR,
        conclusion=OPT_STR, opening_notes=OPT_STR, closing_notes=OPT_STR, created_by=STR, created_at=TIME, started_at=OPT_TIME, reported_at=OPT_TIME,
        closed_at=OPT_TIME, kind=enum(AUDIT_KINDS),
        reason=dict(OPT_STR, description="why an ad-hoc audit was called"),
        independence=dict(nullable(record_of(reason=STR, by=STR, at=TIME)),
                          description="the controller's justification for an auditor who is not independent")),
    "AuditDetail": {"allOf": [ref("Audit"), record_of(checklist=array(ref("ChecklistItem")),
                                                      findings=array(ref("Finding")))]},
    "TrailEntry": record_of(seq=INT, at=TIME, actor=STR, action=STR, object_type=STR, object_id=OPT_INT,
                            before=ANY, after=ANY, reason=OPT_STR, hash=STR),
    "SearchHit": record_of(kind=STR, id=INT, doc_id=OPT_INT, title=STR, ref=STR, revision=OPT_STR,
                           state=OPT_STR, date=OPT_DAY, score=nullable({"type": "number"}),
                           snippet=dict(STR, description="HTML; the matches in <mark>"), url=STR),
    "SearchResult": record_of(
        total=INT, page=INT, per_page=INT, hits=array(ref("SearchHit")),
        facets=record_of(**{name: {"type": "object", "additionalProperties": INT}
                            for name in ("kind", "department", "state")}),
        suggestions=array(STR)),
    "Evidence": record_of(
        id=INT, q=STR, filters={"type": "object", "additionalProperties": STR}, parsed_query=STR,
        index_generation=OPT_INT, analyzer_version=STR, total=INT, hits=array({"type": "object"}),
        result_hash=STR, note=STR, finding_id=OPT_INT, checklist_item_id=OPT_INT, created_by=STR,
        created_at=TIME, intact=BOOL),
    "SearchHealth": record_of(database=INT, index=INT, pending_outbox=INT, analyzer_version=STR,
                              rebuild_needed=BOOL, ok=BOOL),
    "Diff": record_of(**{"from": INT, "to": INT, "diff_html": STR}),
}

# --- request bodies (what the services' Fields checks take) ---------------------------------

FIELD = obj(["name", "label", "type"],
            name=text(64, pattern="^[A-Za-z_][A-Za-z0-9_]{0,63}$"), label=text(200, required=True),
            type=enum(FIELD_TYPES), required=BOOL,
            choices=dict(array(text(200, required=True), 100, 1), description="for type choice"),
            columns=dict(array(obj(["name", "label", "type"], name=STR, label=text(200, required=True),
                                   type=enum(COLUMN_TYPES), required=BOOL, choices=array(STR)), 30, 1),
                         description="for type table"))
DOCUMENT_FIELDS = dict(
    title=text(300, required=True), clauses=dict(array(text(100), 100), description="e.g. ISO 9001:2015 7.5.3"),
    review_period_months={"type": "integer", "minimum": 1, "maximum": 120},
    confidentiality=enum(CONFIDENTIALITY), department=dict(text(32, required=True), description="department code"),
    numbering_pattern=dict(text(200), description="tokens {code} {dept} {yyyy} {yy} {mm} {seq:N}"),
    retention_years={"type": "integer", "minimum": 0, "maximum": 100}, parts=array(text(50), 10),
    distribution=dict(array(text(64), 200), description="usernames or department codes"),
    external_source=text(200), external_edition=text(100), received_on=DAY, applicability=text(2000))
REVISION_FIELDS = dict(body_html=dict(text(MAX_BODY), description="sanitised on the way in"),
                       change_summary=text(2000, required=True),
                       change_reason=dict(text(2000), description="required after the first revision"),
                       change_level=enum(("minor", "major")),
                       fields=dict(array(ref("FieldDefinition"), MAX_FIELDS), description="a form's fields"),
                       steps=dict(array(ref("Step"), 100), description="a procedure's steps"))
DOCX_UPLOAD = obj(["file"], file={"type": "string", "format": "binary", "description": "the .docx"},
                  change_summary=text(2000), change_reason=text(2000), change_level=enum(("minor", "major")))
TARGET_IDS = dict(finding_id=ID, checklist_item_id=ID)

BODIES = {
    "FieldDefinition": FIELD,
    "DepartmentCreate": obj(["code", "name"], code=text(32, required=True), name=text(200, required=True)),
    "UserCreate": obj(["username", "password", "role"], username=text(64, required=True),
                      password=text(200, required=True), role=enum(ROLES), department=CODE, name=text(200),
                      expires=DAY, email=text(200)),
    "UserUpdate": obj(role=enum(ROLES), department=CODE, name=text(200), email=text(200), active=BOOL,
                      expires=nullable(DAY),
                      auditor=dict(nullable(ref("Qualification")), description="the auditor register; null "
                                   "withdraws the qualification (it ends yesterday)")),
    "DocumentCreate": obj(["code", "title", "doc_type", "department"], code=text(100, required=True,
                                                                                   pattern="^[^\t\r\n]*$"),
                          doc_type=enum(DOC_TYPES), **DOCUMENT_FIELDS),
    "DocumentUpdate": obj(closed=True, **DOCUMENT_FIELDS),
    "RevisionCreate": obj(["change_summary"], **REVISION_FIELDS),
    "RevisionUpdate": obj(**REVISION_FIELDS),
    "DocxRevision": DOCX_UPLOAD,
    "Submit": obj(["reviewers", "approver"], reviewers=array(text(64, required=True), 20, 1),
                  approver=text(64, required=True)),
    "Sign": obj(["meaning", "decision", "password"], meaning=enum(("review", "approve")),
                decision=enum(("accept", "reject")),
                comment=dict(text(5000), description="required when rejecting"), password=STR),
    "Release": obj(["effective_date"], effective_date=dict(DAY, description="today or later")),
    "Reason": obj(["reason"], reason=text(2000, required=True)),
    "CopyIssue": obj(holder=dict(USERNAME, description="username or department code"),
                     distribution=dict(BOOL, description="true: one copy to each of the document's distribution")),
    "Recall": obj(outcome=enum(RECALL_OUTCOMES), witness=text(200)),
    "Review": obj(["outcome", "comment", "password"], outcome=enum(REVIEW_OUTCOMES),
                  comment=text(5000, required=True), password=text(required=True)),
    "RecordIssue": obj(department=CODE, data=dict({"type": "object"},
                                                  description="field name → value, checked against the form")),
    "RecordCorrect": obj(["data", "reason"], data={"type": "object", "minProperties": 1},
                         reason=text(2000, required=True)),
    "Disposal": obj(["method"], method=text(200, required=True)),
    "Password": obj(["password"], password=STR),
    "AuditCreate": obj(["title", "planned_start", "planned_end", "departments", "clauses", "lead_auditor"],
                       title=text(300, required=True), planned_start=DAY, planned_end=DAY,
                       departments=dict(array(text(32, required=True), 50, 1), description="department codes"),
                       clauses=dict(array(text(100, required=True), 200, 1), description="e.g. ISO 9001:2015 7.5.3"),
                       lead_auditor=dict(USERNAME, description="an auditor, controller or admin"),
                       team=dict(array(USERNAME, 20), description="each qualified for the clauses' standards on "
                                 "planned_start, as the lead; neither from an audited department nor the author "
                                 "or a signer of one of its documents"),
                       kind=enum(AUDIT_KINDS), reason=dict(text(TEXT_MAX), description="required for ad_hoc"),
                       independence_override=dict(obj(["reason"], closed=True, reason=text(2000, required=True)),
                                                  description="a controller's justification (403 from others)")),
    "AuditReport": obj(summary=text(TEXT_MAX), conclusion=text(TEXT_MAX)),
    "ChecklistItemCreate": obj(["clause", "department", "question"], clause=text(100, required=True),
                         department=text(32, required=True), question=text(TEXT_MAX, required=True)),
    "CheckResult": obj(["result"], result=enum(CHECK_RESULTS), notes=text(TEXT_MAX)),
    "FindingCreate": obj(["classification", "statement"],
                         classification=enum(CLASSIFICATIONS),
                         clause=dict(text(100, required=True), description="required unless checklist_item_id"),
                         department=dict(text(32, required=True), description="required unless checklist_item_id"),
                         statement=text(TEXT_MAX, required=True),
                         checklist_item_id=dict(ID, description="a nonconforming (or observation) 检查表 row "
                                                                "of this audit: its clause and department"),
                         evidence=array({"anyOf": [
                             obj(["kind", "id"], closed=True, kind=enum(EVIDENCE_KINDS), id=ID),
                             obj(["ref"], closed=True, ref=dict(text(200, required=True), description=(
                                 "a document code, a revision (QP0501 A/1), a record number or a frozen "
                                 "search of the basket (#12, attached to the finding)")))]}, MAX_EVIDENCE)),
    "ActionCreate": obj(["owner", "due_date", "plan"],
                        owner=dict(text(64, required=True), description="of the finding's department, or its manager"),
                        due_date=DAY, verify_after=dict(DAY, description="not in the past"),
                        containment=text(TEXT_MAX), root_cause=text(TEXT_MAX), occurs_elsewhere=text(TEXT_MAX),
                        plan=text(TEXT_MAX, required=True)),
    "Note": obj(["note"], note=text(TEXT_MAX, required=True)),
    "Verify": obj(["effective", "note"], effective=BOOL, note=text(TEXT_MAX, required=True),
                  due_date=dict(DAY, description="not effective only: the reopened action's new due date")),
    "EvidenceCreate": obj(["q"], q=text(1000, required=True),
                          filters=obj(closed=True, **{name: STR for name in FILTER_NAMES}),
                          note=text(5000), **TARGET_IDS),
    "EvidenceAttach": obj(**TARGET_IDS),
}

# --- parameters ------------------------------------------------------------------------------


def query(name: str, schema: dict, description: str | None = None) -> dict:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def whole(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


FLAG = enum(("1", "true"))
PAGING = [query("page", whole(1, 10**6)),
          query("per_page", {**whole(1, MAX_PER_PAGE), "default": 20}, f"at most {MAX_PER_PAGE}")]
PATH_PARAMS = {"id": ID, "item_id": ID, "index": whole(0, 99), "year": whole(1900, 9999), "date": DAY}
SEARCH_PARAMS = [
    query("q", text(1000), "words (all must occur), \"phrases\", OR, NOT, parentheses"),
    query("kind", text(MAX_FILTER_CHARS), "comma-separated: " + ", ".join(SEARCH_KINDS)),
    query("department", text(MAX_FILTER_CHARS), "comma-separated department codes"),
    query("clause", text(MAX_FILTER_CHARS)), query("form", text(MAX_FILTER_CHARS), "a form code"),
    query("state", enum(("any",) + SEARCH_STATES)), query("as_of", DAY), query("date_from", DAY),
    query("date_to", DAY), query("sort", enum(("relevance", "date"))),
    query("page", whole(1, 10**9)), query("per_page", {**whole(1, 10**9), "default": 20}, "capped at 100")]

# --- errors ------------------------------------------------------------------------------------

ERRORS = {"400": "Malformed request or parameter", "401": "Not authenticated, or the account has expired",
          "403": "Not allowed (role, read-only account, wrong password)", "404": "Unknown id, or not visible",
          "409": "Not allowed in the current state, or duplicate", "413": "Too large",
          "415": "Wrong file type", "422": "Invalid field values (per field in `fields`)"}
READ = ("400", "401", "403", "404")
WRITE = READ + ("409", "413", "422")
UPLOAD = WRITE + ("415",)

# --- operations ------------------------------------------------------------------------------
# (method, path, summary, {returns, body, ok, params, errors, docx_body, body_required})
# `returns` is a component name, a schema, or a file media type.


def op(method, path, summary, returns, body=None, ok=200, params=(), errors=None, docx_body=False,
       body_required=True):
    return method, path, summary, dict(returns=returns, body=body, ok=ok, params=list(params),
                                       errors=errors or (WRITE if body else READ), docx_body=docx_body,
                                       body_required=body_required)


ATTACHMENT_TYPES_ANSWERED = sorted(set(ATTACHMENT_TYPES.values()))

OPERATIONS = [
    op("get", "/me", "The account behind the token", "User"),
    op("get", "/departments", "List departments (unpaged)", page_of("Department")),
    op("post", "/departments", "Create a department (admin)", "Department", "DepartmentCreate", 201),
    op("get", "/users", "List users (admin; unpaged)", page_of("User")),
    op("post", "/users", "Create a user (admin)", "User", "UserCreate", 201),
    op("patch", "/users/{id}", "Change a user (admin); deactivation instead of deletion", "User", "UserUpdate"),
    op("post", "/tokens", "Create a token for the caller (shown once)", "Token", ok=201, errors=WRITE),
    op("post", "/tokens/{id}/revoke", "Revoke a token (its owner or an admin)", "RevokedToken", errors=WRITE),
    op("get", "/clauses", "The clause catalogue, unpaged", all_of("Clause"),
       params=[query("standard", STR, "e.g. ISO 9001:2015")]),
    op("get", "/documents", "List documents the caller may see", page_of("Document"),
       params=[query("code", STR), query("doc_type", enum(DOC_TYPES)), query("department", STR),
               query("status", enum(DOCUMENT_STATUSES)), query("q", STR, "part of the code or title"), *PAGING]),
    op("post", "/documents", "Register a document", "Document", "DocumentCreate", 201),
    op("get", "/documents/{id}", "One document", "Document",
       params=[query("as_of", DAY, "adds revision_as_of: the revision effective that day")]),
    op("patch", "/documents/{id}", "Change a document's metadata", "Document", "DocumentUpdate"),
    op("post", "/documents/{id}/revisions", "Start a draft revision (JSON, or multipart with a .docx `file`)",
       "Revision", "RevisionCreate", 201, errors=UPLOAD, docx_body=True),
    op("post", "/documents/{id}/obsolete", "Make a document obsolete", "Document", "Reason"),
    op("get", "/revisions/{id}", "One revision", "Revision"),
    op("patch", "/revisions/{id}", "Edit a draft revision (JSON, or multipart with a .docx `file`)", "Revision",
       "RevisionUpdate", errors=UPLOAD, docx_body=True),
    op("post", "/revisions/{id}/submit", "Submit for review and approval", "Revision", "Submit"),
    op("post", "/revisions/{id}/sign", "Sign with password re-entry", "Revision", "Sign"),
    op("post", "/revisions/{id}/release", "Release an approved revision", "Revision", "Release"),
    op("get", "/revisions/{id}/diff", "Differences from another revision of the same document", "Diff",
       params=[dict(query("against", ID, "the revision to compare with"), required=True)]),
    op("get", "/revisions/{id}/export.docx", "Word export with header block and 修订履历", DOCX),
    op("get", "/master-list", "受控文件清单 (unpaged)", all_of("Document")),
    op("get", "/master-list.xlsx", "受控文件清单 as Excel", XLSX),
    op("get", "/trail", "Audit trail, oldest first", page_of("TrailEntry"),
       params=[query("object_type", enum(OBJECT_TYPES)), query("object_id", ID), *PAGING]),
    # Distribution of controlled copies, periodic review, external documents
    op("post", "/revisions/{id}/copies", "Issue a controlled copy {holder}, or copies to the distribution list "
       "{distribution: true}", {"anyOf": [ref("Copy"), all_of("Copy")]}, "CopyIssue", 201),
    op("get", "/copies", "文件发放回收记录", page_of("Copy"),
       params=[query("document_id", ID), query("outstanding_recall", FLAG, "copies due for recall"),
               query("mine", FLAG, "copies I or my department hold"),
               query("late", FLAG, "not acknowledged in time"), *PAGING]),
    op("get", "/copies/{id}", "One controlled copy", "Copy"),
    op("post", "/copies/{id}/acknowledge", "签收 by the holder", "Copy", errors=WRITE),
    op("post", "/copies/{id}/recall", "回收 (controller); the body is optional", "Copy", "Recall",
       body_required=False),
    op("post", "/copies/{id}/replace", "Replace a lost or damaged copy; the old number is voided", "Copy",
       "Reason"),
    op("get", "/copies/{id}/export.docx", "The controlled copy as Word (受控, 发放号, holder)", DOCX),
    op("post", "/documents/{id}/periodic-review", "Periodic review with password re-entry",
       {"allOf": [ref("PeriodicReview"), record_of(document=ref("Document"))]}, "Review"),
    op("get", "/documents/{id}/reviews", "Periodic reviews of a document, newest first", all_of("PeriodicReview")),
    op("get", "/reviews/due", "Documents whose review is due within ?days=, overdue first", all_of("Document"),
       params=[query("days", {**whole(0, 3660), "default": 30})]),
    op("get", "/external-documents", "外来文件清单", page_of("Document"), params=PAGING),
    op("get", "/external-documents.xlsx", "外来文件清单 as Excel", XLSX),
    op("get", "/notifications", "My inbox, newest first", page_of("Notification"),
       params=[query("unread", FLAG, "unread only"), *PAGING]),
    op("post", "/notifications/{id}/read", "Mark a notification read", "Notification", errors=WRITE),
    # Forms and numbered records
    op("post", "/documents/{id}/records", "Issue a numbered record", "Record", "RecordIssue", 201),
    op("get", "/records", "Records the caller may see, newest first", page_of("Record"),
       params=[query("form_id", ID), query("number", STR), query("status", enum(RECORD_STATUSES)),
               query("department", STR), query("from", DAY, "issued on or after"),
               query("to", DAY, "issued on or before"), *PAGING]),
    op("get", "/records/{id}", "One record with corrections and attachments", "Record"),
    op("patch", "/records/{id}", "Correct an open record", "Record", "RecordCorrect"),
    op("post", "/records/{id}/close", "Close a record", "Record", errors=WRITE),
    op("post", "/records/{id}/void", "Void a record; the number stays taken", "Record", "Reason"),
    op("post", "/records/{id}/attachments", "Attach a file (multipart `file`)", "Attachment", ok=201,
       errors=UPLOAD, body={"multipart/form-data": obj(["file"], file={"type": "string", "format": "binary"})}),
    op("get", "/attachments/{id}", "Download an attachment", ATTACHMENT_TYPES_ANSWERED),
    op("get", "/records/{id}/export.docx", "The record as Word, laid out like the paper form", DOCX),
    op("get", "/forms/{id}/register.xlsx", "台账 of a form as Excel", XLSX),
    op("get", "/records-list", "记录清单: forms with owner, retention and counts", all_of("FormSummary")),
    op("get", "/disposals", "Records past retention (controllers, approvers)", page_of("Record"), params=PAGING),
    op("post", "/records/{id}/disposal-request", "Propose disposal (controller)", "Record", "Disposal"),
    op("post", "/records/{id}/dispose", "Approve a disposal with password re-entry", "Record", "Password"),
    # Internal audits and corrective actions
    op("post", "/audits", "Plan an audit; auditors may not belong to an audited department (422)", "AuditDetail",
       "AuditCreate", 201),
    op("get", "/audits", "Audits, latest planned first (external reviewers: reported and closed only)",
       page_of("Audit"), params=[query("state", enum(AUDIT_STATES)), query("year", whole(0, 9999)), *PAGING]),
    op("get", "/audits/{id}", "One audit with its checklist, findings and their corrective actions",
       "AuditDetail"),
    op("post", "/audits/{id}/start", "planned → in_progress (409 from any other state)", "AuditStep",
       errors=WRITE),
    op("post", "/audits/{id}/report", "in_progress → reported, with the report text (body optional)",
       "AuditStep", "AuditReport", body_required=False),
    op("post", "/audits/{id}/close", "reported → closed; 409 while a major or minor finding has no corrective "
       "action", "AuditStep", errors=WRITE),
    op("post", "/audits/{id}/checklist", "Add a 检查表 question for a clause and department in scope "
       "(while planned or in progress)", "ChecklistItem", "ChecklistItemCreate", 201),
    op("patch", "/audits/{id}/checklist/{item_id}", "Record a checklist result (while in progress)",
       "ChecklistItem", "CheckResult"),
    op("post", "/audits/{id}/checklist/{item_id}", "Same as PATCH", "ChecklistItem", "CheckResult"),
    op("post", "/audits/{id}/findings", "Write a finding (while in progress); evidence must exist", "Finding",
       "FindingCreate", 201),
    op("get", "/findings/{id}", "One finding with its corrective actions", "Finding"),
    op("post", "/findings/{id}/actions", "Assign a corrective action (state open)", "Action", "ActionCreate", 201),
    op("get", "/actions", "Corrective actions, due soonest first", page_of("Action"),
       params=[query("state", enum(ACTION_STATES)), query("owner", STR, "username"), *PAGING]),
    op("get", "/actions/{id}", "One corrective action", "Action"),
    op("post", "/actions/{id}/complete", "The owner reports the open action done; 422 without a root cause",
       "Action", "ActionComplete"),
    op("post", "/actions/{id}/verify", "An auditor who is not the owner verifies a completed action: "
       "effective → closed, not effective → open; 409 before verify_after", "Action", "Verify"),
    op("get", "/audits/{id}/report.docx", "内审报告 as Word", DOCX),
    # Search and evidence
    op("get", "/search", "Full-text search over what the caller may see", "SearchResult", params=SEARCH_PARAMS),
    op("post", "/evidence", "Freeze a search as evidence, optionally attached to a finding or checklist item "
       "(an auditor, controller or admin, and an audit that is not closed)", "Evidence", "EvidenceCreate", 201),
    op("get", "/evidence", "Evidence items the caller may read, newest first", page_of("Evidence"),
       params=[query("finding_id", ID), query("audit_id", ID), *PAGING]),
    op("get", "/evidence/{id}", "One evidence item, unchanged", "Evidence"),
    op("post", "/evidence/{id}/attach", "Attach an unattached evidence item to a finding or checklist item "
       "(409 once attached or when the audit is closed)", "Evidence", "EvidenceAttach"),
    op("get", "/search/health", "Database vs index counts (admin, controller)", "SearchHealth"),
]

FILE_HEADERS = {"Content-Disposition": {"required": True, "description": "attachment; filename*=UTF-8''…",
                                        "schema": STR}}


def _success(returns, status: int) -> dict:
    if isinstance(returns, list) or (isinstance(returns, str) and returns.startswith("application/")):
        types = returns if isinstance(returns, list) else [returns]
        return {"description": "The file", "headers": FILE_HEADERS,
                "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types}}
    schema = ref(returns) if isinstance(returns, str) else returns
    return {"description": "Created" if status == 201 else "OK", "content": {"application/json": {"schema": schema}}}


def _request_body(body, docx_body: bool, required: bool) -> dict:
    if isinstance(body, dict):
        content = {media: {"schema": schema} for media, schema in body.items()}
    else:
        content = {"application/json": {"schema": ref(body)}}
    if docx_body:
        content["multipart/form-data"] = {"schema": ref("DocxRevision")}
    return {"required": required, "content": content}


def _operation(method: str, path: str, summary: str, o: dict) -> dict:
    responses = {str(o["ok"]): _success(o["returns"], o["ok"])}
    responses.update({code: {"description": ERRORS[code], "content": {"application/json": {"schema": ref("Error")}}}
                      for code in o["errors"]})
    operation = {"operationId": f"{method} {path}", "summary": summary, "responses": responses}
    params = [{"name": name, "in": "path", "required": True, "schema": schema}
              for name, schema in PATH_PARAMS.items() if "{" + name + "}" in path]
    if params or o["params"]:
        operation["parameters"] = params + o["params"]
    if o["body"]:
        operation["requestBody"] = _request_body(o["body"], o["docx_body"], o["body_required"])
    return operation


def _openapi_document() -> dict:
    return {"summary": "This description", "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {
                "schema": {"type": "object", "required": ["openapi", "paths"]}}}}}}


def _parts() -> list:
    """Domains that describe their own operations (imported late: they use the shorthands here)."""
    from portal import calendar_openapi
    from portal.audit import openapi_programme as audit_programme
    from portal.audit import openapi_run as audit_run
    from portal.change_requests import openapi_part as change_requests
    from portal.management_review import openapi_part as management_review
    from portal.objectives import openapi_part as objectives
    from portal.procedures import openapi_part as procedures

    return [procedures, objectives, calendar_openapi, change_requests, audit_run, management_review,
            audit_programme]


def spec() -> dict:
    paths: dict = {"/openapi.json": {"get": _openapi_document()}}
    parts = _parts()
    for method, path, summary, o in OPERATIONS + [o for part in parts for o in part.OPERATIONS]:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, o)
    schemas = {**ANSWERS, **BODIES}
    for part in parts:
        schemas.update({**part.ANSWERS, **part.BODIES})
    return {"openapi": "3.1.0",
            "info": {"title": "portal API", "version": "1",
                     "description": "Document control, records and audits. Bearer tokens from "
                                    "`portal create-token`. Lists are {items, total, page, per_page}; errors "
                                    "are {error: {code, message, fields}}; 405 answers carry `Allow`."},
            "servers": [{"url": "/api/v1"}], "paths": paths,
            "components": {"schemas": schemas,
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]}
