"""Corrective actions (QP1401) through the API: the owner comes from the finding's department and
is told with the due date; no completion without a root cause; effectiveness verified by an
independent auditor on or after `verify_after`; not effective → reopened and the owner told;
found by search through their root cause. Every refusal changes nothing."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.audit.models import CorrectiveAction
from portal.extensions import db
from portal.notifications.models import Notification
from portal.search import indexer
from portal.trail.models import TrailEntry


def counts() -> tuple:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (CorrectiveAction, TrailEntry, Notification))


def notices(user) -> list[Notification]:
    db.session.rollback()
    return list(db.session.execute(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)).scalars())


def refused(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    return response.get_json()["error"]


def stored(action_id: int) -> CorrectiveAction:
    db.session.rollback()
    return db.session.get(CorrectiveAction, action_id)


# --- assignment ------------------------------------------------------------------------------

def test_the_owner_is_told_with_the_due_date(action, owner):
    act = action(due_date="2099-04-30")
    [notice] = notices(owner)
    assert notice.kind == "action_assigned" and notice.link == f"/actions/{act['id']}"
    assert act["number"] in notice.message and "2099-04-30" in notice.message


def test_the_departments_manager_may_own_an_action(f, action, depts):
    from portal.accounts import services as accounts

    manager = f.user("approver")
    accounts.set_department_manager(f.user("admin"), "SC", manager.username)
    assert action(owner=manager.username)["owner"] == manager.username


@pytest.mark.parametrize("who", ["other_department", "reviewer", "unknown", "inactive"])
def test_an_owner_outside_the_findings_department_is_422(f, api, finding, depts, who):
    from portal.accounts import services as accounts

    made = finding()
    name = {"other_department": lambda: f.user("staff", department="SH").username,
            "reviewer": lambda: f.user("external_reviewer").username, "unknown": lambda: "nobody",
            "inactive": lambda: accounts.update_user(f.user("admin"), f.user("staff", department="SC"),
                                                     active=False).username}[who]()
    before = counts()
    error = refused(api.post(f"/findings/{made['id']}/actions", json={
        "owner": name, "due_date": "2099-01-01", "plan": "修订"}), 422)
    assert "owner" in error["fields"] and counts() == before


@pytest.mark.parametrize("body, field", [
    ({"due_date": "2099-02-30"}, "due_date"),
    ({"due_date": "yesterday"}, "due_date"),
    ({"due_date": "2020-01-01"}, "due_date"),
    ({"verify_after": "2020-01-01"}, "verify_after"),
    ({"verify_after": 20990101}, "verify_after"),
    ({"occurs_elsewhere": "是" * 4001}, "occurs_elsewhere"),
])
def test_bad_dates_and_texts_on_a_new_action_are_422(api, finding, owner, body, field):
    made = finding()
    before = counts()
    payload = {"owner": owner.username, "due_date": "2099-01-01", "plan": "修订", **body}
    assert field in refused(api.post(f"/findings/{made['id']}/actions", json=payload), 422)["fields"]
    assert counts() == before


# --- completion ------------------------------------------------------------------------------

def test_no_completion_without_a_root_cause(f, action, owner, frozen):
    frozen(datetime(2026, 5, 6, 2, tzinfo=timezone.utc))
    act = action(root_cause=None)
    owner_api = f.api(owner)
    before = counts()
    for body in ({"note": "已整改"}, {"note": "已整改", "root_cause": ""}, {"note": "已整改", "root_cause": "  "}):
        error = refused(owner_api.post(f"/actions/{act['id']}/complete", json=body), 422)
        assert "root_cause" in error["fields"]
    assert counts() == before and stored(act["id"]).state == "open"
    done = owner_api.post(f"/actions/{act['id']}/complete", json={
        "note": "已整改", "root_cause": "发放回收记录未核对", "occurs_elsewhere": "其他部门资料柜同样可能"})
    assert done.status_code == 200
    body = done.get_json()
    assert (body["state"], body["root_cause"], body["occurs_elsewhere"]) == (
        "completed", "发放回收记录未核对", "其他部门资料柜同样可能")
    assert body["verify_after"] == "2026-05-06"  # by default, the completion day
    entry = db.session.execute(select(TrailEntry).where(TrailEntry.action == "action.complete")).scalar_one()
    assert entry.after["root_cause"] == "发放回收记录未核对" and entry.before["root_cause"] is None


def test_the_root_cause_given_at_assignment_is_enough(f, action, owner, frozen):
    frozen(datetime(2026, 5, 6, 2, tzinfo=timezone.utc))
    act = action()
    done = f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"}).get_json()
    assert done["root_cause"] == "发放回收记录未核对" and done["verify_after"] == "2026-05-06"


@pytest.mark.parametrize("body", [{"note": "x", "root_cause": 5}, {"note": "x", "verify_after": "2026-13-01"},
                                  {"note": "x", "verify_after": "2000-01-01"}, {"root_cause": "原因"}])
def test_bad_completions_are_422_and_change_nothing(f, action, owner, body):
    act = action()
    owner_api = f.api(owner)
    before = counts()
    refused(owner_api.post(f"/actions/{act['id']}/complete", json=body), 422)
    assert counts() == before and stored(act["id"]).state == "open"


# --- verification --------------------------------------------------------------------------------

def test_verification_waits_for_verify_after(f, api, action, owner, frozen):
    frozen(datetime(2026, 5, 6, 2, tzinfo=timezone.utc))
    act = action(verify_after="2026-06-01")
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    before = counts()
    early = refused(api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "看过"}), 409)
    assert early["code"] == "too_early_to_verify" and "2026-06-01" in early["message"]
    assert counts() == before and stored(act["id"]).state == "completed"
    frozen(datetime(2026, 6, 1, 1, tzinfo=timezone.utc))
    assert api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "有效"}).get_json()["state"] == "closed"


def test_the_owner_sets_verify_after_at_completion(f, api, action, owner, frozen):
    frozen(datetime(2026, 5, 6, 2, tzinfo=timezone.utc))
    act = action()
    done = f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成", "verify_after": "2026-08-01"})
    assert done.get_json()["verify_after"] == "2026-08-01"
    refused(api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "x"}), 409)


def test_one_cannot_verify_ones_own_action(f, api, finding, depts):
    sc_auditor = f.user("auditor", department="SC")
    act = api.post(f"/findings/{finding()['id']}/actions", json={
        "owner": sc_auditor.username, "due_date": "2099-01-01", "plan": "修订", "root_cause": "无核对"}).get_json()
    own = f.api(sc_auditor)
    own.post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    before = counts()
    refused(own.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "我自己看过"}), 403)
    assert counts() == before and stored(act["id"]).state == "completed"


def test_not_effective_reopens_and_tells_the_owner(f, api, action, owner, second_auditor):
    act = action()
    owner_api = f.api(owner)
    owner_api.post(f"/actions/{act['id']}/complete", json={"note": "已整改"})
    verified = f.api(second_auditor).post(f"/actions/{act['id']}/verify", json={
        "effective": False, "note": "抽查仍有作废版本", "due_date": "2099-06-30"})
    assert verified.status_code == 200
    body = verified.get_json()
    assert (body["state"], body["reopened_count"], body["due_date"]) == ("open", 1, "2099-06-30")
    assert body["verification"]["effective"] is False and body["verify_after"] is None
    reopened = [n for n in notices(owner) if n.kind == "action_reopened"]
    assert len(reopened) == 1 and "2099-06-30" in reopened[0].message
    # the owner analyses again and completes again; the second verification closes it
    owner_api.post(f"/actions/{act['id']}/complete", json={"note": "夜班派工一并修订", "root_cause": "夜班未覆盖"})
    closed = api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "有效"}).get_json()
    assert (closed["state"], closed["reopened_count"], closed["root_cause"]) == ("closed", 1, "夜班未覆盖")


@pytest.mark.parametrize("body, field", [
    ({"effective": True, "note": "x", "due_date": "2099-01-01"}, "due_date"),
    ({"effective": False, "note": "x", "due_date": "2001-01-01"}, "due_date"),
    ({"effective": False, "note": "x", "due_date": "31/12/2099"}, "due_date"),
    ({"effective": "no", "note": "x"}, "effective"),
])
def test_bad_verifications_are_422_and_change_nothing(f, api, action, owner, body, field):
    act = action()
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    before = counts()
    assert field in refused(api.post(f"/actions/{act['id']}/verify", json=body), 422)["fields"]
    assert counts() == before and stored(act["id"]).state == "completed"


# --- search ----------------------------------------------------------------------------------------

def test_actions_are_found_by_root_cause_and_could_it_occur_elsewhere(f, api, action, owner):
    act = action(root_cause="量具台账缺少到期提醒")
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成", "occurs_elsewhere": "研发部游标卡尺"})
    db.session.rollback()
    indexer.drain_outbox()
    for words in ("到期提醒", "游标卡尺"):
        hits = api.get("/search", query_string={"q": words, "kind": "action", "state": "any"}).get_json()["hits"]
        assert [h["ref"] for h in hits] == [act["number"]], words


def test_an_open_action_past_its_due_date_reads_overdue(api, action, frozen):
    frozen(datetime(2026, 5, 6, 2, tzinfo=timezone.utc))
    act = action(due_date="2026-05-08")
    assert act["overdue"] is False
    frozen(datetime(2026, 5, 9, 2, tzinfo=timezone.utc))
    assert api.get(f"/actions/{act['id']}").get_json()["overdue"] is True
