"""Bad input and forbidden steps: each a clear 4xx with nothing changed (no review, output,
trail entry or notice more, no state moved)."""
import pytest

from factories import PASSWORD
from portal.accounts import services as accounts
from portal.extensions import db
from portal.management_review import services
from portal.management_review.models import ManagementReview, ReviewOutput
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry

APPROVAL = {"conclusion": {"suitable": True, "adequate": True, "effective": True}, "summary": "有效",
            "password": PASSWORD}


def _snapshot():
    db.session.expire_all()
    return (db.session.query(ManagementReview).count(), db.session.query(ReviewOutput).count(),
            db.session.query(TrailEntry).count(), db.session.query(Notification).count(),
            sorted((r.id, r.state, r.inputs_sha256) for r in db.session.query(ManagementReview)),
            sorted((o.id, o.state) for o in db.session.query(ReviewOutput)))


@pytest.fixture
def refused(f):
    """refused(user, path, body, status, field=None, code=None): the answer, and nothing changed."""
    def check(user, path, body, status, field=None, code=None, **kw):
        api = f.api(user)  # its token is a trail entry of its own
        before = _snapshot()
        response = api.post(path, json=body, **kw)
        assert response.status_code == status, response.get_data(as_text=True)
        error = response.get_json()["error"]
        if field:
            assert field in error.get("fields", {}), error
        if code:
            assert error["code"] == code, error
        assert _snapshot() == before
        return error
    return check


@pytest.fixture
def held(review, people):
    return services.hold_review(people.organiser, review)


@pytest.mark.parametrize("overrides, field", [
    ({"period_from": "2026-09-01", "period_to": "2026-08-31"}, "period_to"),
    ({"period_from": "2020-01-01", "period_to": "2026-08-31"}, "period_to"),  # longer than three years
    ({"period_from": "1960-01-01", "period_to": "1960-12-31"}, "period_from"),
    ({"meeting_date": "2026-13-01"}, "meeting_date"),
    ({"meeting_date": "10/09/2026"}, "meeting_date"),
    ({"meeting_date": 20260910}, "meeting_date"),
    ({"meeting_date": "2026-W37-4"}, "meeting_date"),
    ({"meeting_date": "2026-02-15"}, "meeting_date"),  # before the period starts
    ({"meeting_date": "2099-01-01"}, "meeting_date"),  # more than five years ahead
    ({"meeting_date": None}, "meeting_date"),
    ({"chair": "nobody"}, "chair"),
    ({"chair": "cb_auditor"}, "chair"),  # the read-only reviewer takes no part
    ({"chair": ""}, "chair"),
    ({"chair": ["chenjianhua"]}, "chair"),
    ({"members": ["sunli", "nobody"]}, "members"),
    ({"members": "sunli"}, "members"),
    ({"members": [1, 2]}, "members"),
    ({"members": ["u"] * 51}, "members"),
    ({"title": ""}, "title"),
    ({"title": "年" * 301}, "title"),
    ({"title": "管理评审\x07"}, "title"),
])
def test_plan_refused(people, plan, refused, overrides, field):
    refused(people.organiser, "/management-reviews", plan(**overrides), 422, field)


def test_plan_refuses_a_deactivated_member(people, plan, refused, f):
    accounts.update_user(f.user("admin"), people.member, active=False)
    refused(people.organiser, "/management-reviews", plan(), 422, "members")


@pytest.mark.parametrize("who", ["member", "outsider", "auditor", "reviewer"])
def test_only_controllers_and_approvers_plan(people, plan, refused, who):
    refused(getattr(people, who), "/management-reviews", plan(), 403)


def test_malformed_bodies(people, f):
    api = f.api(people.organiser)
    before = _snapshot()
    for response in (api.post("/management-reviews", data="{", headers={"Content-Type": "application/json"}),
                     api.post("/management-reviews", json=["title"]),
                     api.post("/management-reviews", data="title=x",
                              headers={"Content-Type": "application/x-www-form-urlencoded"}),
                     api.post("/management-reviews", json={"title": "a\ud800"})):
        assert response.status_code == 400, response.get_data(as_text=True)
    assert _snapshot() == before


def test_hold_twice_and_by_others(people, review, refused, f):
    refused(people.member, f"/management-reviews/{review.id}/hold", None, 403)  # a member does not record it
    refused(people.outsider, f"/management-reviews/{review.id}/hold", None, 404)  # nor sees it yet
    refused(people.reviewer, f"/management-reviews/{review.id}/hold", None, 403, code="read_only")
    assert f.api(people.chair).post(f"/management-reviews/{review.id}/hold").status_code == 200
    refused(people.organiser, f"/management-reviews/{review.id}/hold", None, 409, code="not_planned")


def test_approve_refused(people, review, refused):
    path = f"/management-reviews/{review.id}/approve"
    refused(people.chair, path, APPROVAL, 409, code="not_held")
    services.hold_review(people.organiser, review)
    for who in ("organiser", "controller", "member"):
        refused(getattr(people, who), path, APPROVAL, 403)
    refused(people.outsider, path, APPROVAL, 404)
    error = refused(people.chair, path, {**APPROVAL, "password": "wrong-password"}, 403, code="wrong_password")
    assert "password" in error["message"].lower() or "密码" in error["message"]
    for conclusion in ({"suitable": "yes", "adequate": True, "effective": True},
                       {"suitable": 1, "adequate": True, "effective": True},
                       {"suitable": True, "adequate": True},
                       {"suitable": True, "adequate": True, "effective": True, "extra": True},
                       [True, True, True], None, "true"):
        refused(people.chair, path, {**APPROVAL, "conclusion": conclusion}, 422, "conclusion")
    refused(people.chair, path, {**APPROVAL, "summary": ""}, 422, "summary")
    refused(people.chair, path, {**APPROVAL, "summary": "总" * 4001}, 422, "summary")
    refused(people.chair, path, {k: v for k, v in APPROVAL.items() if k != "password"}, 422, "password")
    refused(people.chair, path, {**APPROVAL, "password": 12345678}, 422, "password")


def test_wrong_passwords_count_towards_the_lockout(people, review, f):
    services.hold_review(people.organiser, review)
    api = f.api(people.chair)
    for _ in range(5):
        assert api.post(f"/management-reviews/{review.id}/approve",
                        json={**APPROVAL, "password": "nope"}).status_code == 403
    # the sixth attempt waits, even with the right password: the same throttle as signing
    response = api.post(f"/management-reviews/{review.id}/approve", json=APPROVAL)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "locked"
    db.session.expire_all()
    assert db.session.get(ManagementReview, review.id).state == "held"


def test_approve_twice(people, held, refused, f):
    assert f.api(people.chair).post(f"/management-reviews/{held.id}/approve", json=APPROVAL).status_code == 200
    refused(people.chair, f"/management-reviews/{held.id}/approve", APPROVAL, 409, code="not_held")


@pytest.mark.parametrize("payload, field", [
    ({"decision": "加强培训", "due_date": "2026-12-31"}, "owner"),
    ({"decision": "加强培训", "owner": "", "due_date": "2026-12-31"}, "owner"),
    ({"decision": "加强培训", "owner": "nobody", "due_date": "2026-12-31"}, "owner"),
    ({"decision": "加强培训", "owner": "cb_auditor", "due_date": "2026-12-31"}, "owner"),
    ({"decision": "加强培训", "owner": "sunli", "due_date": "2026-09-09"}, "due_date"),  # yesterday
    ({"decision": "加强培训", "owner": "sunli", "due_date": "2026-9-30"}, "due_date"),
    ({"decision": "加强培训", "owner": "sunli"}, "due_date"),
    ({"decision": "加强培训", "owner": "sunli", "due_date": "9999-12-31"}, "due_date"),
    ({"decision": "", "owner": "sunli", "due_date": "2026-12-31"}, "decision"),
    ({"decision": "措" * 4001, "owner": "sunli", "due_date": "2026-12-31"}, "decision"),
    ({"decision": {"text": "x"}, "owner": "sunli", "due_date": "2026-12-31"}, "decision"),
])
def test_output_refused(people, held, refused, payload, field):
    refused(people.organiser, f"/management-reviews/{held.id}/outputs", payload, 422, field)


def test_output_by_a_member_refused(people, held, refused):
    refused(people.member, f"/management-reviews/{held.id}/outputs",
            {"decision": "加强培训", "owner": "sunli", "due_date": "2026-12-31"}, 403)


def test_complete_refused(people, held, refused, f):
    output = services.add_output(people.organiser, held, {"decision": "加强培训", "owner": "sunli",
                                                          "due_date": "2026-12-31"})
    path = f"/review-outputs/{output.id}/complete"
    refused(people.organiser, path, {"note": "我替他完成"}, 403)  # someone else's output
    refused(people.chair, path, {"note": "我替他完成"}, 403)
    refused(people.member, path, {}, 422, "note")
    refused(people.member, path, {"note": "注" * 4001}, 422, "note")
    assert f.api(people.member).post(path, json={"note": "已完成"}).status_code == 200
    refused(people.member, path, {"note": "再完成一次"}, 409, code="output_not_open")


def test_unknown_ids(people, f):
    api = f.api(people.controller)
    for path in ("/management-reviews/999999", "/management-reviews/99999999999/report.docx"):
        assert api.get(path).status_code == 404
    assert api.post("/review-outputs/424242/complete", json={"note": "x"}).status_code == 404
    assert api.get("/management-reviews?state=nonsense").status_code == 400


def test_hostile_text_is_kept_as_text(people, plan, f, browser):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    body = f.api(people.organiser).post("/management-reviews", json=plan(title=f"评审 {hostile}")).get_json()
    assert body["title"] == f"评审 {hostile}"
    for url in (f"/management-reviews/{body['id']}", "/management-reviews"):
        page = browser(people.organiser).get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page and "&lt;script&gt;" in page
