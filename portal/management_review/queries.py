"""Who sees which management reviews, and the lists built on that rule.

A review in preparation (planned) or awaiting approval (held) is the working material of its
meeting: its chair, members, organiser (who created it), the owners of its outputs, and the
document controllers and admins see it. Once the chair has approved it (closed) it is a
quality record every account reads, the certification-body reviewer included (ISO 9001 9.3.3
asks for it). Nobody else sees a review before it is closed; to them it answers 404.
"""
from sqlalchemy import false, or_, select, true

from portal import clock
from portal.accounts.permissions import is_controller
from portal.errors import NotFound
from portal.extensions import db
from portal.management_review.models import ManagementReview, ReviewOutput, review_member

PUBLIC_STATE = "closed"


def participant_ids(review: ManagementReview) -> set[int]:
    """The chair, the organiser, the members and the owners of the outputs."""
    return ({review.chair_id, review.created_by_id} | {u.id for u in review.members}
            | {o.owner_id for o in review.outputs})


def can_view_review(user, review: ManagementReview) -> bool:
    if user is None or not user.is_active:
        return False
    if review.state == PUBLIC_STATE:
        return True
    if user.is_read_only:
        return False
    return is_controller(user) or user.id in participant_ids(review)


def visible_to(user):
    """The SQL condition on ManagementReview of can_view_review (the two are tested equal)."""
    if user is None or not user.is_active:
        return false()
    if user.is_read_only:
        return ManagementReview.state == PUBLIC_STATE
    if is_controller(user):
        return true()
    return or_(ManagementReview.state == PUBLIC_STATE,
               ManagementReview.chair_id == user.id, ManagementReview.created_by_id == user.id,
               ManagementReview.id.in_(select(review_member.c.review_id).where(review_member.c.user_id == user.id)),
               ManagementReview.id.in_(select(ReviewOutput.review_id).where(ReviewOutput.owner_id == user.id)))


def get_review(user, review_id: int) -> ManagementReview:
    review = db.session.get(ManagementReview, review_id)
    if review is None or not can_view_review(user, review):
        raise NotFound("No such management review.")
    return review


def get_output(user, output_id: int) -> ReviewOutput:
    output = db.session.get(ReviewOutput, output_id)
    if output is None or not can_view_review(user, output.review):
        raise NotFound("No such review output.")
    return output


def review_query(user, state: str | None = None):
    """A select() of the reviews the user may see, latest meeting first."""
    query = select(ManagementReview).where(visible_to(user))
    if state:
        query = query.where(ManagementReview.state == state)
    return query.order_by(ManagementReview.meeting_date.desc(), ManagementReview.id.desc())


def may_organise(user, review: ManagementReview) -> bool:
    """Who records the meeting (hold, outputs): its chair, its organiser, a controller or admin."""
    return (user is not None and user.is_active and not user.is_read_only
            and (is_controller(user) or user.id in (review.chair_id, review.created_by_id)))


def is_overdue(output: ReviewOutput) -> bool:
    return output.state == "open" and output.due_date < clock.today()


def open_outputs_for(user, limit: int = 100) -> list[ReviewOutput]:
    """My open review outputs, due soonest first (the dashboard's 我的管理评审输出)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.is_read_only:
        return []
    return list(db.session.execute(
        select(ReviewOutput).where(ReviewOutput.owner_id == user.id, ReviewOutput.state == "open")
        .order_by(ReviewOutput.due_date, ReviewOutput.id).limit(limit)).scalars())


def previous_review(review: ManagementReview) -> ManagementReview | None:
    """The last review held before this one (by meeting date, then number order)."""
    earlier = or_(ManagementReview.meeting_date < review.meeting_date,
                  (ManagementReview.meeting_date == review.meeting_date) & (ManagementReview.id < review.id))
    query = (select(ManagementReview)
             .where(ManagementReview.state.in_(("held", "closed")), earlier)
             .order_by(ManagementReview.meeting_date.desc(), ManagementReview.id.desc()).limit(1))
    if review.id is not None:
        query = query.where(ManagementReview.id != review.id)
    return db.session.execute(query).scalar()
