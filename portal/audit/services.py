"""Internal audit rules: the plan, the 检查表, findings, the report and closure, and the
corrective actions (纠正措施) with their verification of effectiveness."""
from datetime import datetime, time

from portal import clock, numbering
from portal.accounts import services as accounts
from portal.accounts.permissions import RUN_AUDITS, require_writer
from portal.audit import access, queries
from portal.audit.clauses import validate_clause_refs
from portal.audit.models import (CHECK_RESULTS, CLASSIFICATIONS, EVIDENCE_KINDS, NONCONFORMITIES, Audit,
                                 AuditChecklistItem, CorrectiveAction, Finding)
from portal.errors import InvalidState, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

AUDIT_PATTERN = "IA-{yyyy}-{seq:3}"
# A finding is numbered within its audit: IA-2026-001-01, IA-2026-001-02, …
FINDING_PATTERN = "{code}-{seq:2}"
ACTION_PATTERN = "CA-{yyyy}-{seq:4}"
TEXT_MAX = 4000
MAX_EVIDENCE = 20

# step → (state it needs, state it leads to, timestamp it sets): the only way an audit moves.
AUDIT_STEPS = {
    "start": ("planned", "in_progress", "started_at"),
    "report": ("in_progress", "reported", "reported_at"),
    "close": ("reported", "closed", "closed_at"),
}
# The checklist is prepared before the audit starts and filled in while it runs.
CHECKLIST_EDITABLE = ("planned", "in_progress")
ACTIONS_ASSIGNABLE = ("in_progress", "reported")


def audit_state(audit: Audit) -> dict:
    return {"number": audit.number, "title": audit.title, "state": audit.state,
            "planned_start": audit.planned_start, "planned_end": audit.planned_end,
            "departments": [d.code for d in audit.departments], "clauses": list(audit.clauses or []),
            "lead_auditor": audit.lead_auditor.username, "team": [u.username for u in audit.team]}


# --- planning ----------------------------------------------------------------------------

def create_audit(actor, payload: dict) -> Audit:
    """Plan an audit: its scope, dates and a team that never audits its own department."""
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
    _check_independence(f, lead, team, departments)
    f.done("Invalid audit.")
    # numbered in the year it is planned for, the year whose programme it covers
    number = numbering.next_number("audit", AUDIT_PATTERN, "", None, _local_noon(start))
    audit = Audit(number=number, title=title,
                  planned_start=start, planned_end=end, state="planned", clauses=refs, lead_auditor=lead,
                  departments=departments, team=[u for u in team if u.id != lead.id],
                  created_by=actor, created_at=clock.now())
    db.session.add(audit)
    db.session.flush()
    trail.record(actor, "audit.create", "audit", audit.id, None, audit_state(audit))
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


def _check_independence(f: Fields, lead, team, departments) -> None:
    """Auditors never audit their own work: nobody on the team may belong to an audited department."""
    audited = {d.id: d.code for d in departments}
    for field, people in (("lead_auditor", [lead] if lead else []), ("team", team)):
        for user in people:
            if user.department_id in audited:
                f.fail(field, f"{user.username} belongs to audited department {audited[user.department_id]}")


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
    """Write a finding against a clause and department in scope, with evidence that exists."""
    access.require_on_audit(actor, audit, "write findings")
    access.lock_row(audit)  # a report cannot slip in between the check and the new finding
    if audit.state != "in_progress":
        raise InvalidState("Findings are written only while the audit is in progress.",
                           code="audit_not_in_progress")
    f = Fields(payload)
    classification = f.choice("classification", CLASSIFICATIONS, required=True)
    clause, dept_code = f.text("clause", 100, required=True), f.text("department", 32, required=True)
    statement = f.text("statement", TEXT_MAX, required=True)
    department = _in_scope(f, audit, clause, dept_code)
    evidence = _evidence(actor, f, f.data.get("evidence"))
    f.done("Invalid finding.")
    finding = Finding(number=numbering.next_number("finding", FINDING_PATTERN, audit.number, None),
                      audit=audit, classification=classification, clause=clause, department=department,
                      statement=statement, evidence=evidence, created_by=actor, created_at=clock.now())
    db.session.add(finding)
    db.session.flush()
    trail.record(actor, "finding.create", "finding", finding.id, None,
                 {"number": finding.number, "audit": audit.number, "classification": classification,
                  "clause": clause, "department": department.code, "statement": statement, "evidence": evidence})
    enqueue("finding", finding.id)
    db.session.commit()
    return finding


def _evidence(actor, f: Fields, raw) -> list[dict]:
    """[{kind, id}] → [{kind, id, ref}]; objects the auditor cannot see count as missing."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_EVIDENCE:
        f.fail("evidence", f"a list of at most {MAX_EVIDENCE} {{kind, id}} objects")
        return []
    found = []
    for entry in raw:
        kind = entry.get("kind") if isinstance(entry, dict) else None
        object_id = entry.get("id") if isinstance(entry, dict) else None
        if kind not in EVIDENCE_KINDS or isinstance(object_id, bool) or not isinstance(object_id, int):
            f.fail("evidence", "each item is {kind: document|revision|record, id: integer}")
            return []
        ref = queries.evidence_ref(actor, kind, object_id)
        if ref is None:
            f.fail("evidence", f"{kind} {object_id} does not exist")
            return []
        found.append({"kind": kind, "id": object_id, "ref": ref})
    return found


# --- corrective actions ------------------------------------------------------------------

def action_state(action: CorrectiveAction) -> dict:
    return {"number": action.number, "finding": action.finding.number, "state": action.state,
            "owner": action.owner.username, "due_date": action.due_date, "plan": action.plan,
            "containment": action.containment, "root_cause": action.root_cause}


def open_action(actor, finding: Finding, payload: dict) -> CorrectiveAction:
    """Assign a corrective action on a finding to an owner, with a due date and a plan."""
    access.require_on_audit(actor, finding.audit, "assign corrective actions")
    access.lock_row(finding.audit)  # nor a close between the check and the new action
    if finding.audit.state not in ACTIONS_ASSIGNABLE:
        raise InvalidState(f"Audit {finding.audit.number} is {finding.audit.state}; "
                           "corrective actions are assigned once it runs and until it closes.",
                           code="audit_not_open_for_actions")
    f = Fields(payload)
    owner = _owner(f, f.text("owner", 64, required=True))
    due = f.day("due_date", required=True)
    texts = {name: f.text(name, TEXT_MAX) or None for name in ("containment", "root_cause")}
    plan = f.text("plan", TEXT_MAX, required=True)
    if due and due < clock.today():
        f.fail("due_date", "in the past")
    f.done("Invalid corrective action.")
    action = CorrectiveAction(number=numbering.next_number("action", ACTION_PATTERN, "", None),
                              finding=finding, owner=owner, due_date=due, plan=plan, state="open",
                              created_by=actor, created_at=clock.now(), **texts)
    db.session.add(action)
    db.session.flush()
    trail.record(actor, "action.create", "action", action.id, None, action_state(action))
    _enqueue_action(action)
    db.session.commit()
    return action


def _owner(f: Fields, username: str | None):
    if not username:
        return None
    user = _resolve(f, "owner", username, lambda name: accounts.user_by_username(name, "owner"))
    if user is not None and (not user.is_active or user.is_read_only):
        f.fail("owner", f"{username} cannot own corrective actions")
    return user


def _enqueue_action(action: CorrectiveAction) -> None:
    enqueue("action", action.id)
    enqueue("finding", action.finding_id)  # a finding is open while any of its actions is


def complete_action(actor, action: CorrectiveAction, payload: dict) -> CorrectiveAction:
    """The owner reports the action done; an auditor then verifies its effectiveness."""
    require_writer(actor)
    if actor.id != action.owner_id:
        raise NotAllowed("Only the action's owner may complete it.")
    access.lock_row(action)
    if action.state != "open":
        raise InvalidState(f"Corrective action {action.number} is {action.state}, not open.",
                           code="action_not_open")
    f = Fields(payload)
    note = f.text("note", TEXT_MAX, required=True)
    f.done("Describe what was done.")
    action.state, action.completed_at, action.completion_note = "completed", clock.now(), note
    trail.record(actor, "action.complete", "action", action.id, {"state": "open"},
                 {"state": "completed", "note": note})
    _enqueue_action(action)
    db.session.commit()
    return action


def verify_action(actor, action: CorrectiveAction, payload: dict) -> CorrectiveAction:
    """An auditor other than the owner judges effectiveness: closed, or back to open."""
    access.require_auditor(actor, "verify corrective actions")
    if actor.id == action.owner_id:
        raise NotAllowed("The owner of a corrective action cannot verify it.")
    # any independent auditor may verify, later too; never one from the audited department
    reason = access.not_independent(actor, action.finding.audit)
    if reason:
        raise NotAllowed(f"{reason}; {actor.username} may not verify its corrective actions.")
    access.lock_row(action)
    if action.state != "completed":
        raise InvalidState(f"Corrective action {action.number} is {action.state}; only a completed "
                           "action can be verified.", code="action_not_completed")
    f = Fields(payload)
    effective = f.data.get("effective")
    if not isinstance(effective, bool):
        f.fail("effective", "must be true or false")
    note = f.text("note", TEXT_MAX, required=True)
    f.done("Invalid verification.")
    now = clock.now()
    action.state = "closed" if effective else "open"
    action.verified_effective, action.verification_note = effective, note
    action.verified_by, action.verified_at = actor, now
    action.closed_at = now if effective else None
    trail.record(actor, "action.verify", "action", action.id, {"state": "completed"},
                 {"state": action.state, "effective": effective}, note)
    _enqueue_action(action)
    db.session.commit()
    return action
