"""The auditor register (内审员名册) and the independence of an audit team (ISO 9001 9.2.2 c):
who may audit which standard until when, and who may not audit what they belong to or wrote."""
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, union

from portal import clock
from portal.accounts.models import User
from portal.accounts.permissions import ADMINISTER, RUN_AUDITS, is_controller, require_role
from portal.audit.models import Audit, AuditorQualification, Clause
from portal.documents.serializers import iso
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db
from portal.trail import services as trail
from portal.validation import Fields

NOTE_MAX = 2000
REASON_MAX = 2000
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
QUALIFICATION_FIELDS = ("standards", "qualified_until", "note")


def catalogue_standards() -> list[str]:
    return list(db.session.execute(select(Clause.standard).distinct().order_by(Clause.standard)).scalars())


def standard_of(ref: str) -> str:
    """'ISO 9001:2015 7.5.3' → 'ISO 9001:2015' (standard names hold spaces, numbers never)."""
    return ref.rpartition(" ")[0]


def qualification_of(user) -> AuditorQualification | None:
    return db.session.get(AuditorQualification, user.id)


def is_valid(row: AuditorQualification | None, standards, on: date) -> bool:
    """Qualified on day `on` for every one of `standards`."""
    return row is not None and row.qualified_until >= on and set(standards) <= set(row.standards or [])


def qualification_state(row: AuditorQualification | None) -> dict | None:
    if row is None:
        return None
    return {"standards": list(row.standards or []), "qualified_until": row.qualified_until, "note": row.note}


def qualification_json(row: AuditorQualification | None) -> dict | None:
    """The `auditor` of a user's JSON: null when they were never registered."""
    if row is None:
        return None
    return {"standards": list(row.standards or []), "qualified_until": iso(row.qualified_until),
            "note": row.note, "valid": row.qualified_until >= clock.today(),
            "updated_by": row.updated_by.username, "updated_at": iso(row.updated_at)}


# --- the register -------------------------------------------------------------------------------

def parse_qualification(payload, prefix: str = "auditor.") -> dict | None:
    """{standards, qualified_until, note?} checked, or None (null: the qualification is
    withdrawn). Field errors are named `prefix` + field."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise ValidationFailed(_("The auditor qualification must be an object {standards, qualified_until, "
                                 "note} or null."), fields={prefix.rstrip("."): "an object or null"})
    f = Fields(payload)
    for key in sorted(payload.keys() - set(QUALIFICATION_FIELDS)):
        f.fail(str(key)[:64], "unknown field")
    standards = f.string_list("standards", 20, 60)
    if not standards and "standards" not in f.errors:
        f.fail("standards", "at least one standard")
    known = catalogue_standards()
    unknown = [s for s in standards or [] if s not in known]
    if unknown:
        f.fail("standards", "not in the clause catalogue: " + ", ".join(unknown[:5]))
    until = f.day("qualified_until", required=True)
    if until and not FIRST_DAY <= until <= LAST_DAY:
        f.fail("qualified_until", f"between {FIRST_DAY} and {LAST_DAY}")
    note = f.text("note", NOTE_MAX)
    if f.errors:
        fields = {prefix + name: why for name, why in f.errors.items()}
        raise ValidationFailed(_("Invalid auditor qualification.") + " " +
                               "; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    return {"standards": list(dict.fromkeys(standards)), "qualified_until": until, "note": note or None}


def set_qualification(actor, user: User, values: dict | None, commit: bool = True) -> AuditorQualification | None:
    """Register or change a qualification (values from parse_qualification), or withdraw it
    (None): its end date becomes yesterday, so the register and the trail keep what it was.
    `commit=False` leaves the commit to the caller (PATCH /users changes the user with it)."""
    require_role(actor, ADMINISTER, "keep the auditor register")
    if user.is_read_only:
        raise ValidationFailed(_("An external reviewer cannot be an internal auditor."),
                               code="read_only_auditor", fields={"auditor": "external reviewer"})
    row = db.session.get(AuditorQualification, user.id, with_for_update=True)
    before = qualification_state(row)
    if values is None:
        if row is None or row.qualified_until < clock.today():
            return row
        row.qualified_until = clock.today() - timedelta(days=1)
        action = "user.auditor_withdraw"
    else:
        if row is None:
            row = AuditorQualification(user_id=user.id)
            db.session.add(row)
        row.standards, row.qualified_until, row.note = values["standards"], values["qualified_until"], values["note"]
        action = "user.auditor_qualify"
    if qualification_state(row) == before:
        return row
    row.updated_by, row.updated_at = actor, clock.now()
    trail.record(actor, action, "user", user.id, before, qualification_state(row))
    if commit:
        db.session.commit()
    return row


def register(user) -> list[dict]:
    """Every registered auditor with their audits of this year that `user` may see."""
    from portal.audit.queries import audit_query

    rows = db.session.execute(select(AuditorQualification).join(User, AuditorQualification.user_id == User.id)
                              .order_by(User.username)).scalars().all()
    audits = db.session.execute(audit_query(user, year=clock.today().year)).scalars().all()
    today = clock.today()
    return [{"user": row.user, "qualification": row, "expired": row.qualified_until < today,
             "audits": sorted((a for a in audits if row.user in a.auditors), key=lambda a: a.number)}
            for row in rows]


def register_json(entry: dict) -> dict:
    user = entry["user"]
    return {"username": user.username, "name": user.display_name, "role": user.role,
            "department": user.department_code, "active": user.is_active,
            "auditor": qualification_json(entry["qualification"]),
            "audits": [{"id": a.id, "number": a.number, "state": a.state} for a in entry["audits"]]}


# --- the team of an audit -----------------------------------------------------------------------

def check_team(actor, f: Fields, lead, team, departments, refs, start: date | None) -> dict:
    """Note on `f` every lead or team member not qualified for the audit's standards on its
    first day, or not independent of it (a member of an audited department, or the author
    or a signer of one of its documents) unless a controller justified it. Returns the
    justification's columns for the audit (none without one)."""
    reason = _justification(actor, f, f.data.get("independence_override"))
    standards = sorted({standard_of(r) for r in refs or []})
    day = start or clock.today()
    people = [u for u in [lead, *team] if u is not None]
    wrote = document_departments(people, departments) if reason is None else {}
    audited = {d.id: d.code for d in departments}
    for field, members in (("lead_auditor", [lead] if lead else []), ("team", team)):
        problems = []
        for user in members:
            row = qualification_of(user)
            if not is_valid(row, standards, day):
                problems.append(_unqualified(user, row, standards, day))
            elif reason is None and user.department_id in audited:
                problems.append(f"{user.username} belongs to audited department {audited[user.department_id]}")
            elif reason is None and wrote.get(user.id):
                codes = ", ".join(sorted(audited[d] for d in wrote[user.id]))
                problems.append(f"{user.username} wrote or signed documents of audited department {codes}")
        if problems:
            f.fail(field, "; ".join(([f.errors[field]] if field in f.errors else []) + problems))
    if reason is None:
        return {}
    return {"independence_reason": reason, "independence_by": actor, "independence_at": clock.now()}


def _unqualified(user, row, standards, day: date) -> str:
    if row is None:
        return f"{user.username} is not a registered auditor"
    if row.qualified_until < day:
        return f"{user.username} is qualified only until {row.qualified_until}"
    missing = sorted(set(standards) - set(row.standards or []))
    return f"{user.username} is not qualified for {', '.join(missing)}"


def _justification(actor, f: Fields, raw) -> str | None:
    """The controller's `independence_override: {reason}`, or None when there is none."""
    if raw is None:
        return None
    if not is_controller(actor):
        raise NotAllowed(_("Only a document controller may justify an auditor who is not independent."),
                         code="not_controller")
    reason = raw.get("reason") if isinstance(raw, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        f.fail("independence_override", "an object {reason} with the justification")
        return None
    check = Fields({"independence_override": reason})
    reason = check.text("independence_override", REASON_MAX)
    f.errors.update(check.errors)
    return None if check.errors else reason


def document_departments(people, departments) -> dict[int, set[int]]:
    """user id → the ids of those `departments` owning a document of which the user wrote or
    signed a revision, in one query."""
    from portal.documents.models import Document, Revision, Signature

    user_ids, dept_ids = [u.id for u in people], [d.id for d in departments]
    if not user_ids or not dept_ids:
        return {}
    authored = (select(Revision.author_id.label("user_id"), Document.department_id)
                .join(Document, Revision.document_id == Document.id)
                .where(Revision.author_id.in_(user_ids), Document.department_id.in_(dept_ids)))
    signed = (select(Signature.signer_id.label("user_id"), Document.department_id)
              .join(Revision, Signature.revision_id == Revision.id)
              .join(Document, Revision.document_id == Document.id)
              .where(Signature.signer_id.in_(user_ids), Signature.signed_at.is_not(None),
                     Document.department_id.in_(dept_ids)))
    found: dict[int, set[int]] = {}
    for user_id, dept_id in db.session.execute(union(authored, signed)):
        found.setdefault(user_id, set()).add(dept_id)
    return found


def record_justification(actor, audit: Audit) -> None:
    """The trail entry of a controller's independence justification (in the caller's transaction)."""
    if audit.independence_reason:
        trail.record(actor, "audit.independence_justified", "audit", audit.id, None,
                     {"auditors": [u.username for u in audit.auditors], "reason": audit.independence_reason},
                     audit.independence_reason)


def justification_json(audit: Audit) -> dict | None:
    if not audit.independence_reason:
        return None
    return {"reason": audit.independence_reason, "by": audit.independence_by.username,
            "at": iso(audit.independence_at)}


def candidates() -> list[User]:
    """Active accounts that may be put on an audit and hold a qualification."""
    rows = db.session.execute(select(User).join(AuditorQualification, AuditorQualification.user_id == User.id)
                              .where(User.role.in_(RUN_AUDITS)).order_by(User.username)).scalars().all()
    return [u for u in rows if u.is_active]
