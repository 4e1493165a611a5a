"""The annual internal audit programme (年度内审方案): the year's scope (objectives, criteria,
standards, departments, clauses), its approval with password, and ad-hoc audits that join it."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.accounts import services as accounts
from portal.accounts.permissions import require_writer
from portal.audit import access
from portal.audit.clauses import list_clauses
from portal.audit.models import AUDIT_KINDS, AuditProgramme
from portal.audit.qualification import catalogue_standards, standard_of
from portal.documents.serializers import iso
from portal.errors import Conflict, InvalidState, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.trail import services as trail
from portal.validation import Fields

FIRST_YEAR, LAST_YEAR = 2000, 2100
TEXT_MAX = 4000
SCOPE_FIELDS = ("objectives", "criteria", "standards", "departments", "clauses")
MAX_STANDARDS, MAX_DEPARTMENTS, MAX_CLAUSES = 10, 100, 500
APPROVERS = ("approver",)


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(_("There is no audit programme for %(year)s (years %(first)s to %(last)s).",
                         year=year, first=FIRST_YEAR, last=LAST_YEAR), code="unknown_year")
    return year


def get_programme(year: int) -> AuditProgramme | None:
    return db.session.execute(select(AuditProgramme).where(AuditProgramme.year == year)).scalar_one_or_none()


def default_clauses(standards) -> list[str]:
    """The standards' two-level clauses (7.5, 9.2 …), and a top clause that has none under it."""
    refs = []
    for standard in standards:
        numbers = [c.number for c in list_clauses(standard)]
        tops_with_children = {n.split(".")[0] for n in numbers if n.count(".") == 1}
        refs += [f"{standard} {n}" for n in numbers
                 if n.count(".") == 1 or ("." not in n and n not in tops_with_children)]
    return refs


def programme_state(p: AuditProgramme | None) -> dict | None:
    if p is None:
        return None
    return {"year": p.year, "objectives": p.objectives, "criteria": p.criteria,
            "standards": list(p.standards or []), "departments": list(p.department_codes or []),
            "clauses": list(p.clauses or []),
            "approved_by": p.approved_by.username if p.approved_by else None, "approved_at": p.approved_at}


def programme_json(p: AuditProgramme | None) -> dict | None:
    state = programme_state(p)
    if state is None:
        return None
    return {**state, "approved_at": iso(p.approved_at), "created_by": p.created_by.username,
            "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}


# --- the scope ----------------------------------------------------------------------------------

def parse_scope(payload) -> dict:
    """{objectives, criteria, standards, departments, clauses?} checked against the catalogue
    and the departments; `clauses` defaults to the standards' two-level clauses."""
    f = Fields(payload)
    for key in sorted(f.data.keys() - set(SCOPE_FIELDS)):
        f.fail(str(key)[:64], "unknown field")
    objectives = f.text("objectives", TEXT_MAX, required=True)
    criteria = f.text("criteria", TEXT_MAX, required=True)
    standards = _required(f, "standards", MAX_STANDARDS, 60)
    known_standards = catalogue_standards()
    unknown = [s for s in standards if s not in known_standards]
    if unknown:
        f.fail("standards", "not in the clause catalogue: " + ", ".join(unknown[:5]))
    codes = _required(f, "departments", MAX_DEPARTMENTS, 32)
    for code in codes:
        try:
            if not accounts.department_by_code(code).active:
                f.fail("departments", f"department {code} is inactive")
        except ValidationFailed:
            f.fail("departments", f"unknown department {code}")
    clauses = list(dict.fromkeys(f.string_list("clauses", MAX_CLAUSES, 100) or []))
    known = {c.ref for c in list_clauses()}
    if [r for r in clauses if r not in known]:
        f.fail("clauses", "unknown clause " + ", ".join([r for r in clauses if r not in known][:5]))
    elif [r for r in clauses if standard_of(r) not in standards] and "standards" not in f.errors:
        f.fail("clauses", "not of the programme's standards: "
               + ", ".join([r for r in clauses if standard_of(r) not in standards][:5]))
    f.done(_("Invalid audit programme."))
    return {"objectives": objectives, "criteria": criteria, "standards": standards,
            "department_codes": sorted(codes), "clauses": clauses or default_clauses(standards)}


def _required(f: Fields, name: str, max_items: int, max_len: int) -> list[str]:
    values = f.string_list(name, max_items, max_len)
    if not values and name not in f.errors:
        f.fail(name, "required")
    return list(dict.fromkeys(values or []))


def set_scope(actor, year: int, payload) -> AuditProgramme:
    """Create or change the year's scope (a controller or an auditor). A change after the
    approval withdraws it: the changed programme must be approved again."""
    access.require_auditor(actor, "set the audit programme")
    check_year(year)
    values = parse_scope(payload)
    programme = get_programme(year)
    if programme is None:
        programme = AuditProgramme(year=year, created_by=actor, created_at=clock.now(), **values)
        programme.updated_at = programme.created_at
        db.session.add(programme)
        try:
            db.session.flush()
        except IntegrityError:  # another request created it a moment before
            db.session.rollback()
            raise Conflict(_("The %(year)s programme was just created by someone else; reload it.", year=year),
                           code="duplicate_programme") from None
        trail.record(actor, "programme.create", "audit_programme", programme.id, None, programme_state(programme))
        db.session.commit()
        return programme
    access.lock_row(programme)
    before = programme_state(programme)
    for name, value in values.items():
        setattr(programme, name, value)
    reason = None
    if programme_state(programme) != before and programme.approved_at is not None:
        programme.approved_by, programme.approved_at = None, None
        reason = _("The scope changed after approval; the approval is withdrawn.")
    after = programme_state(programme)
    if after != before:
        programme.updated_at = clock.now()
        trail.record(actor, "programme.update", "audit_programme", programme.id, before, after, reason)
    db.session.commit()
    return programme


def approve(actor, year: int, payload) -> AuditProgramme:
    """An approver approves the year's programme, re-entering their password."""
    require_writer(actor)
    if not actor.is_active or actor.role not in APPROVERS:
        raise NotAllowed(_("Only an approver may approve the audit programme."))
    check_year(year)
    f = Fields(payload)
    for key in sorted(f.data.keys() - {"password"}):
        f.fail(str(key)[:64], "unknown field")
    password = f.data.get("password")
    if not isinstance(password, str) or not password:
        f.fail("password", "required")
    f.done(_("Invalid approval."))
    programme = get_programme(year)
    if programme is None:
        raise NotFound(_("The %(year)s audit programme has no scope yet.", year=year), code="no_programme")
    access.lock_row(programme)
    if programme.approved_at is not None:
        raise InvalidState(_("The %(year)s audit programme is already approved.", year=year),
                           code="already_approved")
    if not accounts.verify_password(actor, password):
        raise NotAllowed(_("Wrong password."), code="wrong_password")
    programme.approved_by, programme.approved_at = actor, clock.now()
    trail.record(actor, "programme.approve", "audit_programme", programme.id, {"approved_by": None},
                 {"approved_by": actor.username, "approved_at": programme.approved_at})
    db.session.commit()
    return programme


# --- ad-hoc audits ------------------------------------------------------------------------------

def audit_kind(f: Fields) -> dict:
    """An audit's kind: of the programme, or ad hoc (after a complaint, an incident) with the
    reason it was called. Returns the audit's columns."""
    kind = f.choice("kind", AUDIT_KINDS, default="programme")
    reason = f.text("reason", TEXT_MAX)
    if kind == "ad_hoc" and not reason and "reason" not in f.errors:
        f.fail("reason", "required for an ad-hoc audit")
    elif kind != "ad_hoc" and reason:
        f.fail("reason", "only for an ad-hoc audit")
    return {"kind": kind or "programme", "ad_hoc_reason": (reason or None) if kind == "ad_hoc" else None}
