"""Periodic review: the owner confirms a document is still suitable, and the clock restarts."""
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.accounts import services as accounts
from portal.accounts.permissions import is_controller
from portal.documents.models import REVIEW_OUTCOMES, Document, PeriodicReview
from portal.documents.workflow import add_months, obsolete_document
from portal.errors import InvalidState, NotAllowed
from portal.extensions import db
from portal.notifications.services import notify
from portal.notifications.models import Notification
from portal.trail import services as trail
from portal.validation import Fields


def may_review(user, doc: Document) -> bool:
    """The owner department's approver, or a document controller."""
    if is_controller(user):
        return True
    return user.role == "approver" and user.department_id == doc.department_id


def record_review(actor, doc: Document, payload: dict) -> PeriodicReview:
    """Sign a periodic review (keep / revise / obsolete) and move next_review_due."""
    f = Fields(payload)
    outcome = f.choice("outcome", REVIEW_OUTCOMES, required=True)
    comment = f.text("comment", 5000, required=True)
    password = payload.get("password") if isinstance(payload, dict) else None
    if not isinstance(password, str) or not password:
        f.fail("password", "required")
    f.done("Invalid review.")
    if not may_review(actor, doc):
        raise NotAllowed("Only the owner department's approver or a controller may review this document.")
    if doc.status != "effective":
        raise InvalidState("Only a document in force is reviewed.", code="not_effective")
    if not accounts.verify_password(actor, password):
        raise NotAllowed("Wrong password.", code="wrong_password")
    review = _store_review(actor, doc, outcome, comment)
    if outcome == "obsolete" and is_controller(actor):
        obsolete_document(actor, doc, {"reason": f"定期评审结论：作废。{comment}"[:2000]})
        return review
    if outcome != "keep":
        from portal.notifications.services import controllers

        verdict = "需修订" if outcome == "revise" else "应作废"
        notify(controllers(), "review_due", f"{doc.code} {doc.title} 定期评审结论：{verdict}（{actor.display_name}）",
               f"/documents/{doc.id}")
    db.session.commit()
    return review


def _store_review(actor, doc: Document, outcome: str, comment: str) -> PeriodicReview:
    # Only a controller's "obsolete" ends the schedule (the document goes); anyone else's
    # verdict leaves the document in force and so on the review schedule.
    ends = outcome == "obsolete" and is_controller(actor)
    next_due = None if ends else add_months(clock.today(), doc.review_period_months)
    review = PeriodicReview(document=doc, revision=doc.current_revision, outcome=outcome, comment=comment,
                            reviewer=actor, printed_name=actor.display_name, signed_at=clock.now(),
                            due_was=doc.next_review_due, next_due=next_due)
    db.session.add(review)
    db.session.flush()
    trail.record(actor, "document.periodic_review", "document", doc.id,
                 {"next_review_due": doc.next_review_due},
                 {"next_review_due": next_due, "outcome": outcome, "review_id": review.id}, comment)
    doc.next_review_due = next_due
    return review


def reviews_due(user=None, within_days: int = 30) -> list[Document]:
    """Documents whose review falls due within `within_days` (overdue first)."""
    horizon = clock.today() + timedelta(days=within_days)
    query = select(Document).where(Document.status == "effective", Document.next_review_due <= horizon)
    docs = db.session.execute(query.order_by(Document.next_review_due)).scalars().all()
    return [d for d in docs if user is None or may_review(user, d)]


def notify_due_reviews(within_days: int = 30) -> int:
    """Tell each document's reviewers once per due date; run periodically, idempotent."""
    from portal.notifications.services import controllers

    due = reviews_due(None, within_days)
    if not due:
        return 0
    # one read of who was told and who to tell: a query per document was 1.5 ms each at
    # 7,882 documents (12 s of every jobs round, stalling the server's searches meanwhile)
    told = set(db.session.execute(select(Notification.link).where(Notification.kind == "review_due")
                                  .distinct()).scalars())
    approvers = defaultdict(list)
    for user in accounts.list_users():
        if user.role == "approver":
            approvers[user.department_id].append(user)
    staff = controllers()
    sent = 0
    for doc in due:
        link = f"/documents/{doc.id}#review-{doc.next_review_due}"
        if link in told:
            continue
        notify(approvers[doc.department_id] + staff, "review_due",
               f"{doc.code} {doc.title} 定期评审到期：{doc.next_review_due}", link)
        told.add(link)
        sent += 1
    db.session.commit()
    return sent


def reviews_of(doc: Document) -> list[PeriodicReview]:
    return list(db.session.execute(select(PeriodicReview).where(PeriodicReview.document_id == doc.id)
                                   .order_by(PeriodicReview.id.desc())).scalars())
