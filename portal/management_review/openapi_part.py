"""The management review operations and schemas of /api/v1/openapi.json (merged by portal.openapi.spec)."""
from portal.audit.models import CLASSIFICATIONS
from portal.management_review.models import OUTPUT_STATES, REVIEW_STATES
from portal.management_review.services import CONCLUSION_KEYS, MAX_MEMBERS, TEXT_MAX
from portal.openapi import (BOOL, DAY, DOCX, INT, OPT_DAY, OPT_INT, OPT_STR, OPT_TIME, PAGING, STR, TIME, USERNAME,
                            WRITE, array, enum, nullable, obj, op, page_of, query, record_of, ref, text)

NUMBER = {"type": "number"}
COUNTS = record_of(**{c: INT for c in CLASSIFICATIONS})
FORM_COUNT = obj(["count"], id=OPT_INT, code=OPT_STR, title=OPT_STR, count=INT,
                 restricted=dict(BOOL, description="a form the reader may not see: no id, code or title"))
RECORD_BLOCK = obj(["forms", "total"], forms=array(FORM_COUNT), total=INT)
CONCLUSION = obj(list(CONCLUSION_KEYS), closed=True, **{k: BOOL for k in CONCLUSION_KEYS})

INPUTS = obj(
    ["period", "audits", "actions", "objectives", "complaints", "documents", "previous_outputs"],
    period=record_of(**{"from": DAY, "to": DAY}), computed_at=STR, as_of=DAY,
    audits=dict(array(obj(["findings"], id=OPT_INT, number=OPT_STR, title=OPT_STR, state=OPT_STR,
                          planned_start=STR, findings=COUNTS, restricted=BOOL)),
                description="reported and closed audits planned in the period, findings by classification"),
    findings=COUNTS, audits_not_reported=INT,
    actions=dict(obj(["open", "overdue", "closed", "not_effective"],
                     **{k: INT for k in ("total", "raised", "open", "completed", "closed", "overdue",
                                         "not_effective")}),
                 description="corrective actions alive during the period, by their state at computation"),
    objectives=dict(array(obj(["id", "name", "target", "value", "met"], id=INT, name=STR, unit=STR, comparison=STR,
                              target=NUMBER, value=nullable(NUMBER), met=nullable(BOOL), numerator=NUMBER,
                              denominator=INT)),
                    description="one value per active objective over the whole review period"),
    complaints=dict({**RECORD_BLOCK, "properties": {**RECORD_BLOCK["properties"], "closed": INT, "on_time": INT,
                                                    "on_time_share": dict(nullable(NUMBER),
                                                                          description="percent of all complaints")}},
                    description="records of forms whose title or code says 投诉/complaint"),
    satisfaction=RECORD_BLOCK,
    documents=obj(["released", "overdue_reviews"], released=INT, overdue_reviews=INT, reviews_done=INT,
                  change_requests=INT, change_requests_implemented=INT),
    previous_review=nullable(obj(id=OPT_INT, number=OPT_STR, meeting_date=STR, restricted=BOOL)),
    previous_outputs=array(obj(["state"], id=OPT_INT, decision=OPT_STR, owner=STR, owner_name=STR, due_date=STR,
                               state=STR, overdue=BOOL, completed_at=OPT_STR, restricted=BOOL)))

ANSWERS = {
    "ReviewOutput": record_of(id=INT, review_id=INT, review_number=STR, decision=STR, owner=STR, owner_name=STR,
                              due_date=DAY, state=enum(OUTPUT_STATES), overdue=BOOL, completion_note=OPT_STR,
                              completed_at=OPT_TIME, created_by=STR, created_at=TIME),
    "ManagementReview": record_of(
        id=INT, number=STR, title=STR, state=enum(REVIEW_STATES), period_from=DAY, period_to=DAY, meeting_date=DAY,
        chair=STR, chair_name=STR, members=array(STR),
        inputs_sha256=dict(OPT_STR, description="SHA-256 of the frozen inputs' canonical JSON (sorted keys, "
                                                "no ASCII escapes, separators , and :), once held"),
        held_at=OPT_TIME, held_by=OPT_STR, conclusion=nullable(CONCLUSION), summary=OPT_STR, approved_at=OPT_TIME,
        retain_until=OPT_DAY, created_by=STR, created_at=TIME, outputs=array(ref("ReviewOutput"))),
    "ManagementReviewDetail": {"allOf": [ref("ManagementReview"), record_of(
        inputs_frozen=BOOL, inputs=dict(INPUTS, description="computed now while planned, frozen at hold; "
                                                            "references the reader may not see are restricted"))]},
}

BODIES = {
    "ReviewCreate": obj(["title", "period_from", "period_to", "meeting_date", "chair"],
                        title=text(300, required=True), period_from=DAY, period_to=dict(DAY, description="not before "
                        "period_from, at most three years later"), meeting_date=dict(DAY, description="not before "
                        "period_from"), chair=USERNAME, members=array(USERNAME, MAX_MEMBERS)),
    "ReviewOutputCreate": obj(["decision", "owner", "due_date"], decision=text(TEXT_MAX, required=True),
                              owner=text(64, required=True), due_date=dict(DAY, description="today or later")),
    "ReviewApprove": obj(["conclusion", "summary", "password"], conclusion=CONCLUSION,
                         summary=text(TEXT_MAX, required=True), password=STR),
}

OPERATIONS = [
    op("post", "/management-reviews", "Plan a management review (a controller or an approver)",
       "ManagementReviewDetail", "ReviewCreate", 201),
    op("get", "/management-reviews", "Management reviews the caller may see, latest meeting first "
       "(before approval only their participants and controllers see them)", page_of("ManagementReview"),
       params=[query("state", enum(REVIEW_STATES)), *PAGING]),
    op("get", "/management-reviews/{id}", "One review with its inputs and outputs", "ManagementReviewDetail"),
    op("post", "/management-reviews/{id}/hold", "planned → held: the inputs are frozen with their SHA-256 "
       "(the chair, the organiser or a controller)", "ManagementReviewDetail", errors=WRITE),
    op("post", "/management-reviews/{id}/outputs", "Record an output of a held review (409 otherwise)",
       "ReviewOutput", "ReviewOutputCreate", 201),
    op("post", "/review-outputs/{id}/complete", "The owner completes an open output", "ReviewOutput", "Note"),
    op("post", "/management-reviews/{id}/approve", "The chair approves a held review with password → closed, "
       "kept three years", "ManagementReviewDetail", "ReviewApprove"),
    op("get", "/management-reviews/{id}/report.docx", "管理评审报告 as Word (A4)", DOCX),
]
