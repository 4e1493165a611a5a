"""Internal audit rules: the plan, the 检查表, findings, the report and closure. Corrective
actions (纠正措施) are in portal/audit/actions.py, meeting notes and acknowledgements in
portal/audit/running.py."""
from datetime import datetime, time

from flask_babel import gettext as _

from portal import clock, numbering
from portal.accounts import services as accounts
from portal.accounts.permissions import RUN_AUDITS
from portal.audit import access, evidence_refs, programme, qualification, queries
# callers know the corrective-action services as services.*
from portal.audit.actions import TEXT_MAX, action_state, complete_action, open_action, verify_action  # noqa: F401
from portal.audit.clauses import validate_clause_refs
from portal.audit.models import (CHECK_RESULTS, CLASSIFICATIONS, EVIDENCE_KINDS, NONCONFORMITIES, Audit,
                                 AuditChecklistItem, Finding)
from portal.audit.running import step_warnings
from portal.errors import Conflict, InvalidState, ValidationFailed
from portal.extensions import db
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import MAX_ID, Fields

AUDIT_PATTERN = "IA-{yyyy}-{seq:3}"
# A finding is numbered within its audit: IA-2026-001-01, IA-2026-001-02, …
FINDING_PATTERN = "{code}-{seq:2}"
MAX_EVIDENCE = 20

# step → (state it needs, state it leads to, timestamp it sets): the only way an audit moves.
AUDIT_STEPS = {
    "start": ("planned", "in_progress", "started_at"),
    "report": ("in_progress", "reported", "reported_at"),
    "close": ("reported", "closed", "closed_at"),
}
# The checklist is prepared before the audit starts and filled in while it runs.
CHECKLIST_EDITABLE = ("planned", "in_progress")
# A finding is raised from a 检查表 row that found something.
FINDING_RESULTS = ("nonconforming", "observation")


def audit_state(audit: Audit) -> dict:
    return {"number": audit.number, "title": audit.title, "state": audit.state,
            "planned_start": audit.planned_start, "planned_end": audit.planned_end,
            "departments": [d.code for d in audit.departments], "clauses": list(audit.clauses or []),
            "lead_auditor": audit.lead_auditor.username, "team": [u.username for u in audit.team],
            "kind": audit.kind, "reason": audit.ad_hoc_reason}


# --- planning ----------------------------------------------------------------------------

def create_audit(actor, payload: dict) -> Audit:
    """Plan an audit: its scope, dates and a qualified team that never audits its own
    department or documents (portal/audit/qualification.py), of the programme or ad hoc."""
    access.require_auditor(actor, "plan audits")
    f = Fields(payload)
    title = f.text("title", 300, required=True)
    start, end = f.day("planned_start", required=True), f.day("planned_end", required=True)
    departments = [d for d in (_resolve(f, "departments", code, accounts.department_by_code)
                               for code in _required_list(f, "departments", 50, 32)) if d]
    refs = _clauses(f, _required_list(f, "clauses", 200, 100))
    lead = _auditor(f, "lead_auditor", f.text("lead_auditor", 64, required=True))
    names = dict.fromkeys(f.string_list("team", 20, 64, default=[]) or [])
    team = [u for u in (_auditor(f, "team", name) for name in names) if u]
    if start and end and end < start:
        f.fail("planned_end", "before planned_start")
    extras = {**programme.audit_kind(f),
              **qualification.check_team(actor, f, lead, team, departments, refs, start)}
    f.done("Invalid audit.")
    # numbered in the year it is planned for, the year whose programme it covers
    number = numbering.next_number("audit", AUDIT_PATTERN, "", None, _local_noon(start))
    audit = Audit(number=number, title=title,
                  planned_start=start, planned_end=end, state="planned", clauses=refs, lead_auditor=lead,
                  departments=departments, team=[u for u in team if u.id != lead.id],
                  created_by=actor, created_at=clock.now(), **extras)
    db.session.add(audit)
    db.session.flush()
    trail.record(actor, "audit.create", "audit", audit.id, None, audit_state(audit))
    qualification.record_justification(actor, audit)
    db.session.commit()
    return audit


def _local_noon(day):
    return datetime.combine(day, time(12), tzinfo=clock.zone())


def _required_list(f: Fields, name: str, max_items: int, max_len: int) -> list[str]:
    values = f.string_list(name, max_items, max_len)
    if not values and name not in f.errors:
        f.fail(name, "required")
    return list(dict.fromkeys(values or []))


def _resolve(f: Fields, name: str, key: str, lookup):
    """lookup(key), or None with the reason noted against `name`."""
    try:
        return lookup(key)
    except ValidationFailed as exc:
        f.fail(name, exc.message)
        return None


def _clauses(f: Fields, refs: list[str]) -> list[str]:
    if not refs:
        return []
    return _resolve(f, "clauses", refs, validate_clause_refs) or []


def _auditor(f: Fields, field: str, username: str | None):
    """An active account that may audit (auditor, controller or admin)."""
    if not username:
        return None
    user = _resolve(f, field, username, lambda name: accounts.user_by_username(name, field))
    if user is not None and (not user.is_active or user.role not in RUN_AUDITS):
        f.fail(field, f"{username} is not an active auditor")
        return None
    return user


# --- running -----------------------------------------------------------------------------

def advance_audit(actor, audit: Audit, step: str, payload: dict | None = None) -> Audit:
    """Start, report or close an audit, strictly in the order planned → in_progress → reported → closed."""
    access.require_on_audit(actor, audit, "run audits")
    access.lock_row(audit)
    source, target, stamp = AUDIT_STEPS[step]
    if audit.state != source:
        raise InvalidState(f"Audit {audit.number} is {audit.state}; only a {source} audit can {step}.",
                           code="invalid_transition")
    after = {"state": target}
    if step == "report":
        after.update(_report_text(audit, payload or {}))
    if step == "close":
        _require_actions_on_nonconformities(audit)
    audit.state = target
    setattr(audit, stamp, clock.now())
    warnings = step_warnings(audit, step, english=True)
    if warnings:  # early or incomplete, and done anyway: the record says so
        after["warnings"] = warnings
    trail.record(actor, f"audit.{step}", "audit", audit.id, {"state": source}, after)
    for finding in audit.findings:  # who may see findings and actions follows the audit's state
        enqueue("finding", finding.id)
        for action in finding.actions:
            enqueue("action", action.id)
    db.session.commit()
    return audit


def _report_text(audit: Audit, payload: dict) -> dict:
    f = Fields(payload)
    summary, conclusion = f.text("summary", TEXT_MAX), f.text("conclusion", TEXT_MAX)
    f.done("Invalid audit report.")
    changed = {}
    for name, value in (("summary", summary), ("conclusion", conclusion)):
        if value:
            setattr(audit, name, value)
            changed[name] = value
    return changed


def _require_actions_on_nonconformities(audit: Audit) -> None:
    missing = [x.number for x in audit.findings if x.classification in NONCONFORMITIES and not x.actions]
    if missing:
        raise InvalidState(f"Every nonconformity needs a corrective action first: {', '.join(missing)}.",
                           code="finding_without_action")


def add_checklist_item(actor, audit: Audit, payload: dict) -> AuditChecklistItem:
    """Add a question to the 检查表 for a clause and department in the audit's scope."""
    access.require_on_audit(actor, audit, "prepare checklists")
    access.lock_row(audit)
    if audit.state not in CHECKLIST_EDITABLE:
        raise InvalidState(f"Audit {audit.number} is {audit.state}; its checklist is final.",
                           code="checklist_final")
    f = Fields(payload)
    clause, dept_code = f.text("clause", 100, required=True), f.text("department", 32, required=True)
    question = f.text("question", TEXT_MAX, required=True)
    department = _in_scope(f, audit, clause, dept_code)
    f.done("Invalid checklist item.")
    item = AuditChecklistItem(audit=audit, clause=clause, department=department, question=question,
                              created_by=actor, created_at=clock.now())
    db.session.add(item)
    db.session.flush()
    trail.record(actor, "audit.checklist_add", "audit", audit.id, None,
                 {"item_id": item.id, "clause": clause, "department": department.code, "question": question})
    db.session.commit()
    return item


def _in_scope(f: Fields, audit: Audit, clause: str | None, dept_code: str | None):
    """The audited department named `dept_code`; notes a clause or department outside the scope."""
    if clause and clause not in (audit.clauses or []):
        f.fail("clause", "not in the audit's scope")
    department = next((d for d in audit.departments if d.code == dept_code), None)
    if dept_code and department is None:
        f.fail("department", "not audited in this audit")
    return department


def record_check_result(actor, item: AuditChecklistItem, payload: dict) -> AuditChecklistItem:
    """Record what the auditor found for one checklist question, while the audit runs."""
    access.require_on_audit(actor, item.audit, "record checklist results")
    access.lock_row(item.audit)
    if item.audit.state != "in_progress":
        raise InvalidState("Results are recorded only while the audit is in progress.",
                           code="audit_not_in_progress")
    f = Fields(payload)
    result = f.choice("result", CHECK_RESULTS, required=True)
    notes = f.text("notes", TEXT_MAX)
    f.done("Invalid checklist result.")
    before = {"item_id": item.id, "result": item.result, "notes": item.notes}
    item.result, item.notes, item.auditor, item.checked_at = result, notes or None, actor, clock.now()
    trail.record(actor, "audit.checklist_result", "audit", item.audit_id, before,
                 {"item_id": item.id, "result": result, "notes": item.notes})
    db.session.commit()
    return item


def raise_finding(actor, audit: Audit, payload: dict) -> Finding:
    """Write a finding against a clause and department in scope, with evidence that exists; from
    a 检查表 row (`checklist_item_id`) it takes that row's clause and department by default."""
    access.require_on_audit(actor, audit, "write findings")
    access.lock_row(audit)  # a report cannot slip in between the check and the new finding
    if audit.state != "in_progress":
        raise InvalidState("Findings are written only while the audit is in progress.",
                           code="audit_not_in_progress")
    f = Fields(payload)
    item = _checklist_row(f, audit)
    classification = f.choice("classification", CLASSIFICATIONS, required=True)
    clause = f.text("clause", 100, required=item is None) or (item.clause if item else None)
    dept_code = f.text("department", 32, required=item is None) or (item.department.code if item else None)
    statement = f.text("statement", TEXT_MAX, required=True)
    department = _in_scope(f, audit, clause, dept_code)
    if item is not None and (clause, dept_code) != (item.clause, item.department.code):
        f.fail("checklist_item_id", "its clause and department differ from the finding's")
    evidence, frozen = _evidence(actor, f, f.data.get("evidence"))
    f.done("Invalid finding.")
    finding = Finding(number=numbering.next_number("finding", FINDING_PATTERN, audit.number, None),
                      audit=audit, classification=classification, clause=clause, department=department,
                      statement=statement, evidence=evidence, checklist_item=item,
                      created_by=actor, created_at=clock.now())
    db.session.add(finding)
    db.session.flush()
    trail.record(actor, "finding.create", "finding", finding.id, None,
                 {"number": finding.number, "audit": audit.number, "classification": classification,
                  "clause": clause, "department": department.code, "statement": statement, "evidence": evidence,
                  "checklist_item_id": item.id if item else None})
    if frozen:
        from portal.search.evidence import _link  # the basket's own link and trail entry

        for basket_item in frozen:
            access.lock_row(basket_item)
            if basket_item.finding_id or basket_item.checklist_item_id:
                raise Conflict(_("Frozen search #%(id)s is already attached.", id=basket_item.id),
                               code="already_attached")
            _link(actor, basket_item, finding)
    enqueue("finding", finding.id)
    db.session.commit()
    return finding


def _checklist_row(f: Fields, audit: Audit):
    """The 检查表 row a finding is raised from: one of this audit's, with something found."""
    item_id = f.integer("checklist_item_id", 1, MAX_ID)
    if item_id is None:
        return None
    item = db.session.get(AuditChecklistItem, item_id)
    if item is None or item.audit_id != audit.id:
        f.fail("checklist_item_id", "no such checklist item in this audit")
        return None
    if item.result not in FINDING_RESULTS:
        f.fail("checklist_item_id", "its result is not nonconforming (nor an observation)")
        return None
    return item


def _evidence(actor, f: Fields, raw) -> tuple[list[dict], list]:
    """[{kind, id}] or [{ref: "QP0501 A/1"}] → ([{kind, id, ref}], frozen searches to attach);
    objects the auditor cannot see count as missing."""
    if raw is None:
        return [], []
    if not isinstance(raw, list) or len(raw) > MAX_EVIDENCE:
        f.fail("evidence", f"a list of at most {MAX_EVIDENCE} {{kind, id}} or {{ref}} objects")
        return [], []
    found, frozen = [], []
    for entry in raw:
        resolved = _evidence_entry(actor, f, entry)
        if resolved is None:
            return [], []
        kind, value = resolved
        if kind == "frozen":
            frozen.append(value)
        elif value not in found:
            found.append(value)
    return found, list(dict.fromkeys(frozen))


def _evidence_entry(actor, f: Fields, entry):
    """("evidence", {kind, id, ref}) or ("frozen", basket item); None with the reason noted."""
    if isinstance(entry, dict) and isinstance(entry.get("ref"), str) and set(entry) == {"ref"}:
        resolved = evidence_refs.resolve(actor, entry["ref"])
        if resolved is None:
            f.fail("evidence", evidence_refs.unknown_message(entry["ref"]))
            return None
        kind, value = resolved
        if kind == "frozen" and (value.finding_id or value.checklist_item_id):
            f.fail("evidence", f"frozen search #{value.id} is already attached")
            return None
        if kind == "evidence":
            value = {**value, "ref": queries.evidence_ref(actor, value["kind"], value["id"])}
        return kind, value
    kind = entry.get("kind") if isinstance(entry, dict) else None
    object_id = entry.get("id") if isinstance(entry, dict) else None
    if kind not in EVIDENCE_KINDS or isinstance(object_id, bool) or not isinstance(object_id, int):
        f.fail("evidence", "each item is {kind: document|revision|record, id: integer} or {ref: code}")
        return None
    ref = queries.evidence_ref(actor, kind, object_id)
    if ref is None:
        f.fail("evidence", f"{kind} {object_id} does not exist")
        return None
    return "evidence", {"kind": kind, "id": object_id, "ref": ref}
