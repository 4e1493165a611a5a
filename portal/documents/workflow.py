"""The revision state machine: submit, sign, release, supersede, obsolete."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.accounts import services as accounts
from portal.accounts.permissions import MANAGE_DOCUMENTS, is_controller, require_role
from portal.documents.distribution import hand_over_copies
from portal.documents.models import OPEN_STATES, Document, Revision, Signature
from portal.notifications.services import controllers, notify
from portal.errors import Conflict, InvalidState, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

# action -> (states it may start from, state it leads to)
TRANSITIONS = {
    "submit": ({"draft"}, "in_review"),
    "reject": ({"in_review"}, "draft"),
    "approve": ({"in_review"}, "approved"),
    "schedule": ({"approved"}, "released"),
    "make_effective": ({"approved", "released"}, "effective"),
    "supersede": ({"effective"}, "superseded"),
    "obsolete": ({"effective"}, "obsolete"),
    "withdraw": ({"draft", "in_review", "approved", "released"}, "withdrawn"),
}


def transition(actor, rev: Revision, action: str, reason: str | None = None, **extra) -> None:
    """Move a revision along TRANSITIONS and write the trail entry for it."""
    sources, target = TRANSITIONS[action]
    if rev.state not in sources:
        raise InvalidState(f"Cannot {action} a revision in state {rev.state}.",
                           code=f"cannot_{action}")
    before = rev.state
    rev.state = target
    rev.updated_at = clock.now()
    trail.record(actor, f"revision.{action}", "revision", rev.id,
                 {"state": before}, {"state": target, **extra}, reason)
    enqueue("revision", rev.id)


def submit_revision(actor, rev: Revision, data: dict) -> Revision:
    """Send a draft for review: named reviewers (审核) and one approver (批准)."""
    if rev.author_id != actor.id and not is_controller(actor):
        raise NotAllowed("Only the author or a document controller may submit this revision.")
    if rev.state != "draft":
        raise InvalidState("Only a draft can be submitted.", code="cannot_submit")
    f = Fields(data)
    reviewer_names = f.string_list("reviewers", 20, 64, default=None)
    approver_name = f.text("approver", 64, required=True)
    if not reviewer_names:
        f.fail("reviewers", "at least one reviewer")
    f.done("Invalid submission.")
    reviewers = [_signer(name, "reviewers") for name in dict.fromkeys(reviewer_names)]
    approver = _signer(approver_name, "approver")
    _check_separation(rev, reviewers, approver)
    rev.review_round += 1
    now = clock.now()
    db.session.add(Signature(revision=rev, round=rev.review_round, meaning="prepare",
                             signer=rev.author, decision="accept", signed_at=now,
                             printed_name=rev.author.display_name))
    for user in reviewers:
        db.session.add(Signature(revision=rev, round=rev.review_round, meaning="review", signer=user))
    db.session.add(Signature(revision=rev, round=rev.review_round, meaning="approve", signer=approver))
    rev.submitted_at = now
    transition(actor, rev, "submit", reviewers=[u.username for u in reviewers],
               approver=approver.username)
    notify(reviewers, "signature_requested", _ask(rev, "审核"), f"/revisions/{rev.id}")
    db.session.commit()
    return rev


def _signer(username: str, field: str):
    user = accounts.user_by_username(username, field)
    if not user.is_active or user.is_read_only:
        raise ValidationFailed(f"{username} cannot sign.", code="signer_not_eligible",
                               fields={field: f"{username} is inactive or read-only"})
    return user


def _check_separation(rev: Revision, reviewers: list, approver) -> None:
    """The author signs 编制 only; reviewer and approver are other people."""
    if any(u.id == rev.author_id for u in reviewers) or approver.id == rev.author_id:
        raise ValidationFailed("The author cannot review or approve their own revision.",
                               code="author_cannot_sign",
                               fields={"reviewers": "must not include the author"})
    if any(u.id == approver.id for u in reviewers):
        raise ValidationFailed("The approver cannot also be a reviewer.", code="approver_is_reviewer",
                               fields={"approver": "must differ from the reviewers"})


def sign_revision(actor, rev: Revision, data: dict) -> Revision:
    """Record a review or approval signature after password re-entry."""
    f = Fields(data)
    meaning = f.choice("meaning", ("review", "approve"), required=True)
    decision = f.choice("decision", ("accept", "reject"), required=True)
    comment = f.text("comment", 5000)
    password = f.data.get("password")
    if not isinstance(password, str):
        f.fail("password", "required")
    f.done("Invalid signature.")
    if decision == "reject" and not comment:
        raise ValidationFailed("A rejection needs a comment.", fields={"comment": "required when rejecting"})
    slot = _slot_for(actor, rev, meaning)
    if not accounts.verify_password(actor, password):
        raise NotAllowed("Wrong password.", code="wrong_password")
    slot.decision, slot.comment, slot.signed_at = decision, comment, clock.now()
    slot.printed_name = actor.display_name
    trail.record(actor, f"signature.{meaning}", "revision", rev.id, None,
                 {"signature_id": slot.id, "meaning": meaning, "decision": decision,
                  "round": slot.round}, comment)
    if decision == "reject":
        transition(actor, rev, "reject", reason=comment)
        notify([rev.author], "revision_rejected", f"{_name(rev)} 被驳回：{comment}", f"/revisions/{rev.id}")
    elif _all_signed(rev):
        rev.approved_at = clock.now()
        transition(actor, rev, "approve")
        notify(controllers(), "revision_approved", f"{_name(rev)} 已批准，待发布", f"/revisions/{rev.id}")
    elif meaning == "review" and _reviews_complete(rev):
        approver = [s.signer for s in rev.signatures_in_round() if s.meaning == "approve"]
        notify(approver, "signature_requested", _ask(rev, "批准"), f"/revisions/{rev.id}")
    db.session.commit()
    return rev


def signable_slots(user, rev: Revision) -> list[Signature]:
    """The signatures `user` may give on `rev` now, the ones the page offers a form for (the
    same checks as signing): assigned to them in this round and not given yet, by an account
    that may sign, and the approval only once every review is in."""
    if rev.state != "in_review" or user.is_read_only or not user.is_active:
        return []
    return [s for s in rev.signatures_in_round() if s.signer_id == user.id and s.decision is None
            and not (s.meaning == "approve" and _reviews_pending(rev))]


def _slot_for(actor, rev: Revision, meaning: str) -> Signature:
    if rev.state != "in_review":
        raise InvalidState("This revision is not waiting for signatures.", code="not_in_review")
    mine = [s for s in rev.signatures_in_round() if s.meaning == meaning and s.signer_id == actor.id]
    if not mine or actor.is_read_only:
        raise NotAllowed("You are not assigned to sign this revision with that meaning.",
                         code="not_assigned")
    slot = mine[0]
    if slot.decision is not None:
        raise Conflict("You have already signed this revision.", code="already_signed")
    if meaning == "approve" and _reviews_pending(rev):
        raise InvalidState("The reviews are not complete yet.", code="reviews_pending")
    return slot


def _reviews_pending(rev: Revision) -> bool:
    return any(s.decision is None for s in rev.signatures_in_round() if s.meaning == "review")


def _name(rev: Revision) -> str:
    return f"{rev.document.code} {rev.document.title} {rev.label}"


def _ask(rev: Revision, meaning_label: str) -> str:
    return f"请{meaning_label}签署：{_name(rev)}"


def _reviews_complete(rev: Revision) -> bool:
    return all(s.decision == "accept" for s in rev.signatures_in_round() if s.meaning == "review")


def _all_signed(rev: Revision) -> bool:
    return all(s.decision == "accept" for s in rev.signatures_in_round())


# A release further ahead is a typing error (9999-12-31), and it would block the document:
# no new revision can start while one waits to become effective.
MAX_EFFECTIVE_YEARS = 5


def latest_effective_date() -> date:
    """The last day a release may take effect on: MAX_EFFECTIVE_YEARS from today."""
    return add_months(clock.today(), 12 * MAX_EFFECTIVE_YEARS)


def release_revision(actor, rev: Revision, data: dict) -> Revision:
    """Release an approved revision on an effective date (today or later, within
    MAX_EFFECTIVE_YEARS)."""
    require_role(actor, MANAGE_DOCUMENTS, "release revisions")
    f = Fields(data)
    effective = f.day("effective_date", required=True)
    f.done("Invalid release.")
    if rev.state != "approved":
        raise InvalidState("Only an approved revision can be released.", code="not_approved")
    if effective < clock.today():
        raise ValidationFailed("The effective date cannot be in the past.",
                               fields={"effective_date": "today or later"})
    latest = latest_effective_date()
    if effective > latest:
        raise ValidationFailed(
            _("The effective date must be within %(years)d years from today.", years=MAX_EFFECTIVE_YEARS),
            code="effective_date_too_far",
            fields={"effective_date": _("%(day)s or earlier", day=latest.isoformat())})
    rev.effective_date, rev.released_at, rev.released_by = effective, clock.now(), actor
    if effective <= clock.today():
        _make_effective(actor, rev)
    else:
        transition(actor, rev, "schedule", effective_date=effective)
    from portal.change_requests.services import mark_implemented  # it builds on this module

    mark_implemented(actor, rev)  # the change request this revision answers, in this transaction
    db.session.commit()
    return rev


def _make_effective(actor, rev: Revision) -> None:
    doc = rev.document
    previous = doc.current_revision
    if previous is not None and previous.state == "effective":
        previous.ended_on = rev.effective_date
        transition(actor, previous, "supersede", superseded_by=rev.label)
        db.session.flush()  # the one-effective index must see the old row leave first
    transition(actor, rev, "make_effective", effective_date=rev.effective_date)
    doc_before = doc.status
    doc.current_revision = rev
    doc.status = "effective"
    doc.next_review_due = add_months(rev.effective_date, doc.review_period_months)
    if doc_before != "effective":
        trail.record(actor, "document.effective", "document", doc.id, {"status": doc_before},
                     {"status": "effective", "revision": rev.label})
    if previous is not None and previous.state == "superseded":
        hand_over_copies(actor, previous, rev)
    enqueue("document", doc.id)


def activate_due_revisions(today: date | None = None) -> int:
    """Make released revisions effective once their day has come (run by the system)."""
    today = today or clock.today()
    due = db.session.execute(
        select(Revision).where(Revision.state == "released", Revision.effective_date <= today)
        .order_by(Revision.effective_date, Revision.id)
    ).scalars().all()
    for rev in due:
        _make_effective("system", rev)
    if due:
        db.session.commit()
    return len(due)


def obsolete_document(actor, doc: Document, data: dict) -> Document:
    """Withdraw a document from use; its effective revision becomes obsolete."""
    require_role(actor, MANAGE_DOCUMENTS, "make documents obsolete")
    f = Fields(data)
    reason = f.text("reason", 2000, required=True)
    f.done("A reason is required.")
    if doc.status == "obsolete":
        raise InvalidState("The document is already obsolete.", code="already_obsolete")
    today = clock.today()
    for rev in doc.revisions:
        if rev.state == "effective":
            rev.ended_on = today
            transition(actor, rev, "obsolete", reason=reason)
            hand_over_copies(actor, rev, None)
        elif rev.state in OPEN_STATES:
            transition(actor, rev, "withdraw", reason=reason)
    before = doc.status
    doc.status, doc.obsolete_reason, doc.obsoleted_on = "obsolete", reason, today
    doc.next_review_due = None
    trail.record(actor, "document.obsolete", "document", doc.id, {"status": before},
                 {"status": "obsolete"}, reason)
    enqueue("document", doc.id)
    db.session.commit()
    return doc


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def has_due_revisions(today: date | None = None) -> bool:
    """Cheap check used before taking the write lock."""
    today = today or clock.today()
    return db.session.execute(
        select(Revision.id).where(Revision.state == "released", Revision.effective_date <= today).limit(1)
    ).first() is not None
