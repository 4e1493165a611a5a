"""The change-request operations and schemas of /api/v1/openapi.json (merged by portal.openapi.spec)."""
from portal.change_requests.models import CHANGE_LEVELS, CHANGE_REQUEST_STATES
from portal.change_requests.services import MAX_COMMENT, MAX_PROPOSAL, MAX_REASON
from portal.openapi import (ID, INT, OPT_INT, OPT_STR, OPT_TIME, PAGING, STR, TIME, USERNAME, enum, obj, op,
                            page_of, query, record_of, text)

ANSWERS = {
    "ChangeRequest": record_of(
        id=INT, number=dict(STR, description="CR-YYYY-NNNN"), document_id=INT, document_code=STR,
        document_title=STR, reason=STR, proposed_change=STR, change_level=enum(CHANGE_LEVELS),
        action_id=dict(OPT_INT, description="the corrective action it was raised from (null when the "
                                            "reader may not see it)"),
        action_number=OPT_STR, state=enum(CHANGE_REQUEST_STATES), requested_by=STR, created_at=TIME,
        decided_by=OPT_STR, decided_at=OPT_TIME, decision_comment=OPT_STR,
        revision_id=dict(OPT_INT, description="the draft revision the acceptance opened"),
        revision_label=OPT_STR, implemented_at=OPT_TIME),
}

BODIES = {
    "ChangeRequestCreate": obj(["reason", "proposed_change", "change_level"],
                               reason=dict(text(MAX_REASON, required=True),
                                           description="becomes the revision's change_reason"),
                               proposed_change=text(MAX_PROPOSAL, required=True),
                               change_level=dict(enum(CHANGE_LEVELS), description="minor: A/1 → A/2; major: A/3 → B/0"),
                               action_id=dict(ID, description="a corrective action the caller may see")),
    "ChangeRequestAccept": obj(["comment"], comment=text(MAX_COMMENT, required=True),
                               author=dict(USERNAME, description="who writes the draft (default: the caller)")),
    "ChangeRequestReject": obj(["comment"], comment=text(MAX_COMMENT, required=True)),
}

OPERATIONS = [
    op("post", "/documents/{id}/change-requests", "Request a change of a document (not an external reviewer)",
       "ChangeRequest", "ChangeRequestCreate", 201),
    op("post", "/change-requests/{id}/accept", "Accept an open request (a controller or an approver of the "
       "owner department): a draft revision opens with the request's reason (409 while the document has an "
       "unreleased revision)", "ChangeRequest", "ChangeRequestAccept"),
    op("post", "/change-requests/{id}/reject", "Reject an open request with a comment", "ChangeRequest",
       "ChangeRequestReject"),
    op("get", "/change-requests", "Change requests the caller may see, newest first", page_of("ChangeRequest"),
       params=[query("document_id", ID), query("state", enum(CHANGE_REQUEST_STATES)), *PAGING]),
    op("get", "/change-requests/{id}", "One change request; once accepted, the revision that implements it",
       "ChangeRequest"),
]
