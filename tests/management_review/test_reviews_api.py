"""The management review through the JSON API: plan, hold, outputs, approval, report; who may
do each; notices and the trail."""
import io

import docx
import pytest

from factories import PASSWORD
from management_review.conftest import utc
from portal.extensions import db
from portal.management_review.models import ManagementReview
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry


@pytest.fixture
def as_(f):
    return f.api


def _trail(review_id):
    return [e.action for e in db.session.query(TrailEntry).filter_by(object_type="management_review",
                                                                      object_id=review_id).order_by(TrailEntry.seq)]


def test_the_whole_review(world, people, plan, as_):
    organiser, chair, member = as_(people.organiser), as_(people.chair), as_(people.member)
    response = organiser.post("/management-reviews", json=plan())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"] == "MR-2026-01" and body["state"] == "planned"
    assert body["chair"] == "chenjianhua" and body["members"] == ["sunli", "zhaoguoqiang"]
    assert body["inputs_frozen"] is False and body["inputs"]["complaints"]["total"] == 7
    review_id = body["id"]
    # members and the chair are told
    told = {n.user.username for n in db.session.query(Notification).filter_by(kind="management_review")}
    assert told == {"chenjianhua", "sunli", "zhaoguoqiang"}

    held = organiser.post(f"/management-reviews/{review_id}/hold").get_json()
    assert held["state"] == "held" and held["inputs_frozen"] is True and len(held["inputs_sha256"]) == 64
    assert held["held_by"] == "zhaoguoqiang"

    out = organiser.post(f"/management-reviews/{review_id}/outputs",
                         json={"decision": "投诉逾期自动提醒上线", "owner": "sunli", "due_date": "2026-12-31"})
    assert out.status_code == 201, out.get_json()
    output = out.get_json()
    assert output["state"] == "open" and output["owner"] == "sunli" and output["review_number"] == "MR-2026-01"
    assert db.session.query(Notification).filter_by(kind="review_output", user_id=people.member.id).count() == 1

    done = member.post(f"/review-outputs/{output['id']}/complete", json={"note": "已上线，每日 9 点提醒"})
    assert done.status_code == 200 and done.get_json()["state"] == "completed"

    approved = chair.post(f"/management-reviews/{review_id}/approve", json={
        "conclusion": {"suitable": True, "adequate": True, "effective": False},
        "summary": "体系适宜、充分；投诉处理及时率未达标，有效性待提高。", "password": PASSWORD})
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["state"] == "closed" and body["conclusion"] == {"suitable": True, "adequate": True, "effective": False}
    assert body["retain_until"] == "2029-09-10"  # approval day + 3 years
    assert body["inputs_sha256"] == held["inputs_sha256"] and body["inputs"] == held["inputs"]
    assert _trail(review_id) == ["management_review.create", "management_review.hold",
                                 "management_review.output_add", "management_review.output_complete",
                                 "management_review.approve"]

    listing = as_(people.outsider).get("/management-reviews").get_json()
    assert [r["number"] for r in listing["items"]] == ["MR-2026-01"] and "inputs" not in listing["items"][0]
    trail = as_(people.outsider).get(f"/trail?object_type=management_review&object_id={review_id}").get_json()
    assert trail["total"] == 5


def test_report_docx(world, people, plan, as_, review):
    from portal.management_review import services

    services.hold_review(people.organiser, review)
    services.add_output(people.organiser, review, {"decision": "派工单增加携带备件核对", "owner": "sunli",
                                                   "due_date": "2026-10-31"})
    services.approve_review(people.chair, review, {"conclusion": {"suitable": True, "adequate": True,
                                                                  "effective": True},
                                                   "summary": "体系总体适宜、充分、有效。", "password": PASSWORD})
    response = as_(people.member).get(f"/management-reviews/{review.id}/report.docx")
    assert response.status_code == 200
    assert "MR-2026-01" in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.get_data()))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "管理评审报告" in text and "体系总体适宜、充分、有效。" in text
    for expected in ("MR-2026-01", "陈建华", "IA-2026-001", "IA-2026-002", "投诉数量", "未达标", "QR-YX003",
                     "派工单增加携带备件核对", "孙丽", "2026-10-31", "主持人", "批准", review.inputs_sha256):
        assert expected in cells or expected in text, expected
    xml = document.element.xml
    assert "w:tblHeader" in xml and "w:cantSplit" in xml
    widths = [c.width for c in document.tables[1].rows[0].cells]  # the audits table: weighted columns
    assert widths[1] > 2 * widths[3]


def test_outputs_only_while_held(people, plan, as_, review):
    from portal.management_review import services

    organiser = as_(people.organiser)
    payload = {"decision": "加强培训", "owner": "sunli", "due_date": "2026-12-31"}
    refused = organiser.post(f"/management-reviews/{review.id}/outputs", json=payload)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "review_not_held"
    services.hold_review(people.organiser, review)
    assert organiser.post(f"/management-reviews/{review.id}/outputs", json=payload).status_code == 201
    services.approve_review(people.chair, review, {"conclusion": {"suitable": True, "adequate": True,
                                                                  "effective": True},
                                                   "summary": "有效", "password": PASSWORD})
    assert organiser.post(f"/management-reviews/{review.id}/outputs", json=payload).status_code == 409
    # an output stays completable after the approval
    output = review.outputs[0]
    assert as_(people.member).post(f"/review-outputs/{output.id}/complete",
                                   json={"note": "完成"}).status_code == 200


def test_dashboard_lists_my_open_outputs(people, review, frozen, browser):
    from portal.management_review import services

    services.hold_review(people.organiser, review)
    services.add_output(people.organiser, review, {"decision": "逾期的输出", "owner": "sunli", "due_date": "2026-09-15"})
    services.add_output(people.organiser, review, {"decision": "按期的输出", "owner": "sunli", "due_date": "2026-12-31"})
    frozen(utc(2026, 10, 1, 2))
    page = browser(people.member).get("/").get_data(as_text=True)
    assert "我的管理评审输出" in page or "My management review outputs" in page
    assert "逾期的输出" in page and "按期的输出" in page
    late_row = page.split("逾期的输出")[1].split("</tr>")[0]
    assert "overdue" in late_row and "overdue" not in page.split("按期的输出")[1].split("</tr>")[0]
    assert "逾期的输出" not in browser(people.outsider).get("/").get_data(as_text=True)


def test_number_continues_in_the_meeting_year(people, plan, as_, frozen):
    frozen(utc(2026, 9, 10, 2))
    api = as_(people.controller)
    numbers = [api.post("/management-reviews", json=plan(meeting_date=day)).get_json()["number"]
               for day in ("2026-09-10", "2026-12-20", "2027-01-15")]
    assert numbers == ["MR-2026-01", "MR-2026-02", "MR-2027-01"]
    assert db.session.query(ManagementReview).count() == 3
