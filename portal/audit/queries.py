"""Read side of internal audits: who sees what, listings, the audit programme."""
import re

from sqlalchemy import extract, func, select, true

from portal.accounts.models import Department, User
from portal.audit.models import EVIDENCE_KINDS, Audit, AuditChecklistItem, CorrectiveAction, Finding
from portal.errors import BadRequest, NotFound, ValidationFailed
from portal.extensions import db
from portal.validation import MAX_ID, parse_id

# A certification-body reviewer sees audit reports, never audits still being planned or run.
REPORTED = ("reported", "closed")


def can_view_audit(user, audit: Audit) -> bool:
    return not user.is_read_only or audit.state in REPORTED


def audits_visible_to(user):
    """The SQL condition on Audit of can_view_audit (the two are tested equal)."""
    return Audit.state.in_(REPORTED) if user.is_read_only else true()


def findings_visible_to(user):
    """The SQL condition on Finding: a finding is seen with its audit."""
    return Finding.audit_id.in_(select(Audit.id).where(audits_visible_to(user)))


def actions_visible_to(user):
    """The SQL condition on CorrectiveAction: an action is seen with its finding."""
    return CorrectiveAction.finding_id.in_(select(Finding.id).where(findings_visible_to(user)))


def get_audit(user, audit_id: int) -> Audit:
    audit = db.session.get(Audit, audit_id)
    if audit is None or not can_view_audit(user, audit):
        raise NotFound("No such audit.")
    return audit


def get_checklist_item(user, audit_id: int, item_id: int) -> AuditChecklistItem:
    audit = get_audit(user, audit_id)
    item = db.session.get(AuditChecklistItem, item_id)
    if item is None or item.audit_id != audit.id:
        raise NotFound("No such checklist item in this audit.")
    return item


def get_finding(user, finding_id: int) -> Finding:
    finding = db.session.get(Finding, finding_id)
    if finding is None or not can_view_audit(user, finding.audit):
        raise NotFound("No such finding.")
    return finding


def get_action(user, action_id: int) -> CorrectiveAction:
    """Corrective actions are open to every account; the certification-body reviewer sees
    them, like the findings they answer, once their audit is reported."""
    action = db.session.get(CorrectiveAction, action_id)
    if action is None or not can_view_audit(user, action.finding.audit):
        raise NotFound("No such corrective action.")
    return action


def audit_query(user, state: str | None = None, year: int | None = None):
    """A select() of the audits the user may see, latest planned first."""
    query = select(Audit).order_by(Audit.planned_start.desc(), Audit.id.desc())
    if state:
        query = query.where(Audit.state == state)
    if year:
        query = query.where(extract("year", Audit.planned_start) == year)
    return query.where(audits_visible_to(user))


def action_query(user, state: str | None = None, owner: str | None = None):
    """A select() of the corrective actions the user may see, due soonest first."""
    query = select(CorrectiveAction).order_by(CorrectiveAction.due_date, CorrectiveAction.id)
    query = query.where(actions_visible_to(user))
    if state:
        query = query.where(CorrectiveAction.state == state)
    if owner:
        query = query.join(User, CorrectiveAction.owner_id == User.id).where(
            func.lower(User.username) == owner.lower())
    return query


def programme(user, year: int) -> dict:
    """Coverage of every active department × every clause in the year's audit scopes:
    audited (an audit reported or closed), planned (planned or running) or not covered."""
    if not 1900 <= year <= 9999:
        raise BadRequest("The year must be between 1900 and 9999.", code="bad_parameter")
    audits = db.session.execute(audit_query(user, year=year)).scalars().all()
    departments = db.session.execute(select(Department).where(Department.active.is_(True))
                                     .order_by(Department.code)).scalars().all()
    clauses = sorted({ref for a in audits for ref in a.clauses or []}, key=_clause_key)
    cells = []
    for dept in departments:
        for ref in clauses:
            covering = [a for a in audits if ref in (a.clauses or []) and dept in a.departments]
            cells.append({"department": dept.code, "clause": ref, "status": _coverage(covering),
                          "audits": [a.number for a in covering]})
    summary = {status: sum(1 for c in cells if c["status"] == status)
               for status in ("audited", "planned", "not_covered")}
    return {"year": year, "departments": departments, "clauses": clauses, "cells": cells,
            "audits": audits, "summary": summary}


def _coverage(audits: list[Audit]) -> str:
    if any(a.state in REPORTED for a in audits):
        return "audited"
    return "planned" if audits else "not_covered"


def _clause_key(ref: str):
    standard, _, number = ref.rpartition(" ")
    return standard, [int(p) if p.isdecimal() else 0 for p in number.split(".")]


def evidence_ref(user, kind: str, object_id: int) -> str | None:
    """The code, label or number of a document, revision or record `user` may see; else None."""
    from portal.documents import queries as documents
    from portal.records import queries as records

    if not 1 <= object_id <= MAX_ID:
        return None
    try:
        if kind == "document":
            return documents.get_document(user, object_id).code
        if kind == "revision":
            rev = documents.get_revision(user, object_id)
            return f"{rev.document.code} {rev.label}"
        return records.get_record(user, object_id).number
    except NotFound:
        return None


def evidence_for(user, finding: Finding) -> list[dict]:
    """A finding's evidence as `user` may see it."""
    return visible_evidence(user, finding.evidence)


def visible_evidence(user, evidence) -> list[dict]:
    """Evidence references ([{kind, id, ref}], of a finding or of its trail entry) as `user` may
    see them. A reference to something hidden from them (a confidential document, a draft) keeps
    its kind only: its code would tell them it exists."""
    return [e if (isinstance(e, dict) and e.get("kind") in EVIDENCE_KINDS
                  and evidence_ref(user, e["kind"], _evidence_id(e)) is not None)
            else {"kind": e.get("kind") if isinstance(e, dict) else None, "id": None, "ref": None,
                  "restricted": True}
            for e in evidence or []]


def _evidence_id(entry: dict) -> int:
    value = entry.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def evidence_from_refs(user, text: str) -> list[dict]:
    """Evidence typed in the browser: record numbers, document codes or kind:id, separated
    by spaces or commas → [{kind, id}] (the finding service then checks each one)."""
    from portal.documents.models import Document
    from portal.documents.queries import code_is
    from portal.records.models import Record

    found = []
    for token in re.split(r"[\s,，、;；]+", text or ""):
        kind, _, raw_id = token.partition(":")
        if kind in EVIDENCE_KINDS and raw_id.isdecimal():  # an absurd id reads as missing (0)
            found.append({"kind": kind, "id": parse_id(raw_id) or 0})
        elif token:
            record = db.session.execute(select(Record.id).where(Record.number == token)).scalar()
            document = db.session.execute(select(Document.id).where(code_is(token))).scalar()
            # what the user may not see reads as unknown, not as "exists but hidden"
            record = record if record and evidence_ref(user, "record", record) else None
            document = document if document and evidence_ref(user, "document", document) else None
            if record is None and document is None:
                raise ValidationFailed(f"Unknown evidence reference {token}.", code="unknown_evidence",
                                       fields={"evidence": f"unknown reference {token}"})
            found.append({"kind": "record", "id": record} if record else {"kind": "document", "id": document})
    return found
