"""Index documents built from ORM objects: one dict per revision or record.

Also the permission fields (see schema.py) mirroring documents.queries and
records.queries, and the registry the indexer uses to load and build by kind.
"""
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import object_session, selectinload

from portal import clock
from portal.audit.models import NONCONFORMITIES, CorrectiveAction, Finding
from portal.audit.queries import REPORTED
from portal.change_requests.models import ChangeRequest
from portal.documents.models import HISTORIC_STATES, Document, Revision
from portal.management_review.indexing import review_fields, review_options
from portal.management_review.models import ManagementReview
from portal.procedures.models import ProcedureRun, RunStep
from portal.records.models import Record
from portal.search.schema import EXCERPT_CHARS, OPEN_END, clause_terms, yyyymmdd


def _parties(rev: Revision) -> set[int]:
    """The author and every assigned signer of one revision."""
    return {rev.author_id} | {s.signer_id for s in rev.signatures}


def _doc_audience(doc: Document) -> set[str]:
    """Who may view the document (can_view_document), besides controllers."""
    if doc.confidentiality != "confidential":
        return {"all"}
    users = set().union(*(_parties(r) for r in doc.revisions)) if doc.revisions else set()
    return {f"dept:{doc.department_id}"} | {f"user:{u}" for u in users}


def _local_datetime(value) -> datetime | None:
    """A naive local datetime for the DATETIME field (dates at local midnight)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.local(value).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    return None


def _clean(fields: dict) -> dict:
    """Whoosh refuses None values: leave those fields out."""
    return {k: v for k, v in fields.items() if v is not None and v != ""}


ACTION_TITLE_CHARS = 40


def _first_line(text: str | None, limit: int) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _join(*texts) -> str:
    return "\n".join(t for t in texts if t)


def revision_fields(rev: Revision) -> dict:
    """The index document of one revision of a controlled document."""
    doc = rev.document
    current = rev.state == "effective"
    if rev.state in HISTORIC_STATES:
        audience = _doc_audience(doc)
    else:  # drafts and withdrawn revisions: only their parties (and controllers)
        audience = {f"user:{u}" for u in _parties(rev)}
    tour = (current and doc.status == "effective" and doc.confidentiality != "confidential")
    field_labels = " ".join(str(f.get("label", "")) for f in rev.fields or [])
    step_names = " ".join(str(s.get("name", "")) for s in rev.steps or [])
    body = _join(rev.text, field_labels, step_names, rev.change_summary)
    return _clean({
        "key": f"revision:{rev.id}", "kind": "document", "obj_id": rev.id, "doc_id": doc.id,
        "ref": doc.code, "ref_exact": doc.code.lower(), "title": doc.title,
        "body": body, "excerpt": (rev.text or body)[:EXCERPT_CHARS],
        "spell": _join(doc.title, doc.code, body),
        "department": doc.department.code if doc.department else None,
        "clauses": ",".join(clause_terms(doc.clauses)), "clause_refs": list(doc.clauses or []),
        "form": doc.code.lower() if doc.doc_type == "form" else None,
        "doc_type": doc.doc_type, "state": rev.state, "rank": 0 if current else 1,
        "revision_label": rev.label,
        "effective_from": yyyymmdd(rev.effective_date) if rev.state in HISTORIC_STATES else 0,
        "effective_to": yyyymmdd(rev.ended_on) or OPEN_END,
        "date": _local_datetime(rev.effective_date or rev.created_at),
        "confidentiality": doc.confidentiality,
        "audience": " ".join(sorted(audience | {"controllers"})),
        "tour": "yes" if tour else "no",
    })


def _value_text(field: dict, value) -> str:
    """A field value as searchable text (tables: one line per row)."""
    if value is None:
        return ""
    if field.get("type") == "checkbox" or isinstance(value, bool):
        return "是" if value else "否"
    if field.get("type") == "table" and isinstance(value, list):
        columns = field.get("columns") or []
        return "\n".join(_data_text(columns, row) for row in value if isinstance(row, dict))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _data_text(fields: list[dict], data: dict) -> str:
    """'label: value' lines for every filled field, in the form's order."""
    known = {f.get("name") for f in fields}
    lines = [f"{f.get('label', f.get('name'))}: {_value_text(f, data.get(f.get('name')))}"
             for f in fields if data.get(f.get("name")) not in (None, "", [])]
    # Values of fields the revision no longer defines are still evidence.
    lines += [f"{k}: {v}" for k, v in data.items() if k not in known and v not in (None, "", [])]
    return "\n".join(lines)


def record_fields(rec: Record) -> dict:
    """The index document of one record: number, form, every value, attachment names."""
    form = rec.form
    fields = (rec.revision.fields if rec.revision else None) or []
    data_text = _data_text(fields, rec.data or {})
    files = " ".join(a.filename for a in rec.attachments)
    body = _join(data_text, files, rec.void_reason)
    audience = _doc_audience(form)
    tour = form.status == "effective" and form.confidentiality != "confidential"
    return _clean({
        "key": f"record:{rec.id}", "kind": "record", "obj_id": rec.id, "doc_id": form.id,
        "ref": rec.number, "ref_exact": rec.number.lower(), "title": form.title,
        "body": body, "excerpt": body[:EXCERPT_CHARS], "spell": _join(form.title, body),
        "department": rec.department.code if rec.department else None,
        "clauses": ",".join(clause_terms(form.clauses)), "clause_refs": list(form.clauses or []),
        "form": form.code.lower(), "doc_type": "record", "state": rec.status,
        "rank": 0 if rec.status in ("open", "closed") else 1,
        "revision_label": rec.revision_label,
        "date": _local_datetime(rec.created_at), "confidentiality": form.confidentiality,
        # Like records.queries: a record is seen by whoever may see its form.
        "audience": " ".join(sorted(audience | {"controllers"})),
        "tour": "yes" if tour else "no",
    })


def _finding_state(finding: Finding) -> str:
    """A nonconformity is open until it has corrective actions and all are closed;
    an observation or opportunity for improvement until its audit closes."""
    if finding.classification in NONCONFORMITIES:
        done = finding.actions and all(a.state == "closed" for a in finding.actions)
    else:
        done = finding.audit.state == "closed"
    return "closed" if done else "open"


def _audit_fields(finding: Finding) -> dict:
    """What a finding and its corrective actions share: clause, department, audience."""
    audit = finding.audit
    return {"department": finding.department.code if finding.department else None,
            "clauses": ",".join(clause_terms([finding.clause])), "clause_refs": [finding.clause],
            "rank": 0, "confidentiality": "internal",
            # Every account sees audits and their actions; a certification-body reviewer
            # only those of reported audits (audit/queries.py REPORTED).
            "audience": "all controllers", "tour": "yes" if audit.state in REPORTED else "no"}


@dataclass(frozen=True)
class _LeastReader:
    """Who of all the readers of a finding sees least: an account of no department, party to
    no revision (every account reads audits), or the certification-body reviewer (reported
    audits). The domains' can_view_* rules are asked about this reader."""

    role: str
    id: int = 0
    department_id: int | None = None

    @property
    def is_read_only(self) -> bool:
        return self.role == "external_reviewer"


ANY_ACCOUNT, ANY_REVIEWER = _LeastReader("staff"), _LeastReader("external_reviewer")


def _evidence_text(finding: Finding) -> str:
    """The finding's evidence as its codes (document code, revision label, record number),
    only those every reader of the finding may see: the body is searched and its excerpt
    shown to all of them, so a hidden object's code (or id) would confirm that it exists."""
    from portal.documents.queries import can_view_document, can_view_revision
    from portal.records.queries import can_view_record

    session = object_session(finding)
    reader = ANY_REVIEWER if finding.audit.state in REPORTED else ANY_ACCOUNT
    refs = []
    for entry in finding.evidence or []:
        kind, object_id = entry.get("kind"), entry.get("id")
        model = {"document": Document, "revision": Revision, "record": Record}.get(kind)
        obj = session.get(model, object_id) if model and isinstance(object_id, int) else None
        if kind == "document" and obj is not None and can_view_document(reader, obj):
            refs.append(obj.code)
        elif kind == "revision" and obj is not None and can_view_revision(reader, obj):
            refs.append(f"{obj.document.code} {obj.label}")
        elif kind == "record" and obj is not None and can_view_record(reader, obj):
            refs.append(obj.number)
    return " ".join(refs)


def finding_fields(finding: Finding) -> dict:
    """The index document of one audit finding: statement, clause, the evidence's codes."""
    audit = finding.audit
    evidence = _evidence_text(finding)
    body = _join(finding.statement, finding.clause, evidence,
                 *(a.plan for a in finding.actions))
    return _clean({
        "key": f"finding:{finding.id}", "kind": "finding", "obj_id": finding.id, "doc_id": audit.id,
        "ref": finding.number, "ref_exact": finding.number.lower(),
        "title": f"{audit.number} {audit.title}", "body": body, "excerpt": body[:EXCERPT_CHARS],
        "spell": _join(audit.title, body), "doc_type": finding.classification,
        "state": _finding_state(finding), "date": _local_datetime(finding.created_at),
        **_audit_fields(finding),
    })


def action_fields(action: CorrectiveAction) -> dict:
    """The index document of one corrective action: containment, root cause, "could it occur
    elsewhere?", plan, outcome, and the statement of its finding."""
    finding = action.finding
    body = _join(action.containment, action.root_cause, action.occurs_elsewhere, action.plan,
                 action.completion_note, action.verification_note, finding.statement)
    fields = _audit_fields(finding)  # reviewers see an action once its audit is reported
    return _clean({
        "key": f"action:{action.id}", "kind": "action", "obj_id": action.id, "doc_id": finding.id,
        "ref": action.number, "ref_exact": action.number.lower(),
        # the finding and what is to be done; the word 纠正措施 itself would lift every action
        # above the procedures for a search of 纠正措施 (the hit's kind label already says it)
        "title": f"{finding.number} {_first_line(action.plan, ACTION_TITLE_CHARS)}", "body": body, "excerpt": body[:EXCERPT_CHARS],
        "spell": body, "doc_type": "action", "state": action.state,
        "date": _local_datetime(action.created_at), **fields,
    })


def run_fields(run: ProcedureRun) -> dict:
    """The index document of one procedure run: number, subject, steps and their records."""
    procedure = run.document
    steps = " ".join(f"{s.index + 1}. {s.name}" for s in run.steps)
    records = " ".join(s.record.number for s in run.steps if s.record is not None)
    body = _join(run.subject, steps, records, run.cancel_reason)
    # Like procedures.queries: whoever may see the procedure and the run's department; the
    # reviewer's tour, runs of a procedure it may read.
    audience = _doc_audience(procedure) | {f"dept:{run.department_id}", "controllers"}
    tour = procedure.status == "effective" and procedure.confidentiality != "confidential"
    return _clean({
        "key": f"run:{run.id}", "kind": "run", "obj_id": run.id, "doc_id": procedure.id,
        "ref": run.number, "ref_exact": run.number.lower(), "title": f"{procedure.code} {procedure.title}",
        "body": body, "excerpt": body[:EXCERPT_CHARS], "spell": _join(procedure.title, body),
        "department": run.department.code if run.department else None,
        "clauses": ",".join(clause_terms(procedure.clauses)), "clause_refs": list(procedure.clauses or []),
        "doc_type": "run", "state": run.state, "rank": 0, "revision_label": run.revision_label,
        "date": _local_datetime(run.started_at), "confidentiality": procedure.confidentiality,
        "audience": " ".join(sorted(audience)), "tour": "yes" if tour else "no",
    })


def change_request_fields(cr: ChangeRequest) -> dict:
    """The index document of one change request: reason, proposed change, decision."""
    doc = cr.document
    body = _join(cr.reason, cr.proposed_change, cr.decision_comment)
    # Like change_requests.queries: whoever may see the document (the reviewer's tour too).
    tour = doc.status == "effective" and doc.confidentiality != "confidential"
    return _clean({
        "key": f"change_request:{cr.id}", "kind": "change_request", "obj_id": cr.id, "doc_id": doc.id,
        "ref": cr.number, "ref_exact": cr.number.lower(), "title": f"{doc.code} {doc.title}",
        "body": body, "excerpt": body[:EXCERPT_CHARS], "spell": _join(doc.title, body),
        "department": doc.department.code if doc.department else None,
        "clauses": ",".join(clause_terms(doc.clauses)), "clause_refs": list(doc.clauses or []),
        "doc_type": "change_request", "state": cr.state, "rank": 0,
        "revision_label": cr.revision.label if cr.revision else None,
        "date": _local_datetime(cr.created_at), "confidentiality": doc.confidentiality,
        "audience": " ".join(sorted(_doc_audience(doc) | {"controllers"})), "tour": "yes" if tour else "no",
    })


def _change_request_options():
    return (selectinload(ChangeRequest.document).selectinload(Document.revisions).selectinload(Revision.signatures),
            selectinload(ChangeRequest.revision))


def _run_options():
    return (selectinload(ProcedureRun.document).selectinload(Document.revisions).selectinload(Revision.signatures),
            selectinload(ProcedureRun.department), selectinload(ProcedureRun.steps).selectinload(RunStep.record))


def _finding_options():
    return (selectinload(Finding.audit), selectinload(Finding.department),
            selectinload(Finding.actions))


def _action_options():
    return (selectinload(CorrectiveAction.finding).selectinload(Finding.audit),
            selectinload(CorrectiveAction.finding).selectinload(Finding.department))


def _revision_options():
    return (selectinload(Revision.signatures),
            selectinload(Revision.document).selectinload(Document.department),
            selectinload(Revision.document).selectinload(Document.revisions)
            .selectinload(Revision.signatures))


def _record_options():
    return (selectinload(Record.form).selectinload(Document.revisions).selectinload(Revision.signatures),
            selectinload(Record.revision), selectinload(Record.department), selectinload(Record.attachments))


# kind in the outbox → (model, key prefix, fields builder, loader options)
BUILDERS = {
    "revision": (Revision, "revision", revision_fields, _revision_options),
    "record": (Record, "record", record_fields, _record_options),
    "finding": (Finding, "finding", finding_fields, _finding_options),
    "action": (CorrectiveAction, "action", action_fields, _action_options),
    "run": (ProcedureRun, "run", run_fields, _run_options),
    "change_request": (ChangeRequest, "change_request", change_request_fields, _change_request_options),
    "management_review": (ManagementReview, "management_review", review_fields, review_options),
}


def expand(session, kind: str, object_id: int) -> list[tuple[str, int]]:
    """The (builder kind, id) pairs an outbox row asks to refresh.

    "document" → every revision and, for forms, every record (title, department,
    confidentiality and status live on the document). A revision of a confidential
    document → all its revisions and records: a new party may now see the older ones.
    Either → the findings citing what changed as evidence (finding_fields).
    """
    if kind == "document":
        revs = list(session.execute(select(Revision.id).where(Revision.document_id == object_id)).scalars())
        recs = list(session.execute(select(Record.id).where(Record.form_id == object_id)).scalars())
        cited = {("document", object_id)} | {("revision", r) for r in revs} | {("record", r) for r in recs}
        runs = session.execute(select(ProcedureRun.id).where(ProcedureRun.document_id == object_id)).scalars()
        return ([("revision", r) for r in revs] + [("record", r) for r in recs] + [("run", r) for r in runs]
                + _change_requests_of(session, object_id) + _citing_findings(session, cited))
    if kind == "revision":
        rev = session.get(Revision, object_id)
        findings = _citing_findings(session, {("revision", object_id)})
        if rev is not None and rev.document.confidentiality == "confidential":
            # a new party may now see the older revisions and, of a form, its records
            recs = session.execute(select(Record.id).where(Record.form_id == rev.document_id)).scalars()
            return ([("revision", r.id) for r in rev.document.revisions] + [("record", r) for r in recs]
                    + _change_requests_of(session, rev.document_id) + findings)
        return [(kind, object_id)] + findings
    return [(kind, object_id)]


def _change_requests_of(session, doc_id: int) -> list[tuple[str, int]]:
    """A document's change requests: their audience and tour follow the document's."""
    ids = session.execute(select(ChangeRequest.id).where(ChangeRequest.document_id == doc_id)).scalars()
    return [("change_request", i) for i in ids]


def _citing_findings(session, cited: set[tuple[str, int]]) -> list[tuple[str, int]]:
    """Findings whose evidence names one of `cited`: whether their index shows its code
    follows that object's visibility (finding_fields). Findings are few (tens a year), so
    their evidence lists are read whole rather than searched inside the JSON column."""
    rows = session.execute(select(Finding.id, Finding.evidence)).all()
    return [("finding", finding_id) for finding_id, evidence in rows
            if any(isinstance(e, dict) and (e.get("kind"), e.get("id")) in cited for e in evidence or [])]
