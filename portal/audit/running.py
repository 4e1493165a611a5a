"""Running an audit beyond its steps: the warnings a step gives without refusing it, the opening
and closing meeting notes (首次会议 / 末次会议) and the auditee's acknowledgement of a finding
(QP1401 4.2: 不合格报告 经责任部门负责人签字确认)."""
from flask_babel import gettext

from portal import clock
from portal.accounts.permissions import require_writer
from portal.audit import access
from portal.audit.actions import belongs_to
from portal.audit.models import Audit, Finding
from portal.errors import Conflict, InvalidState, NotAllowed
from portal.extensions import db
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

NOTES = ("opening_notes", "closing_notes")
NOTES_MAX = 8000


def N_(msgid: str) -> str:  # marks a msgid for extraction; translated when shown
    return msgid


EARLY_START = N_("The audit started on %(day)s, before its planned start %(planned)s.")
UNCHECKED = N_("Clause %(clause)s is in scope but has no checklist result or finding.")


def step_warnings(audit: Audit, step: str, english: bool = False) -> list[str]:
    """What was unusual about a step that was taken anyway: started before the planned start;
    reported with clauses in scope that nothing checked. English for the trail, else the
    reader's language."""
    found = []
    if step == "start" and audit.started_at is not None:
        day = clock.local(audit.started_at).date()
        if day < audit.planned_start:
            found.append((EARLY_START, {"day": day.isoformat(), "planned": audit.planned_start.isoformat()}))
    if step == "report":
        found += [(UNCHECKED, {"clause": clause}) for clause in unchecked_clauses(audit)]
    return [msgid % params if english else gettext(msgid, **params) for msgid, params in found]


def unchecked_clauses(audit: Audit) -> list[str]:
    """Clauses in scope with no 检查表 result and no finding."""
    covered = {i.clause for i in audit.checklist if i.result} | {x.clause for x in audit.findings}
    return [c for c in audit.clauses or [] if c not in covered]


def update_notes(actor, audit: Audit, payload: dict) -> Audit:
    """The opening and closing meeting notes, kept by the audit's auditors until it closes."""
    access.require_on_audit(actor, audit, "keep meeting notes")
    access.lock_row(audit)
    if audit.state == "closed":
        raise InvalidState(gettext("Audit %(number)s is closed; its notes are final.", number=audit.number),
                           code="audit_closed")
    f = Fields(payload)
    for name in set(f.data) - set(NOTES):
        f.fail(name, "unknown field")
    values = {name: f.text(name, NOTES_MAX) for name in NOTES if name in f.data}
    if not values and not f.errors:
        f.fail("opening_notes", "give opening_notes or closing_notes")
    f.done("Invalid meeting notes.")
    before = {name: getattr(audit, name) for name in values}
    for name, value in values.items():
        setattr(audit, name, value or None)
    trail.record(actor, "audit.notes", "audit", audit.id, before, {n: getattr(audit, n) for n in values})
    db.session.commit()
    return audit


def may_acknowledge(user, finding: Finding) -> bool:
    """Someone of the finding's department (or its manager), once (the page shows the button then)."""
    return (finding.acknowledged_at is None and not user.is_read_only
            and belongs_to(user, finding.department))


def acknowledge_finding(actor, finding: Finding) -> Finding:
    """The audited department confirms the finding, once. Allowed after closure too: a late
    signature, dated, is better evidence than none."""
    require_writer(actor)
    if not belongs_to(actor, finding.department):
        raise NotAllowed(gettext("Only someone of %(dept)s (or its manager) acknowledges this finding.",
                                 dept=finding.department.name))
    access.lock_row(finding)
    if finding.acknowledged_at is not None:
        raise Conflict(gettext("Finding %(number)s was already acknowledged.", number=finding.number),
                       code="already_acknowledged")
    finding.acknowledged_by, finding.acknowledged_at = actor, clock.now()
    trail.record(actor, "finding.acknowledge", "finding", finding.id, None,
                 {"number": finding.number, "acknowledged_by": actor.username,
                  "acknowledged_at": finding.acknowledged_at})
    enqueue("finding", finding.id)
    db.session.commit()
    return finding

