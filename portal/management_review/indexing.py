"""How a management review is indexed for search (registered in portal/search/builders.py).

The index holds the review's own words (title, summary, decisions and what was done), never
its inputs: those carry codes of objects a reader may not see. Who finds it follows
queries.can_view_review: everyone once closed (the certification-body reviewer's tour too),
before that its participants and the controllers."""
from sqlalchemy.orm import selectinload

from portal.management_review.models import ManagementReview, ReviewOutput
from portal.management_review.queries import PUBLIC_STATE, participant_ids

CLAUSE = "ISO 9001:2015 9.3"


def review_fields(review: ManagementReview) -> dict:
    from portal.search.builders import _clean, _join, _local_datetime
    from portal.search.schema import EXCERPT_CHARS, clause_terms

    people = " ".join(u.display_name for u in [review.chair, *review.members])
    body = _join(review.title, review.summary, people,
                 *(_join(o.decision, o.completion_note) for o in review.outputs))
    public = review.state == PUBLIC_STATE
    audience = {"all"} if public else {f"user:{i}" for i in participant_ids(review)}
    return _clean({
        "key": f"management_review:{review.id}", "kind": "management_review", "obj_id": review.id,
        "doc_id": review.id, "ref": review.number, "ref_exact": review.number.lower(), "title": review.title,
        "body": body, "excerpt": body[:EXCERPT_CHARS], "spell": body, "doc_type": "management_review",
        "state": review.state, "rank": 0, "date": _local_datetime(review.meeting_date),
        "clauses": ",".join(clause_terms([CLAUSE])), "clause_refs": [CLAUSE], "confidentiality": "internal",
        "audience": " ".join(sorted(audience | {"controllers"})), "tour": "yes" if public else "no",
    })


def review_options():
    return (selectinload(ManagementReview.chair), selectinload(ManagementReview.members),
            selectinload(ManagementReview.outputs).selectinload(ReviewOutput.owner))
