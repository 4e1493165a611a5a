"""The inputs of a management review, worked out by hand from the fixture world (conftest.py),
frozen at hold with a SHA-256 that anyone who sees them can recompute."""
import hashlib
import json
from datetime import date

from management_review.conftest import utc
from portal.audit.models import Audit, CorrectiveAction
from portal.extensions import db
from portal.management_review import inputs, services
from portal.records import services as records


def test_inputs_computed_from_the_period(world, review, people):
    data = inputs.compute(review)
    assert data["period"] == {"from": "2026-03-01", "to": "2026-08-31"}
    assert data["as_of"] == "2026-09-10"
    # reported and closed audits planned in the period; the one still running is only counted
    assert [(a["number"], a["state"], a["findings"]) for a in data["audits"]] == [
        ("IA-2026-001", "closed", {"major": 0, "minor": 2, "observation": 1, "ofi": 0}),
        ("IA-2026-002", "reported", {"major": 1, "minor": 0, "observation": 0, "ofi": 1})]
    assert data["findings"] == {"major": 1, "minor": 2, "observation": 1, "ofi": 1}
    assert data["audits_not_reported"] == 1
    # alive in the period: CA-2026-0001..0003 raised in it and CA-2025-0002 carried over; not the
    # one closed in January nor the one raised in September
    assert data["actions"] == {"total": 4, "raised": 3, "open": 2, "completed": 1, "closed": 1,
                               "overdue": 1, "not_effective": 1}


def test_complaints_count_neither_voided_nor_outside_records(world, review):
    complaints = inputs.compute(review)["complaints"]
    # in the period, not voided: on_time, flagged, open, late_reply and the three from runs
    assert complaints["total"] == 7
    assert complaints["forms"] == [{"id": world.complaint.id, "code": "QR-YX003", "title": "客户投诉处理报告单",
                                    "count": 7}]
    # closed: the record closed and, from a run, the run ended (not run_open, not the open record)
    assert complaints["closed"] == 5
    # on time: on_time, and run_on_time (its run's clock, whatever its box says); flagged (逾期
    # box), late_reply (replied after the promise) and run_late (a step after its due time) late
    assert complaints["on_time"] == 2
    assert complaints["on_time_share"] == 28.6  # 2 of 7
    satisfaction = inputs.compute(review)["satisfaction"]
    assert satisfaction["total"] == 2 and satisfaction["forms"][0]["code"] == "YX/QT-05"


def test_objectives_measured_over_the_whole_period(world, review):
    objectives = inputs.compute(review)["objectives"]
    count, ratio, timely = world.objectives
    assert objectives == [
        # seven complaint records in the period (the voided one never counts) against ≤ 5
        {"id": count.id, "name": "投诉数量", "unit": "count", "comparison": "<=", "target": 5.0, "value": 7,
         "met": False, "numerator": 7, "denominator": 7},
            # a quarterly objective measured on exactly March–August: 4 of the 6 closed records
        # have the 逾期 box unticked (flagged and run_on_time have it ticked)
        {"id": ratio.id, "name": "投诉未逾期率", "unit": "%", "comparison": ">=", "target": 90.0,
         "value": 66.6667, "met": False, "numerator": 4, "denominator": 6},
        # runs closed in the period: run_on_time on time, run_late not (run_open never closed)
        {"id": timely.id, "name": "投诉处理及时率", "unit": "%", "comparison": ">=", "target": 95.0,
         "value": 50.0, "met": False, "numerator": 1, "denominator": 2},
    ]  # the inactive objective is left out


def test_documents_of_the_period(world, review):
    assert inputs.compute(review)["documents"] == {"released": 1, "overdue_reviews": 1, "reviews_done": 1,
                                                   "change_requests": 0, "change_requests_implemented": 0}


def test_hold_freezes_the_inputs_with_their_sha256(world, review, people, frozen):
    expected = inputs.compute(review)
    services.hold_review(people.organiser, review)
    assert review.state == "held" and review.inputs == expected
    canonical = json.dumps(review.inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert review.inputs_sha256 == hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    # the data changes after the meeting: nothing of the held review does
    frozen(utc(2026, 9, 20, 2))
    records.void_record(people.controller, world.complaints["on_time"], {"reason": "重复登记"})
    action = db.session.query(CorrectiveAction).filter_by(number="CA-2026-0002").one()
    action.state, action.closed_at = "closed", utc(2026, 9, 20, 2)
    db.session.add(Audit(number="IA-2026-004", title="补充审核", planned_start=date(2026, 8, 1),
                         planned_end=date(2026, 8, 1), state="closed", clauses=[], lead_auditor=people.auditor,
                         created_by=people.auditor))
    db.session.commit()
    db.session.expire_all()
    assert review.inputs == expected and inputs.sha256_of(review.inputs) == review.inputs_sha256
    assert inputs.compute(review) != expected  # what a new computation would say

    api = _api(people.controller)
    body = api.get(f"/management-reviews/{review.id}").get_json()
    assert body["inputs"] == expected and body["inputs_frozen"] is True
    canonical = json.dumps(body["inputs"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == body["inputs_sha256"] == review.inputs_sha256


def _api(user):
    from flask import current_app

    from factories import Factories

    return Factories(current_app._get_current_object()).api(user)


def test_previous_review_outputs_and_their_state(world, people, plan, frozen):
    frozen(utc(2026, 2, 1, 2))
    earlier = services.create_review(people.organiser, plan(title="2025年度管理评审", period_from="2025-03-01",
                                                            period_to="2026-02-27", meeting_date="2026-02-28"))
    frozen(utc(2026, 2, 28, 2))
    services.hold_review(people.chair, earlier)
    done = services.add_output(people.organiser, earlier, {"decision": "建立文控门户", "owner": "sunli",
                                                           "due_date": "2026-06-30"})
    services.add_output(people.organiser, earlier, {"decision": "投诉逾期自动提醒", "owner": "sunli",
                                                    "due_date": "2026-08-31"})
    frozen(utc(2026, 6, 1, 2))
    services.complete_output(people.member, done, {"note": "已上线"})
    frozen(utc(2026, 9, 10, 2))
    current = services.create_review(people.organiser, plan())
    data = inputs.compute(current)
    assert data["previous_review"] == {"id": earlier.id, "number": earlier.number, "meeting_date": "2026-02-28"}
    assert [(o["decision"], o["owner"], o["state"], o["overdue"]) for o in data["previous_outputs"]] == [
        ("建立文控门户", "sunli", "completed", False), ("投诉逾期自动提醒", "sunli", "open", True)]
    # and the earlier review's own inputs name no previous review
    assert earlier.inputs["previous_review"] is None and earlier.inputs["previous_outputs"] == []
