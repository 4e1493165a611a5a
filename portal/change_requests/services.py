"""Change-request rules (文件更改申请, QP0501): raising, deciding, implementing.

Who may do what (one place, used by the pages too):
- raise: any signed-in account but the read-only external reviewer, on a document it may see
  that is not obsolete; an `action_id` names a corrective action it may see;
- accept or reject: a controller (or admin), or an approver of the document's owner department
  (documents.review.may_review: the same people who sign its periodic review);
- implement: nobody by hand; releasing the revision the acceptance opened does it
  (documents.workflow.release_revision calls mark_implemented in its transaction).
"""
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock, numbering
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.accounts.permissions import AUTHOR, require_writer
from portal.audit.access import lock_row
from portal.change_requests.models import CHANGE_LEVELS, ChangeRequest
from portal.documents import services as documents
from portal.documents.models import Document, Revision
from portal.documents.review import may_review
from portal.errors import InvalidState, NotAllowed, NotFound
from portal.extensions import db
from portal.notifications.services import controllers, notify
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import MAX_ID, Fields

NUMBER_SCHEME = "change_request"
NUMBER_PATTERN = "CR-{yyyy}-{seq:4}"
# The reason becomes the revision's change_reason, which holds 2,000 characters
# (documents.services._content_values); the summary of the draft likewise.
MAX_REASON = 2000
MAX_PROPOSAL = 5000
MAX_COMMENT = 5000
MAX_SUMMARY = 2000


def request_state(cr: ChangeRequest) -> dict:
    """What the trail records of a request before and after a change."""
    return {"number": cr.number, "state": cr.state, "document": cr.document.code,
            "change_level": cr.change_level, "action": cr.action.number if cr.action else None,
            "revision": cr.revision.label if cr.revision else None}


def _link(cr: ChangeRequest) -> str:
    return f"/change-requests/{cr.id}"  # also from the jobs thread, which has no request


# --- who may act --------------------------------------------------------------------------

def may_raise(user, doc: Document) -> bool:
    from portal.documents.queries import can_view_document

    return (user is not None and user.is_active and not user.is_read_only and doc.status != "obsolete"
            and can_view_document(user, doc))


def check_may_raise(user, doc: Document) -> None:
    """Why `user` may not ask for a change of `doc`, as the exception the form and the API
    both answer with (checked before the form is even shown)."""
    require_writer(user)
    if doc.status == "obsolete":
        raise InvalidState(_("Document %(code)s is obsolete: it is no longer changed.", code=doc.code),
                           code="document_obsolete")
    if not may_raise(user, doc):
        raise NotAllowed(_("You may not request changes to this document."))


def _writes_revisions(user) -> bool:
    return user.is_active and not user.is_read_only and user.role in AUTHOR


def may_write_draft(user, doc: Document) -> bool:
    """Who may be named to write the draft an accepted request opens: someone who writes
    revisions and already sees the document (writing a draft makes a confidential one theirs)."""
    from portal.documents.queries import can_view_document

    return _writes_revisions(user) and can_view_document(user, doc)


def eligible_authors(doc: Document) -> list[User]:
    return [u for u in accounts.list_users() if may_write_draft(u, doc)]


def may_decide(user, cr: ChangeRequest) -> bool:
    return (user is not None and user.is_active and not user.is_read_only
            and may_review(user, cr.document))


def deciders(doc: Document) -> list[User]:
    """The controllers and the owner department's active approvers."""
    approvers = db.session.execute(select(User).where(
        User.role == "approver", User.department_id == doc.department_id, User.active.is_(True))).scalars()
    return controllers() + list(approvers)


# --- raising ------------------------------------------------------------------------------

def _action(actor, f: Fields):
    """The corrective action `action_id` names, when the actor may see it (422 otherwise)."""
    from portal.audit.queries import get_action

    raw = f.data.get("action_id")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= MAX_ID:
        f.fail("action_id", _("the id of a corrective action"))
        return None
    try:
        return get_action(actor, raw)
    except NotFound:
        f.fail("action_id", _("no such corrective action"))
        return None


def raise_request(actor, doc: Document, payload: dict) -> ChangeRequest:
    """Ask for a change of `doc`: {reason, proposed_change, change_level, action_id?}."""
    require_writer(actor)
    f = Fields(payload)
    reason = f.text("reason", MAX_REASON, required=True)
    proposed = f.text("proposed_change", MAX_PROPOSAL, required=True)
    level = f.choice("change_level", CHANGE_LEVELS, required=True)
    action = _action(actor, f)
    f.done(_("Invalid change request."))
    check_may_raise(actor, doc)
    now = clock.now()
    cr = ChangeRequest(number=numbering.next_number(NUMBER_SCHEME, NUMBER_PATTERN, "", None, now),
                       document=doc, reason=reason, proposed_change=proposed, change_level=level,
                       action=action, state="open", requested_by=actor, created_at=now)
    db.session.add(cr)
    db.session.flush()
    trail.record(actor, "change_request.create", "change_request", cr.id, None,
                 {**request_state(cr), "reason": reason, "proposed_change": proposed})
    notify(deciders(doc), "change_request",
           _("Change request %(number)s on %(code)s %(title)s by %(name)s: %(reason)s", number=cr.number,
             code=doc.code, title=doc.title, name=actor.display_name, reason=_short(reason)), _link(cr))
    enqueue("change_request", cr.id)
    db.session.commit()
    return cr


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- deciding -----------------------------------------------------------------------------

def _open_for_decision(actor, cr: ChangeRequest) -> None:
    require_writer(actor)
    if not may_decide(actor, cr):
        raise NotAllowed(_("Only a document controller or an approver of the owner department "
                           "may decide on a change request."))
    lock_row(cr)  # two deciders at once: the second sees the decision
    if cr.state != "open":
        raise InvalidState(_("Change request %(number)s is already %(state)s.", number=cr.number,
                             state=_(cr.state)), code="change_request_decided")


def _author(f: Fields, actor, doc: Document) -> User:
    """Who writes the draft: `author` (a username) or the acceptor; someone who may write
    revisions and already sees the document (writing a draft makes a confidential one theirs)."""
    from portal.documents.queries import can_view_document

    name = f.text("author", 64)
    if not name:
        return actor
    user = accounts.find_user(name)
    if user is None:
        f.fail("author", _("unknown user %(name)s", name=name))
    elif not _writes_revisions(user):
        f.fail("author", _("%(name)s may not write revisions", name=name))
    elif not can_view_document(user, doc):
        f.fail("author", _("%(name)s may not see this document", name=name))
    return user


def _summary(proposed: str) -> str:
    return proposed if len(proposed) <= MAX_SUMMARY else proposed[:MAX_SUMMARY - 1] + "…"


def accept(actor, cr: ChangeRequest, payload: dict) -> ChangeRequest:
    """Accept {comment, author?}: the draft revision that implements the request opens in the
    same transaction (409 while the document has an unreleased revision)."""
    _open_for_decision(actor, cr)
    f = Fields(payload)
    comment = f.text("comment", MAX_COMMENT, required=True)
    author = _author(f, actor, cr.document)
    f.done(_("Invalid decision."))
    rev = documents.start_revision(actor, cr.document, {
        "change_summary": _summary(cr.proposed_change), "change_reason": cr.reason,
        "change_level": cr.change_level}, author=author, commit=False)
    before = request_state(cr)
    cr.state, cr.decided_by, cr.decided_at, cr.decision_comment = "accepted", actor, clock.now(), comment
    cr.revision = rev
    trail.record(actor, "change_request.accept", "change_request", cr.id, before,
                 {**request_state(cr), "revision_id": rev.id, "author": author.username}, comment)
    message = _("Change request %(number)s was accepted: draft %(label)s of %(code)s is written by %(name)s.",
                number=cr.number, label=rev.label, code=cr.document.code, name=author.display_name)
    notify([cr.requested_by, author], "change_request_decided", message, _link(cr))
    enqueue("change_request", cr.id)
    db.session.commit()
    return cr


def reject(actor, cr: ChangeRequest, payload: dict) -> ChangeRequest:
    """Reject {comment}; the comment tells the requester why."""
    _open_for_decision(actor, cr)
    f = Fields(payload)
    comment = f.text("comment", MAX_COMMENT, required=True)
    f.done(_("A rejection needs a comment."))
    before = request_state(cr)
    cr.state, cr.decided_by, cr.decided_at, cr.decision_comment = "rejected", actor, clock.now(), comment
    trail.record(actor, "change_request.reject", "change_request", cr.id, before, request_state(cr), comment)
    notify([cr.requested_by], "change_request_decided",
           _("Change request %(number)s was rejected: %(comment)s", number=cr.number, comment=_short(comment)),
           _link(cr))
    enqueue("change_request", cr.id)
    db.session.commit()
    return cr


# --- implementing -------------------------------------------------------------------------

def mark_implemented(actor, rev: Revision) -> ChangeRequest | None:
    """The request `rev` implements becomes implemented (inside the release's transaction;
    the caller commits)."""
    cr = db.session.execute(select(ChangeRequest).where(ChangeRequest.revision_id == rev.id)).scalar_one_or_none()
    if cr is None or cr.state != "accepted":
        return None
    before = request_state(cr)
    cr.state, cr.implemented_at = "implemented", clock.now()
    trail.record(actor, "change_request.implement", "change_request", cr.id, before,
                 {**request_state(cr), "effective_date": rev.effective_date})
    notify([cr.requested_by], "change_request_implemented",
           _("Change request %(number)s is implemented by %(code)s %(label)s, effective %(day)s.",
             number=cr.number, code=cr.document.code, label=rev.label, day=rev.effective_date.isoformat()),
           _link(cr))
    enqueue("change_request", cr.id)
    return cr
