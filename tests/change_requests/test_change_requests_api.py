"""Document change requests through the JSON API (CONTRACT.md "Document change requests"):
raised by any writer, decided by a controller or the owner department's approver, the accepted
request opening the draft revision that implements it, and its release closing the request."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from change_requests.conftest import REQUEST, trail_actions
from portal import clock
from portal.documents import workflow
from portal.extensions import db
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry


def inbox(user) -> list[Notification]:
    """The user's notices about change requests, oldest first."""
    db.session.rollback()
    return list(db.session.execute(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind.like("change_request%"))
                                   .order_by(Notification.id)).scalars())


def test_anyone_but_the_reviewer_raises_a_numbered_request(f, procedure, staff, controller, approver,
                                                            other_approver, raise_cr):
    cr = raise_cr(staff, procedure)
    assert {k: cr[k] for k in ("number", "document_id", "state", "requested_by")} == {
        "number": "CR-2026-0001", "document_id": procedure.id, "state": "open", "requested_by": "zhangwei"}
    assert cr["reason"] == REQUEST["reason"] and cr["change_level"] == "minor" and cr["revision_id"] is None
    assert raise_cr(f.user("auditor"), procedure)["number"] == "CR-2026-0002"
    # the deciders are told, with a link to the request; an approver of another department is not
    assert [n.link for n in inbox(controller)] == [f"/change-requests/{cr['id']}", f"/change-requests/{cr['id'] + 1}"]
    assert "CR-2026-0001" in inbox(approver)[0].message
    assert inbox(other_approver) == []
    assert trail_actions(cr["id"]) == ["change_request.create"]


def test_the_number_takes_the_year_of_the_request_in_the_portal_time_zone(frozen, procedure, staff, raise_cr):
    frozen(datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc))  # 2027-01-01 01:00 in Shanghai
    assert raise_cr(staff, procedure)["number"] == "CR-2027-0001"


def test_accepting_opens_the_draft_with_the_request_reason(f, procedure, staff, approver, raise_cr, decide):
    cr = raise_cr(staff, procedure)
    writer = f.user("staff", username="liming", department="ZB")
    accepted = decide(approver, cr, "accept", comment="同意修订", author="liming")
    assert accepted["state"] == "accepted" and accepted["decided_by"] == "zhaoguoqiang"
    assert accepted["decision_comment"] == "同意修订" and accepted["revision_label"] == "A/1"
    rev = f.api(writer).get(f"/revisions/{accepted['revision_id']}").get_json()
    assert (rev["state"], rev["label"], rev["author"]) == ("draft", "A/1", "liming")
    assert rev["change_reason"] == REQUEST["reason"] and rev["change_level"] == "minor"
    assert rev["change_request_id"] == cr["id"]
    assert rev["body_html"] == procedure.current_revision.body_html  # the draft starts from the revision in force
    assert f.api(staff).get(f"/change-requests/{cr['id']}").get_json()["revision_label"] == "A/1"
    # the requester hears of the decision, the writer of the draft to write
    assert "CR-2026-0001" in inbox(staff)[-1].message and inbox(writer)[-1].link == f"/change-requests/{cr['id']}"
    assert trail_actions(cr["id"]) == ["change_request.create", "change_request.accept"]


def test_a_major_request_opens_the_next_edition_and_the_acceptor_writes_by_default(procedure, staff, controller,
                                                                                    raise_cr, decide):
    cr = raise_cr(staff, procedure, change_level="major")
    accepted = decide(controller, cr, "accept", comment="换版")
    assert accepted["revision_label"] == "B/0"
    db.session.rollback()
    assert procedure.revisions[-1].author_id == controller.id and procedure.revisions[-1].label == "B/0"


def test_releasing_the_revision_implements_the_request_in_the_same_transaction(f, procedure, staff, controller,
                                                                                raise_cr, approved_draft):
    cr = raise_cr(staff, procedure)
    rev_id = approved_draft(cr).id
    released = f.api(controller).post(f"/revisions/{rev_id}/release",
                                      json={"effective_date": clock.today().isoformat()})
    assert released.status_code == 200 and released.get_json()["change_request_id"] == cr["id"]
    # one release, one transaction: the implement entry follows the release's own entries
    db.session.rollback()
    tail = db.session.execute(select(TrailEntry.action).order_by(TrailEntry.seq.desc()).limit(3)).scalars().all()
    assert tail[0] == "change_request.implement" and "revision.make_effective" in tail
    done = f.api(staff).get(f"/change-requests/{cr['id']}").get_json()
    assert done["state"] == "implemented" and done["implemented_at"]
    assert trail_actions(cr["id"]) == ["change_request.create", "change_request.accept", "change_request.implement"]
    assert "CR-2026-0001" in inbox(staff)[-1].message


def test_a_release_for_a_later_day_implements_the_request_when_released(f, procedure, staff, controller,
                                                                        raise_cr, approved_draft):
    cr = raise_cr(staff, procedure)
    rev = approved_draft(cr)
    workflow.release_revision(controller, rev, {"effective_date": (clock.today() + timedelta(days=7)).isoformat()})
    assert f.api(staff).get(f"/change-requests/{cr['id']}").get_json()["state"] == "implemented"


def test_rejecting_keeps_the_comment_and_tells_the_requester(procedure, staff, approver, raise_cr, decide):
    cr = raise_cr(staff, procedure)
    rejected = decide(approver, cr, "reject", comment="现行程序已覆盖该要求，见 4.5")
    assert rejected["state"] == "rejected" and rejected["decision_comment"] == "现行程序已覆盖该要求，见 4.5"
    assert rejected["revision_id"] is None
    db.session.rollback()
    assert len(procedure.revisions) == 1
    assert "现行程序已覆盖该要求" in inbox(staff)[-1].message
    assert trail_actions(cr["id"]) == ["change_request.create", "change_request.reject"]


def test_the_list_filters_by_document_and_state(f, controller, procedure, staff, approver, raise_cr, decide):
    other = f.document(controller, code="QP0501", title="文件和资料控制程序", department="ZB")
    f.effective(other, controller=controller)
    first = raise_cr(staff, procedure)
    second = raise_cr(staff, procedure)
    third = raise_cr(staff, other)
    decide(approver, first, "reject", comment="不采纳")
    api = f.api(staff)
    numbers = lambda q: [i["number"] for i in api.get(f"/change-requests{q}").get_json()["items"]]  # noqa: E731
    assert numbers("") == [third["number"], second["number"], first["number"]]  # newest first
    assert numbers(f"?document_id={procedure.id}") == [second["number"], first["number"]]
    assert numbers(f"?document_id={procedure.id}&state=open") == [second["number"]]
    assert numbers("?state=rejected") == [first["number"]]
    body = api.get("/change-requests?per_page=1&page=2").get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (3, 2, 1, 1)
    assert api.get("/change-requests?state=closed").status_code == 400


def test_a_request_raised_from_a_corrective_action_names_it(f, procedure, staff, action, raise_cr, reviewer):
    cr = raise_cr(staff, procedure, action_id=action.id)
    assert (cr["action_id"], cr["action_number"]) == (action.id, action.number)
    # the reviewer sees the request of an effective document, but not an action of an unreported audit
    seen = f.api(reviewer).get(f"/change-requests/{cr['id']}").get_json()
    assert seen["number"] == cr["number"] and seen["action_id"] is None and seen["action_number"] is None


def test_the_trail_api_lists_a_request_for_whoever_sees_its_document(f, procedure, staff, raise_cr, decide,
                                                                      controller):
    cr = raise_cr(staff, procedure)
    decide(controller, cr, "reject", comment="不采纳")
    body = f.api(staff).get(f"/trail?object_type=change_request&object_id={cr['id']}").get_json()
    assert [e["action"] for e in body["items"]] == ["change_request.create", "change_request.reject"]
    assert body["items"][1]["reason"] == "不采纳" and body["items"][1]["after"]["state"] == "rejected"
