"""Who may act on an audit: the roles that audit, the independence of auditors from the
departments they audit, and the row lock taken before a state check."""
from portal.accounts.permissions import RUN_AUDITS, require_role, require_writer
from portal.audit.models import Audit
from portal.errors import NotAllowed
from portal.extensions import db


def require_auditor(actor, what: str) -> None:
    require_writer(actor)
    require_role(actor, RUN_AUDITS, what)


def may_audit(actor) -> bool:
    """require_auditor as a question (pages show the planning forms only then)."""
    return not actor.is_read_only and actor.role in RUN_AUDITS


def require_on_audit(actor, audit: Audit, what: str) -> None:
    require_auditor(actor, what)
    reason = _why_not_on_audit(actor, audit)
    if reason:
        raise NotAllowed(f"{reason}; {actor.username} may not {what} in it.")


def not_independent(actor, audit: Audit) -> str | None:
    audited = {d.id: d.code for d in audit.departments}
    if actor.department_id in audited:
        return f"Audit {audit.number} audits {audited[actor.department_id]}, the actor's own department"
    return None


def _why_not_on_audit(actor, audit: Audit) -> str | None:
    """An audit is run by its own lead and team (or a controller or admin), and never by anyone
    from a department it audits: independence holds for every step, not only for the plan."""
    reason = not_independent(actor, audit)
    # a controller's justification (Audit.independence_reason) lets the team it named run it
    if reason and not (audit.independence_reason and actor in audit.auditors):
        return reason
    if actor.role == "auditor" and actor.id != audit.lead_auditor_id and actor not in audit.team:
        return f"Only the auditors of audit {audit.number} run it"
    return None


def may_run_audit(actor, audit: Audit) -> bool:
    """Whether `actor` may take the audit's steps (the page shows its forms only then)."""
    return may_audit(actor) and _why_not_on_audit(actor, audit) is None


def lock_row(obj):
    """Re-read a row FOR UPDATE before checking its state, so that two requests cannot both
    pass the check and both move it (PostgreSQL; on SQLite the re-read starts the write
    transaction with BEGIN IMMEDIATE, portal.database)."""
    db.session.refresh(obj, with_for_update=True)
    return obj
