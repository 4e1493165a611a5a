"""Who may read which part of the trail: an entry is read by whoever may see its object.

One dispatcher, object_type → the SQL rule of that object's own domain (a select() of the ids
the reader may see). The trail API and the document page's history panel filter through it in
SQL, so paging and totals count only what the reader may see. Controllers and admins read the
whole trail; an object type without a rule here is theirs alone.
"""
from flask_babel import gettext as _
from sqlalchemy import and_, false, or_, select

from portal.accounts.permissions import is_controller
from portal.errors import NotAllowed, NotFound
from portal.extensions import db
from portal.trail.models import TrailEntry


def _documents(user):
    from portal.documents import queries
    from portal.documents.models import Document

    return select(Document.id).where(queries.visible_to(user))


def _revisions(user):
    from portal.documents import queries
    from portal.documents.models import Revision

    return select(Revision.id).where(queries.revisions_visible_to(user))


def _copies(user):
    from portal.documents import queries
    from portal.documents.models import ControlledCopy

    return select(ControlledCopy.id).where(queries.copies_visible_to(user))


def _records(user):
    from portal.records import queries
    from portal.records.models import Record

    return select(Record.id).where(queries.visible_to(user))


def _audits(user):
    from portal.audit import queries
    from portal.audit.models import Audit

    return select(Audit.id).where(queries.audits_visible_to(user))


def _findings(user):
    from portal.audit import queries
    from portal.audit.models import Finding

    return select(Finding.id).where(queries.findings_visible_to(user))


def _actions(user):
    from portal.audit import queries
    from portal.audit.models import CorrectiveAction

    return select(CorrectiveAction.id).where(queries.actions_visible_to(user))


def _runs(user):
    from portal.procedures import queries
    from portal.procedures.models import ProcedureRun

    return select(ProcedureRun.id).where(queries.visible_to(user))


def _change_requests(user):
    from portal.change_requests import queries
    from portal.change_requests.models import ChangeRequest

    return select(ChangeRequest.id).where(queries.visible_to(user))


def _evidence(user):
    """Evidence items the reader may open (search/evidence.py may_read). That rule looks at
    every frozen hit, so it is evaluated in Python and handed to SQL as a list of ids."""
    from portal.search.evidence import evidence_list
    from portal.search.models import Evidence

    return select(Evidence.id).where(Evidence.id.in_([item.id for item in evidence_list(user)]))


def _departments(user):
    from portal.accounts.models import Department

    return select(Department.id)  # every account lists the departments


def _own_user(user):
    from portal.accounts.models import User

    return select(User.id).where(User.id == user.id)


def _own_tokens(user):
    from portal.accounts.models import ApiToken

    return select(ApiToken.id).where(ApiToken.user_id == user.id)


def _management_reviews(user):
    from portal.management_review import queries
    from portal.management_review.models import ManagementReview

    return select(ManagementReview.id).where(queries.visible_to(user))


def _programmes(user):
    from portal.audit.models import AuditProgramme

    return select(AuditProgramme.id)  # every account reads the year's audit programme


# object_type → the ids of such objects `user` may see. Forms are documents.
RULES = {
    "document": _documents, "form": _documents, "revision": _revisions, "copy": _copies,
    "record": _records, "run": _runs, "audit": _audits, "finding": _findings, "action": _actions,
    "evidence": _evidence, "department": _departments, "user": _own_user, "token": _own_tokens,
    "change_request": _change_requests, "management_review": _management_reviews,
    "audit_programme": _programmes,
}


def reads_whole_trail(user) -> bool:
    return is_controller(user)


def visible_entries(user, kinds=None):
    """The SQL condition on TrailEntry of the entries `user` may read (None: all of them),
    optionally only among entries of the object types `kinds`."""
    if reads_whole_trail(user):
        return None
    if user is None:
        return false()
    rules = [(kind, rule) for kind, rule in RULES.items() if kinds is None or kind in kinds]
    return or_(false(), *(and_(TrailEntry.object_type == kind, TrailEntry.object_id.in_(rule(user)))
                          for kind, rule in rules))


def restrict(query, user, kinds=None):
    """`query` (a select() of TrailEntry) cut down to what `user` may read."""
    condition = visible_entries(user, kinds)
    return query if condition is None else query.where(condition)


def can_view_object(user, object_type: str, object_id: int) -> bool:
    """The same rule for one object (one query, no ORM object loaded)."""
    if reads_whole_trail(user):
        return True
    rule = RULES.get(object_type)
    if rule is None or user is None or object_id is None:
        return False
    ids = rule(user)
    return db.session.execute(ids.where(ids.selected_columns[0] == object_id).limit(1)).first() is not None


def require_trail_access(user, object_type: str | None, object_id: int | None) -> None:
    """Controllers and admins read the whole trail, auditors the whole trail filtered to what
    they may see elsewhere, others the trail of one object they may see. An object hidden
    from the reader is 404, as on every other channel."""
    if object_type and object_id is not None:
        if not can_view_object(user, object_type, object_id):
            raise NotFound(_("No such object."))
        return
    if reads_whole_trail(user) or user.role == "auditor":
        return
    raise NotAllowed(_("Only controllers and auditors may read the whole trail."))


def as_seen_by(user, entry) -> dict:
    """An entry's JSON for `user`: a finding's evidence references to objects hidden from them
    keep their kind only, and the search text behind evidence they may not open is left out
    (as on the finding's page); the chain's hash stays that of the stored entry."""
    from portal.trail.serializers import entry_json

    body = entry_json(entry)
    if reads_whole_trail(user):
        return body
    for side in ("before", "after"):
        value = body[side]
        if isinstance(value, dict):
            body[side] = _redacted(user, entry.object_type, value)
    return body


def _redacted(user, object_type: str, value: dict) -> dict:
    from portal.audit.queries import visible_evidence
    from portal.search.evidence import may_read
    from portal.search.models import Evidence

    if object_type == "finding" and isinstance(value.get("evidence"), list):
        value = {**value, "evidence": visible_evidence(user, value["evidence"])}
    if "evidence_id" in value and "q" in value:
        item = db.session.get(Evidence, value["evidence_id"]) if isinstance(value["evidence_id"], int) else None
        if item is None or not may_read(user, item):
            value = {k: v for k, v in value.items() if k != "q"}
    return value
