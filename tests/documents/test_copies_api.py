"""The controlled-copy, periodic-review and external-document contract through HTTP only
(CONTRACT.md "Conventions", "Distribution of controlled copies", "Audit trail"). Every
refused request is checked to leave copies, trail, notifications and reviews unchanged."""
import io
import re
from datetime import datetime, timezone

import openpyxl
import pytest
from sqlalchemy import func, select

from factories import PASSWORD
from portal import clock
from portal.documents.models import ControlledCopy, Document, PeriodicReview
from portal.documents.workflow import add_months
from portal.extensions import db
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ISO_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
LIST_KEYS = {"items", "total", "page", "per_page"}


# --- helpers ---------------------------------------------------------------------------

def assert_error(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    error = resp.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"] and isinstance(error["message"], str)
    if code:
        assert error["code"] == code, error
    return error


def state() -> tuple:
    """Everything a refused request must leave as it was (read fresh from the database)."""
    db.session.rollback()
    copies = tuple(db.session.execute(select(
        ControlledCopy.id, ControlledCopy.copy_no, ControlledCopy.status, ControlledCopy.holder_user_id,
        ControlledCopy.holder_department_id, ControlledCopy.acknowledged_at, ControlledCopy.recalled_at,
        ControlledCopy.voided_at).order_by(ControlledCopy.id)).all())
    docs = tuple(db.session.execute(select(Document.id, Document.status, Document.next_review_due,
                                           Document.distribution).order_by(Document.id)).all())
    counts = tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                   for m in (TrailEntry, Notification, PeriodicReview, ControlledCopy))
    db.session.rollback()
    return copies, docs, counts


class World:
    """A controller, a procedure with A/0 in force, and people to hold copies."""

    def __init__(self, f):
        self.f = f
        self.controller = f.user("controller")
        self.ctl = f.api(self.controller)
        self.doc = f.document(self.controller)
        self.rev = f.effective(self.doc, self.controller)
        self.dept = f.department(name="售后服务部")
        self.holder = f.user("staff")
        self.member = f.user("staff", department=self.dept.code)
        self.doc_id, self.rev_id, self.code = self.doc.id, self.rev.id, self.doc.code

    def issue(self, holder: str, rev_id: int | None = None) -> dict:
        resp = self.ctl.post(f"/revisions/{rev_id or self.rev_id}/copies", json={"holder": holder})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def supersede(self) -> int:
        """A/1 becomes effective through the API; returns its id."""
        author = self.f.api(self.f.user("staff"))
        resp = author.post(f"/documents/{self.doc_id}/revisions", json={
            "body_html": "<p>第二版</p>", "change_summary": "修订", "change_reason": "条款调整"})
        assert resp.status_code == 201, resp.get_json()
        rev_id = resp.get_json()["id"]
        reviewer, approver = self.f.user("approver"), self.f.user("approver")
        assert author.post(f"/revisions/{rev_id}/submit", json={
            "reviewers": [reviewer.username], "approver": approver.username}).status_code == 200
        for user, meaning in ((reviewer, "review"), (approver, "approve")):
            assert self.f.api(user).post(f"/revisions/{rev_id}/sign", json={
                "meaning": meaning, "decision": "accept", "comment": "同意", "password": PASSWORD}).status_code == 200
        resp = self.ctl.post(f"/revisions/{rev_id}/release", json={"effective_date": clock.today().isoformat()})
        assert resp.status_code == 200 and resp.get_json()["state"] == "effective", resp.get_json()
        return rev_id


@pytest.fixture
def w(f):
    return World(f)


# --- issue ----------------------------------------------------------------------------

def test_issue_a_copy_answers_201_with_the_copy(w):
    resp = w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"holder": w.holder.username})
    assert resp.status_code == 201
    body = resp.get_json()
    assert {"id", "copy_no", "holder", "issued_at"} <= set(body)
    assert body["copy_no"] == f"{w.code}-A0-01"
    assert body["holder"] == w.holder.username
    assert ISO_TS.match(body["issued_at"]), body["issued_at"]
    assert body["status"] == "issued" and body["revision_id"] == w.rev_id and body["document_id"] == w.doc_id
    again = w.ctl.get(f"/copies/{body['id']}")
    assert again.status_code == 200 and again.get_json()["copy_no"] == body["copy_no"]
    dept_copy = w.issue(w.dept.code)
    assert (dept_copy["holder"], dept_copy["copy_no"]) == (w.dept.code, f"{w.code}-A0-02")


def test_distribution_list_is_set_with_patch_and_issued_in_one_go(w):
    resp = w.ctl.patch(f"/documents/{w.doc_id}", json={"distribution": [w.holder.username, w.dept.code]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["distribution"] == [w.holder.username, w.dept.code]
    assert w.ctl.get(f"/documents/{w.doc_id}").get_json()["distribution"] == [w.holder.username, w.dept.code]
    resp = w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"distribution": True})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["total"] == 2
    assert [(c["holder"], c["copy_no"]) for c in body["items"]] == [
        (w.holder.username, f"{w.code}-A0-01"), (w.dept.code, f"{w.code}-A0-02")]


def test_the_register_per_document_portal_wide_and_mine(w, f):
    other_doc = f.document(w.controller)
    other_rev = f.effective(other_doc, w.controller)
    a = w.issue(w.holder.username)
    b = w.issue(w.dept.code)
    c = w.issue(w.holder.username, rev_id=other_rev.id)
    everything = w.ctl.get("/copies").get_json()
    assert set(everything) >= LIST_KEYS and everything["page"] == 1 and everything["per_page"] == 20
    assert [x["id"] for x in everything["items"]] == [a["id"], b["id"], c["id"]]
    per_doc = w.ctl.get(f"/copies?document_id={w.doc_id}").get_json()
    assert [x["id"] for x in per_doc["items"]] == [a["id"], b["id"]] and per_doc["total"] == 2
    mine = f.api(w.holder).get("/copies?mine=1").get_json()
    assert [x["id"] for x in mine["items"]] == [a["id"], c["id"]]
    dept_mine = f.api(w.member).get("/copies?mine=1").get_json()
    assert [x["id"] for x in dept_mine["items"]] == [b["id"]]
    paged = w.ctl.get("/copies?per_page=2&page=2").get_json()
    assert [x["id"] for x in paged["items"]] == [c["id"]] and paged["total"] == 3


def test_mine_for_a_user_without_a_department_lists_only_their_copies(w, f):
    """`?mine=1` for an account with no department (admins and others created without
    --department) must not return every copy held by a user."""
    from portal.accounts import services as accounts

    w.issue(w.holder.username)
    loner = accounts.create_user("test", "loner", PASSWORD, "staff", None, "无部门")
    resp = f.api(loner).get("/copies?mine=1")
    assert resp.status_code == 200
    assert resp.get_json()["items"] == [], [c["copy_no"] for c in resp.get_json()["items"]]


# --- acknowledge, recall, replace ---------------------------------------------------------

def test_acknowledge_recall_and_replace_answer_200_with_the_updated_copy(w, f):
    copy = w.issue(w.holder.username)
    resp = f.api(w.holder).post(f"/copies/{copy['id']}/acknowledge")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == w.holder.username
    assert ISO_TS.match(body["acknowledged_at"])

    dept_copy = w.issue(w.dept.code)
    resp = f.api(w.member).post(f"/copies/{dept_copy['id']}/acknowledge")
    assert resp.status_code == 200 and resp.get_json()["acknowledged_by"] == w.member.username

    resp = w.ctl.post(f"/copies/{copy['id']}/replace", json={"reason": "遗失"})
    assert resp.status_code == 200, resp.get_json()
    new = resp.get_json()
    assert new["id"] != copy["id"] and new["copy_no"] == f"{w.code}-A0-03"
    assert (new["holder"], new["status"], new["replaces_id"]) == (w.holder.username, "issued", copy["id"])
    old = w.ctl.get(f"/copies/{copy['id']}").get_json()
    assert old["status"] == "voided" and old["void_reason"] == "遗失" and old["voided_at"]

    resp = w.ctl.post(f"/copies/{new['id']}/recall", json={"outcome": "destroyed", "witness": "赵国强"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["status"], body["recall_outcome"], body["recall_witness"]) == ("recalled", "destroyed", "赵国强")
    assert ISO_TS.match(body["recalled_at"])
    # a recall without a body is "returned"
    resp = w.ctl.post(f"/copies/{dept_copy['id']}/recall")
    assert resp.status_code == 200 and resp.get_json()["recall_outcome"] == "returned"


def test_supersede_puts_old_copies_on_the_outstanding_recall_list(w, f):
    a = w.issue(w.holder.username)
    b = w.issue(w.dept.code)
    assert w.ctl.get("/copies?outstanding_recall=1").get_json()["items"] == []
    new_rev_id = w.supersede()
    outstanding = w.ctl.get("/copies?outstanding_recall=1").get_json()
    assert [c["id"] for c in outstanding["items"]] == [a["id"], b["id"]]
    assert all(c["recall_due"] and c["revision_state"] == "superseded" for c in outstanding["items"])
    # the holders received copies of A/1 to acknowledge
    handed = w.ctl.get(f"/copies?document_id={w.doc_id}").get_json()["items"]
    new = [c for c in handed if c["revision_id"] == new_rev_id]
    assert {(c["holder"], c["follows_id"], c["copy_no"][-6:]) for c in new} == {
        (w.holder.username, a["id"], "-A1-01"), (w.dept.code, b["id"], "-A1-02")}
    mine = f.api(w.holder).get("/copies?mine=1").get_json()["items"]
    assert {c["revision_id"] for c in mine if c["status"] == "issued" and not c["recall_due"]} == {new_rev_id}
    # recalling clears the list
    assert w.ctl.post(f"/copies/{a['id']}/recall", json={"outcome": "returned", "witness": "王五"}).status_code == 200
    assert [c["id"] for c in w.ctl.get("/copies?outstanding_recall=true").get_json()["items"]] == [b["id"]]


def test_obsolete_puts_copies_on_the_outstanding_recall_list(w):
    a = w.issue(w.holder.username)
    resp = w.ctl.post(f"/documents/{w.doc_id}/obsolete", json={"reason": "合并到QP-02"})
    assert resp.status_code == 200, resp.get_json()
    outstanding = w.ctl.get("/copies?outstanding_recall=1").get_json()["items"]
    assert [(c["id"], c["revision_state"]) for c in outstanding] == [(a["id"], "obsolete")]
    assert w.ctl.get("/copies").get_json()["total"] == 1  # no copy of anything new


def test_every_copy_change_is_in_the_trail(w, f):
    copy = w.issue(w.holder.username)
    f.api(w.holder).post(f"/copies/{copy['id']}/acknowledge")
    new = w.ctl.post(f"/copies/{copy['id']}/replace", json={"reason": "损坏"}).get_json()
    w.ctl.post(f"/copies/{new['id']}/recall", json={"outcome": "returned", "witness": "见证人甲"})
    trail = w.ctl.get(f"/trail?object_type=copy&object_id={copy['id']}").get_json()
    assert [e["action"] for e in trail["items"]] == ["copy.issue", "copy.acknowledge", "copy.void"]
    assert [e["actor"] for e in trail["items"]] == [w.controller.username, w.holder.username, w.controller.username]
    assert trail["items"][2]["reason"] == "损坏"
    trail = w.ctl.get(f"/trail?object_type=copy&object_id={new['id']}").get_json()
    assert [e["action"] for e in trail["items"]] == ["copy.issue", "copy.recall"]
    assert trail["items"][1]["after"]["witness"] == "见证人甲"


# --- bad input: nothing changes ---------------------------------------------------------------

def test_copies_of_a_draft_revision_409(w, f):
    draft = f.draft(w.doc, reason="修订")
    before = state()
    resp = w.ctl.post(f"/revisions/{draft.id}/copies", json={"holder": w.holder.username})
    assert_error(resp, 409)
    assert state() == before


def test_copies_of_a_superseded_revision_409(w):
    w.supersede()
    before = state()
    assert_error(w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"holder": w.holder.username}), 409)
    assert_error(w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"distribution": True}), 409)
    assert state() == before


def test_copies_of_an_obsolete_revision_409(w):
    w.ctl.post(f"/documents/{w.doc_id}/obsolete", json={"reason": "停用"})
    before = state()
    assert_error(w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"holder": w.holder.username}), 409)
    assert state() == before


def test_acknowledging_someone_elses_copy_403(w, f):
    copy = w.issue(w.holder.username)
    dept_copy = w.issue(w.dept.code)
    others = [f.api(user) for user in (f.user("staff"), w.member, w.controller)]
    holder = f.api(w.holder)
    before = state()
    for api in others:
        assert_error(api.post(f"/copies/{copy['id']}/acknowledge"), 403)
    assert_error(holder.post(f"/copies/{dept_copy['id']}/acknowledge"), 403)
    assert state() == before


def test_acknowledging_twice_409(w, f):
    copy = w.issue(w.holder.username)
    holder = f.api(w.holder)
    holder.post(f"/copies/{copy['id']}/acknowledge")
    before = state()
    assert_error(holder.post(f"/copies/{copy['id']}/acknowledge"), 409)
    assert state() == before


def test_recalling_twice_409(w):
    copy = w.issue(w.holder.username)
    assert w.ctl.post(f"/copies/{copy['id']}/recall", json={"outcome": "returned"}).status_code == 200
    before = state()
    assert_error(w.ctl.post(f"/copies/{copy['id']}/recall", json={"outcome": "destroyed"}), 409)
    assert state() == before


def test_replacing_a_recalled_copy_409(w):
    copy = w.issue(w.holder.username)
    w.ctl.post(f"/copies/{copy['id']}/recall", json={"outcome": "returned"})
    before = state()
    assert_error(w.ctl.post(f"/copies/{copy['id']}/replace", json={"reason": "遗失"}), 409)
    assert state() == before


def test_replacing_a_voided_copy_409(w):
    copy = w.issue(w.holder.username)
    w.ctl.post(f"/copies/{copy['id']}/replace", json={"reason": "遗失"})
    before = state()
    assert_error(w.ctl.post(f"/copies/{copy['id']}/replace", json={"reason": "又遗失"}), 409)
    assert state() == before


@pytest.mark.parametrize("holder", ["nobody-at-all", "NO_SUCH_DEPT", "", "   "])
def test_unknown_holder_422(w, holder):
    before = state()
    error = assert_error(w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"holder": holder}), 422)
    assert "holder" in error.get("fields", {})
    assert state() == before


def test_inactive_holder_422(w, f):
    from portal.accounts import services as accounts

    accounts.update_user(f.user("admin"), w.holder, active=False)
    before = state()
    assert_error(w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"holder": w.holder.username}), 422)
    assert state() == before


def test_unknown_holder_in_the_distribution_list_422(w):
    w.ctl.patch(f"/documents/{w.doc_id}", json={"distribution": [w.holder.username]})
    before = state()
    error = assert_error(w.ctl.patch(f"/documents/{w.doc_id}", json={
        "distribution": [w.dept.code, "nobody-at-all"]}), 422)
    assert "holder" in error.get("fields", {}) or "distribution" in error.get("fields", {})
    assert_error(w.ctl.patch(f"/documents/{w.doc_id}", json={"distribution": "ZB"}), 422)
    assert state() == before


def test_issue_from_an_empty_distribution_list_422(w):
    before = state()
    assert_error(w.ctl.post(f"/revisions/{w.rev_id}/copies", json={"distribution": True}), 422)
    assert state() == before


@pytest.mark.parametrize("body", [{"holder": 123}, {"holder": ["a"]}, {}, {"distribution": "yes"}])
def test_malformed_issue_422(w, body):
    before = state()
    assert_error(w.ctl.post(f"/revisions/{w.rev_id}/copies", json=body), 422)
    assert state() == before


def test_non_json_issue_400(w):
    before = state()
    resp = w.ctl.post(f"/revisions/{w.rev_id}/copies", data="holder=x",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(resp, 400)
    assert state() == before


@pytest.mark.parametrize("role", ["staff", "approver", "auditor"])
def test_only_controllers_issue_recall_and_replace_403(w, f, role):
    copy = w.issue(w.holder.username)
    other = f.api(f.user(role))
    before = state()
    assert_error(other.post(f"/revisions/{w.rev_id}/copies", json={"holder": w.holder.username}), 403)
    assert_error(other.post(f"/copies/{copy['id']}/recall", json={"outcome": "returned"}), 403)
    assert_error(other.post(f"/copies/{copy['id']}/replace", json={"reason": "遗失"}), 403)
    assert state() == before


def test_unknown_ids_404(w):
    before = state()
    assert_error(w.ctl.get("/copies/999999"), 404)
    for action in ("acknowledge", "recall"):
        assert_error(w.ctl.post(f"/copies/999999/{action}", json={}), 404)
    assert_error(w.ctl.post("/copies/999999/replace", json={"reason": "x"}), 404)
    assert_error(w.ctl.post("/revisions/999999/copies", json={"holder": w.holder.username}), 404)
    assert_error(w.ctl.post("/documents/999999/periodic-review",
                            json={"outcome": "keep", "comment": "x", "password": PASSWORD}), 404)
    assert state() == before


def test_bad_recall_outcome_422_and_replace_without_reason_422(w):
    copy = w.issue(w.holder.username)
    before = state()
    assert_error(w.ctl.post(f"/copies/{copy['id']}/recall", json={"outcome": "lost"}), 422)
    assert_error(w.ctl.post(f"/copies/{copy['id']}/recall", json={"outcome": "returned", "witness": 7}), 422)
    assert_error(w.ctl.post(f"/copies/{copy['id']}/replace", json={}), 422)
    assert_error(w.ctl.post(f"/copies/{copy['id']}/replace", json={"reason": ""}), 422)
    assert state() == before


def test_no_copy_goes_to_a_holder_who_cannot_acknowledge_it(f):
    """A confidential document distributed to a user of another department: either the issue
    is refused, or the holder can open and acknowledge the copy (the notification links to it)."""
    controller = f.user("controller")
    doc = f.document(controller, confidentiality="confidential")
    rev = f.effective(doc, controller)
    outsider = f.user("staff")  # another department, no part in the revision
    resp = f.api(controller).post(f"/revisions/{rev.id}/copies", json={"holder": outsider.username})
    if resp.status_code == 201:
        copy_id = resp.get_json()["id"]
        holder = f.api(outsider)
        assert holder.get(f"/copies/{copy_id}").status_code == 200
        ack = holder.post(f"/copies/{copy_id}/acknowledge")
        assert ack.status_code == 200, ack.get_json()
    else:
        assert 400 <= resp.status_code < 500


def test_no_copy_goes_to_a_read_only_account(f):
    """The certification-body reviewer is read-only and outside the company: a controlled copy
    issued to them could never be acknowledged."""
    controller = f.user("controller")
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    reviewer = f.user("external_reviewer")
    resp = f.api(controller).post(f"/revisions/{rev.id}/copies", json={"holder": reviewer.username})
    if resp.status_code == 201:
        ack = f.api(reviewer).post(f"/copies/{resp.get_json()['id']}/acknowledge")
        assert ack.status_code == 200, ack.get_json()
    else:
        assert_error(resp, 422)


# --- periodic review --------------------------------------------------------------------------

def review_payload(**overrides) -> dict:
    data = {"outcome": "keep", "comment": "仍适宜，继续执行", "password": PASSWORD}
    data.update(overrides)
    return data


def test_periodic_review_keep_moves_next_review_due(w, f, frozen):
    frozen(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))
    doc = f.document(w.controller, review_period_months=12)
    f.effective(doc, w.controller)
    approver = f.user("approver", department=doc.department.code)
    doc_id = doc.id
    frozen(datetime(2026, 4, 10, 2, 0, tzinfo=timezone.utc))
    resp = f.api(approver).post(f"/documents/{doc_id}/periodic-review", json=review_payload())
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["outcome"] == "keep" and body["reviewer"] == approver.username
    assert body["printed_name"] == approver.display_name and ISO_TS.match(body["signed_at"])
    assert body["due_was"] == "2026-03-03" and body["next_due"] == "2027-04-10"
    assert body["document"]["next_review_due"] == "2027-04-10"
    assert w.ctl.get(f"/documents/{doc_id}").get_json()["next_review_due"] == "2027-04-10"
    reviews = w.ctl.get(f"/documents/{doc_id}/reviews").get_json()
    assert [r["outcome"] for r in reviews["items"]] == ["keep"] and reviews["items"][0]["comment"] == "仍适宜，继续执行"
    trail = w.ctl.get(f"/trail?object_type=document&object_id={doc_id}").get_json()["items"]
    assert trail[-1]["action"] == "document.periodic_review"
    assert trail[-1]["after"]["next_review_due"] == "2027-04-10"


def test_periodic_review_by_a_controller_and_revise_tells_the_controllers(w, f):
    other_ctl = f.user("controller")
    resp = w.ctl.post(f"/documents/{w.doc_id}/periodic-review",
                      json=review_payload(outcome="revise", comment="第5条与现行做法不符"))
    assert resp.status_code == 200, resp.get_json()
    expected = add_months(clock.today(), 12).isoformat()
    assert resp.get_json()["next_due"] == expected
    inbox = f.api(other_ctl).get("/notifications").get_json()["items"]
    assert any(n["kind"] == "review_due" and w.code in n["message"] for n in inbox)


def test_periodic_review_obsolete_by_a_controller_makes_the_document_obsolete(w, f):
    copy = w.issue(w.holder.username)
    resp = w.ctl.post(f"/documents/{w.doc_id}/periodic-review",
                      json=review_payload(outcome="obsolete", comment="业务已取消"))
    assert resp.status_code == 200, resp.get_json()
    doc = w.ctl.get(f"/documents/{w.doc_id}").get_json()
    assert doc["status"] == "obsolete" and doc["next_review_due"] is None
    assert [c["id"] for c in w.ctl.get("/copies?outstanding_recall=1").get_json()["items"]] == [copy["id"]]


def test_periodic_review_obsolete_with_a_long_comment(w):
    """The comment may be up to 5000 characters; the obsolete reason derived from it must not
    make the review fail with an error about a field the client never sent."""
    before = state()
    resp = w.ctl.post(f"/documents/{w.doc_id}/periodic-review",
                      json=review_payload(outcome="obsolete", comment="原因" * 1200))
    if resp.status_code != 200:
        error = assert_error(resp, 422)
        assert set(error.get("fields", {})) <= {"outcome", "comment", "password"}, error
        assert state() == before
    else:
        assert resp.get_json()["document"]["status"] == "obsolete"


def test_an_approvers_obsolete_verdict_keeps_the_document_on_the_review_schedule(w, f):
    """An approver may conclude "obsolete", but only a controller makes a document obsolete:
    the document stays in force, so it must not drop off every review list."""
    approver = f.user("approver", department=w.doc.department.code)
    resp = f.api(approver).post(f"/documents/{w.doc_id}/periodic-review",
                                json=review_payload(outcome="obsolete", comment="建议作废"))
    assert resp.status_code == 200, resp.get_json()
    doc = w.ctl.get(f"/documents/{w.doc_id}").get_json()
    assert doc["status"] == "effective"
    inbox = w.ctl.get("/notifications").get_json()["items"]
    assert any(n["kind"] == "review_due" and "作废" in n["message"] for n in inbox)
    assert doc["next_review_due"] is not None, "an effective document without a next review date"


def test_periodic_review_by_staff_403(w, f):
    staff = f.api(f.user("staff", department=w.doc.department.code))
    before = state()
    assert_error(staff.post(f"/documents/{w.doc_id}/periodic-review", json=review_payload()), 403)
    assert state() == before


def test_periodic_review_by_an_approver_of_another_department_403(w, f):
    stranger = f.api(f.user("approver"))  # its own new department
    before = state()
    assert_error(stranger.post(f"/documents/{w.doc_id}/periodic-review", json=review_payload()), 403)
    assert state() == before


def test_periodic_review_without_password_422(w):
    before = state()
    for payload in (review_payload(password=None), {"outcome": "keep", "comment": "x"}, review_payload(password="")):
        error = assert_error(w.ctl.post(f"/documents/{w.doc_id}/periodic-review", json=payload), 422)
        assert "password" in error["fields"]
    assert state() == before


def test_periodic_review_with_a_wrong_password_403(w):
    before = state()
    assert_error(w.ctl.post(f"/documents/{w.doc_id}/periodic-review",
                            json=review_payload(password="not-my-password")), 403)
    assert state() == before


@pytest.mark.parametrize("payload", [
    {"outcome": "archive", "comment": "x", "password": PASSWORD},
    {"outcome": "keep", "comment": "", "password": PASSWORD},
    {"comment": "x", "password": PASSWORD},
])
def test_periodic_review_invalid_fields_422(w, payload):
    before = state()
    assert_error(w.ctl.post(f"/documents/{w.doc_id}/periodic-review", json=payload), 422)
    assert state() == before


def test_periodic_review_of_a_document_not_in_force_409(w, f):
    never_released = f.document(w.controller)
    obsolete = f.document(w.controller)
    f.effective(obsolete, w.controller)
    w.ctl.post(f"/documents/{obsolete.id}/obsolete", json={"reason": "停用"})
    before = state()
    for doc_id in (never_released.id, obsolete.id):
        assert_error(w.ctl.post(f"/documents/{doc_id}/periodic-review", json=review_payload()), 409)
    assert state() == before


def test_reviews_due_lists_overdue_first(f, frozen):
    frozen(datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc))
    ctl = f.user("controller")
    early = f.document(ctl, review_period_months=12)
    f.effective(early, ctl)
    frozen(datetime(2025, 3, 1, 2, 0, tzinfo=timezone.utc))
    later = f.document(ctl, review_period_months=12)
    f.effective(later, ctl)
    far = f.document(ctl, review_period_months=36)
    f.effective(far, ctl)
    f.document(ctl)  # never released: never due
    api = f.api(ctl)
    frozen(datetime(2026, 2, 20, 2, 0, tzinfo=timezone.utc))  # early overdue, later due in 9 days
    due = api.get("/reviews/due").get_json()
    assert [(d["code"], d["next_review_due"]) for d in due["items"]] == [
        (early.code, "2026-01-10"), (later.code, "2026-03-01")]
    assert [d["code"] for d in api.get("/reviews/due?days=0").get_json()["items"]] == [early.code]
    assert [d["code"] for d in api.get("/reviews/due?days=3650").get_json()["items"]] == [
        early.code, later.code, far.code]
    staff = f.api(f.user("staff"))
    assert [d["code"] for d in staff.get("/reviews/due?days=0").get_json()["items"]] == [early.code]


# --- external documents -------------------------------------------------------------------------

def test_external_documents_are_registered_listed_distributed_and_reviewed(w, f):
    resp = w.ctl.post("/documents", json={
        "code": "GB/T 19001-2016", "title": "质量管理体系 要求", "doc_type": "external",
        "department": w.controller.department_code, "external_source": "国家标准化管理委员会",
        "external_edition": "2016", "received_on": "2023-01-05", "applicability": "公司质量管理体系全部过程"})
    assert resp.status_code == 201, resp.get_json()
    ext = resp.get_json()
    assert (ext["doc_type"], ext["external_source"], ext["external_edition"], ext["received_on"],
            ext["applicability"]) == ("external", "国家标准化管理委员会", "2016", "2023-01-05", "公司质量管理体系全部过程")
    listed = w.ctl.get("/external-documents").get_json()
    assert set(listed) >= LIST_KEYS
    assert [d["code"] for d in listed["items"]] == ["GB/T 19001-2016"]  # the procedure is not external
    by_code = w.ctl.get("/documents?code=GB/T 19001-2016&doc_type=external").get_json()["items"]
    assert [d["id"] for d in by_code] == [ext["id"]]
    # distributed and reviewed like the others
    doc = db.session.get(Document, ext["id"])
    rev = f.effective(doc, w.controller)
    copy = w.issue(w.dept.code, rev_id=rev.id)
    assert copy["copy_no"] == "GB/T 19001-2016-A0-01"
    resp = w.ctl.post(f"/documents/{ext['id']}/periodic-review", json=review_payload(comment="现行有效版本"))
    assert resp.status_code == 200, resp.get_json()
    xlsx = w.ctl.get("/external-documents.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype == XLSX_MIME
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "外来文件清单"  # title line, then the header row
    assert rows[1][:5] == ["文件编号", "文件名称", "发布机构/来源", "版本/年号", "收文日期"]
    assert [r[0] for r in rows[2:]] == ["GB/T 19001-2016"]
    assert rows[2][2:5] == ["国家标准化管理委员会", "2016", "2023-01-05"]


def test_external_document_fields_are_validated(w):
    before = state()
    resp = w.ctl.post("/documents", json={"code": "EXT-1", "title": "客户规范", "doc_type": "external",
                                          "department": w.controller.department_code, "received_on": "05/01/2023"})
    error = assert_error(resp, 422)
    assert "received_on" in error["fields"]
    assert state() == before


# --- notifications and OpenAPI --------------------------------------------------------------------

def test_the_holder_is_notified_with_a_link_to_the_copy(w, f):
    copy = w.issue(w.holder.username)
    items = f.api(w.holder).get("/notifications").get_json()["items"]
    assert [(n["kind"], n["link"]) for n in items] == [("copy_to_acknowledge", f"/copies/{copy['id']}")]


def test_the_new_endpoints_are_in_the_openapi_description(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    expected = {
        ("/revisions/{id}/copies", "post"), ("/copies", "get"), ("/copies/{id}", "get"),
        ("/copies/{id}/acknowledge", "post"), ("/copies/{id}/recall", "post"),
        ("/copies/{id}/replace", "post"), ("/copies/{id}/export.docx", "get"),
        ("/documents/{id}/periodic-review", "post"), ("/documents/{id}/reviews", "get"),
        ("/reviews/due", "get"), ("/external-documents", "get"), ("/notifications", "get"),
        ("/notifications/{id}/read", "post")}
    missing = sorted(f"{m.upper()} {p}" for p, m in expected if m not in paths.get(p, {}))
    assert missing == [], f"not described in /api/v1/openapi.json: {missing}"
