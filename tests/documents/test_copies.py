"""Controlled copies as service rules (CONTRACT.md "Distribution of controlled copies",
DOMAIN.md "Rules the seeds state"): numbered issue from the effective revision, 签收 by
the holder, 回收 with witness, replacement of a lost copy, the hand-over to the new
revision when the old one is superseded or the document made obsolete, and one trail
entry for every state change of a copy."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from factories import PASSWORD
from portal import clock
from portal.accounts import services as accounts
from portal.documents import distribution, queries, workflow
from portal.documents.models import ControlledCopy
from portal.errors import InvalidState, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.notifications.models import Notification
from portal.trail.models import TrailEntry
from portal.trail.services import verify_chain


# --- helpers ---------------------------------------------------------------------------

@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def effective_doc(f, controller):
    """A procedure with revision A/0 effective today."""
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    return doc, rev


def issue(controller, rev, holder):
    [copy] = distribution.issue_copy(controller, rev, {"holder": holder})
    return copy


def new_revision(f, doc, controller, level="minor"):
    """Take a second revision to effective today: the current one becomes superseded."""
    return f.effective(doc, controller, summary="第二次修订", reason="条款调整", level=level)


def copy_trail(copy) -> list[TrailEntry]:
    return list(db.session.execute(select(TrailEntry).where(
        TrailEntry.object_type == "copy", TrailEntry.object_id == copy.id).order_by(TrailEntry.seq)).scalars())


def notes(user, kind: str) -> list[Notification]:
    return list(db.session.execute(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind).order_by(Notification.id)).scalars())


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def snapshot() -> tuple:
    """What a refused action must leave untouched."""
    db.session.rollback()
    copies = tuple(db.session.execute(select(ControlledCopy.id, ControlledCopy.status, ControlledCopy.copy_no)
                                      .order_by(ControlledCopy.id)).all())
    return copies, count(TrailEntry), count(Notification)


def copies_of_rev(rev) -> list[ControlledCopy]:
    return distribution.copies_of(rev)


# --- issue and numbering ----------------------------------------------------------------

def test_copies_are_numbered_per_revision_and_issued_to_users_or_departments(f, controller, effective_doc):
    doc, rev = effective_doc
    holder = f.user("staff")
    dept = f.department(name="售后服务部")
    member = f.user("staff", department=dept.code)
    c1 = issue(controller, rev, holder.username)
    c2 = issue(controller, rev, dept.code)
    assert c1.copy_no == f"{doc.code}-A0-01"
    assert c2.copy_no == f"{doc.code}-A0-02"
    assert (c1.status, c1.revision_id, c1.holder_user_id, c1.issued_by_id) == ("issued", rev.id, holder.id, controller.id)
    assert c2.holder_department_id == dept.id and c2.holder_user_id is None
    assert c1.holder_key == holder.username and c2.holder_key == dept.code
    assert c1.issued_at is not None
    # the holder, and every member of a holding department, is told to acknowledge
    assert [n.link for n in notes(holder, "copy_to_acknowledge")] == [f"/copies/{c1.id}"]
    assert [n.link for n in notes(member, "copy_to_acknowledge")] == [f"/copies/{c2.id}"]
    assert c1.copy_no in notes(holder, "copy_to_acknowledge")[0].message


def test_numbers_are_unique_per_revision_and_restart_on_the_next(f, controller, effective_doc):
    doc, rev = effective_doc
    users = [f.user("staff") for _ in range(3)]
    first = [issue(controller, rev, u.username) for u in users]
    assert [c.copy_no for c in first] == [f"{doc.code}-A0-{n:02d}" for n in (1, 2, 3)]
    # a second copy to the same holder still gets its own number
    again = issue(controller, rev, users[0].username)
    assert again.copy_no == f"{doc.code}-A0-04"
    # another document numbers its copies independently
    other_doc = f.document(controller)
    other = issue(controller, f.effective(other_doc, controller), users[0].username)
    assert other.copy_no == f"{other_doc.code}-A0-01"
    # the next revision's copies (the hand-over) number from 01 again
    rev2 = new_revision(f, doc, controller)
    handed = copies_of_rev(rev2)
    assert sorted(c.copy_no for c in handed) == [f"{doc.code}-A1-{n:02d}" for n in (1, 2, 3, 4)]
    extra = issue(controller, rev2, f.user("staff").username)
    assert extra.copy_no == f"{doc.code}-A1-05"
    every = db.session.execute(select(ControlledCopy.copy_no)).scalars().all()
    assert len(every) == len(set(every))
    per_revision = db.session.execute(select(ControlledCopy.revision_id, ControlledCopy.copy_no)).all()
    assert len(per_revision) == len(set(per_revision))


def test_issue_to_the_distribution_list(f, controller, effective_doc):
    from portal.documents import services as docs

    doc, rev = effective_doc
    u = f.user("staff")
    dept = f.department()
    docs.update_document(controller, doc, {"distribution": [u.username, dept.code, u.username]})
    assert doc.distribution == [u.username, dept.code]  # duplicates dropped, order kept
    copies = distribution.issue_copy(controller, rev, {"distribution": True})
    assert [c.holder_key for c in copies] == [u.username, dept.code]
    assert [c.copy_no for c in copies] == [f"{doc.code}-A0-01", f"{doc.code}-A0-02"]
    # the trail records the list being set
    entry = db.session.execute(select(TrailEntry).where(TrailEntry.action == "document.update",
                                                        TrailEntry.object_id == doc.id)).scalars().all()[-1]
    assert entry.after["distribution"] == [u.username, dept.code]


def test_an_empty_distribution_list_issues_nothing(f, controller, effective_doc):
    doc, rev = effective_doc
    before = snapshot()
    with pytest.raises(ValidationFailed):
        distribution.issue_copy(controller, rev, {"distribution": True})
    assert snapshot() == before


def test_a_failed_list_issue_leaves_nothing_and_skips_no_number(f, controller, effective_doc):
    from portal.documents import services as docs

    doc, rev = effective_doc
    good, leaver = f.user("staff"), f.user("staff")
    docs.update_document(controller, doc, {"distribution": [good.username, leaver.username]})
    accounts.update_user(f.user("admin"), leaver, active=False)
    before = snapshot()
    with pytest.raises(ValidationFailed) as err:
        distribution.issue_copy(controller, rev, {"distribution": True})
    assert err.value.code == "unknown_holder"
    db.session.rollback()  # what the request's error handler does
    assert snapshot() == before
    assert issue(controller, rev, good.username).copy_no == f"{doc.code}-A0-01"


@pytest.mark.parametrize("state", ["draft", "in_review", "approved", "released", "superseded", "obsolete"])
def test_copies_only_of_the_effective_revision(f, controller, frozen, state):
    frozen(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))
    doc = f.document(controller)
    holder = f.user("staff")
    if state == "draft":
        rev = f.draft(doc)
    elif state == "in_review":
        rev, _r, _a = f.submitted(f.draft(doc))
    elif state == "approved":
        rev = f.approved(f.draft(doc))
    elif state == "released":
        rev = f.approved(f.draft(doc))
        workflow.release_revision(controller, rev, {"effective_date": "2025-03-10"})
    elif state == "superseded":
        rev = f.effective(doc, controller)
        new_revision(f, doc, controller)
    else:
        rev = f.effective(doc, controller)
        workflow.obsolete_document(controller, doc, {"reason": "合并到QP-02"})
    assert rev.state == state
    before = snapshot()
    with pytest.raises(InvalidState):
        distribution.issue_copy(controller, rev, {"holder": holder.username})
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize("role", ["staff", "approver", "auditor"])
def test_only_controllers_issue_recall_and_replace(f, controller, effective_doc, role):
    doc, rev = effective_doc
    other = f.user(role)
    copy = issue(controller, rev, f.user("staff").username)
    before = snapshot()
    with pytest.raises(NotAllowed):
        distribution.issue_copy(other, rev, {"holder": other.username})
    with pytest.raises(NotAllowed):
        distribution.recall_copy(other, copy, {"outcome": "returned"})
    with pytest.raises(NotAllowed):
        distribution.replace_copy(other, copy, {"reason": "遗失"})
    db.session.rollback()
    assert snapshot() == before


def test_unknown_or_inactive_holder_is_refused(f, controller, effective_doc):
    doc, rev = effective_doc
    gone = f.user("staff")
    accounts.update_user(f.user("admin"), gone, active=False)
    before = snapshot()
    for name in ("nobody-here", gone.username, ""):
        with pytest.raises(ValidationFailed):
            distribution.issue_copy(controller, rev, {"holder": name})
        db.session.rollback()
    assert snapshot() == before


# --- acknowledge --------------------------------------------------------------------------

def test_the_holder_acknowledges_receipt(f, controller, effective_doc):
    doc, rev = effective_doc
    holder, stranger = f.user("staff"), f.user("staff")
    copy = issue(controller, rev, holder.username)
    with pytest.raises(NotAllowed):
        distribution.acknowledge_copy(stranger, copy)
    with pytest.raises(NotAllowed):
        distribution.acknowledge_copy(controller, copy)  # not even the controller signs for someone
    db.session.rollback()
    assert copy.status == "issued"
    distribution.acknowledge_copy(holder, copy)
    assert (copy.status, copy.acknowledged_by_id) == ("acknowledged", holder.id)
    assert copy.acknowledged_at is not None
    with pytest.raises(InvalidState):
        distribution.acknowledge_copy(holder, copy)
    db.session.rollback()
    assert [e.action for e in copy_trail(copy)] == ["copy.issue", "copy.acknowledge"]
    assert copy_trail(copy)[-1].actor == holder.username


def test_a_department_copy_is_acknowledged_by_a_member(f, controller, effective_doc):
    doc, rev = effective_doc
    dept = f.department()
    member, outsider = f.user("staff", department=dept.code), f.user("staff")
    copy = issue(controller, rev, dept.code)
    with pytest.raises(NotAllowed):
        distribution.acknowledge_copy(outsider, copy)
    db.session.rollback()
    distribution.acknowledge_copy(member, copy)
    assert copy.acknowledged_by_id == member.id


# --- recall -------------------------------------------------------------------------------

def test_recall_records_outcome_and_witness_once(f, controller, effective_doc):
    doc, rev = effective_doc
    holder = f.user("staff")
    copy = issue(controller, rev, holder.username)
    distribution.acknowledge_copy(holder, copy)
    distribution.recall_copy(controller, copy, {"outcome": "destroyed", "witness": "赵国强"})
    assert (copy.status, copy.recall_outcome, copy.recall_witness) == ("recalled", "destroyed", "赵国强")
    assert copy.recalled_by_id == controller.id and copy.recalled_at is not None
    last = copy_trail(copy)[-1]
    assert last.action == "copy.recall" and last.actor == controller.username
    assert last.before == {"status": "acknowledged"}
    assert last.after["status"] == "recalled" and last.after["witness"] == "赵国强"
    before = snapshot()
    with pytest.raises(InvalidState):
        distribution.recall_copy(controller, copy, {"outcome": "returned"})
    with pytest.raises(InvalidState):
        distribution.acknowledge_copy(holder, copy)
    db.session.rollback()
    assert snapshot() == before


def test_recall_outcome_must_be_returned_or_destroyed(f, controller, effective_doc):
    doc, rev = effective_doc
    copy = issue(controller, rev, f.user("staff").username)
    before = snapshot()
    with pytest.raises(ValidationFailed):
        distribution.recall_copy(controller, copy, {"outcome": "burnt"})
    db.session.rollback()
    assert snapshot() == before
    distribution.recall_copy(controller, copy, {})
    assert copy.recall_outcome == "returned" and copy.recall_witness is None


def test_a_copy_of_the_current_revision_can_be_recalled_when_its_holder_leaves(f, controller, effective_doc):
    doc, rev = effective_doc
    copy = issue(controller, rev, f.user("staff").username)
    distribution.recall_copy(controller, copy, {"outcome": "returned", "witness": "行政部"})
    assert copy.status == "recalled" and not copy.recall_due
    assert db.session.execute(distribution.copy_query(outstanding_recall=True)).scalars().all() == []


# --- replace ------------------------------------------------------------------------------

def test_replace_voids_the_old_number_and_issues_a_new_one(f, controller, effective_doc):
    doc, rev = effective_doc
    holder = f.user("staff")
    old = issue(controller, rev, holder.username)
    issue(controller, rev, f.user("staff").username)
    distribution.acknowledge_copy(holder, old)
    new = distribution.replace_copy(controller, old, {"reason": "受潮损坏"})
    assert (old.status, old.void_reason) == ("voided", "受潮损坏") and old.voided_at is not None
    assert new.copy_no == f"{doc.code}-A0-03" != old.copy_no
    assert (new.status, new.holder_user_id, new.replaces_id, new.revision_id) == ("issued", holder.id, old.id, rev.id)
    void = copy_trail(old)[-1]
    assert (void.action, void.before, void.after, void.reason) == (
        "copy.void", {"status": "acknowledged"}, {"status": "voided"}, "受潮损坏")
    assert [e.action for e in copy_trail(new)] == ["copy.issue"]
    # the holder has to acknowledge the replacement
    assert notes(holder, "copy_to_acknowledge")[-1].link == f"/copies/{new.id}"
    before = snapshot()
    with pytest.raises(InvalidState):
        distribution.replace_copy(controller, old, {"reason": "再次遗失"})  # already voided
    db.session.rollback()
    assert snapshot() == before


def test_a_department_copy_is_replaced_for_the_department(f, controller, effective_doc):
    doc, rev = effective_doc
    dept = f.department()
    old = issue(controller, rev, dept.code)
    new = distribution.replace_copy(controller, old, {"reason": "遗失"})
    assert new.holder_department_id == dept.id and new.holder_user_id is None


def test_replace_refuses_recalled_copies_old_revisions_and_missing_reasons(f, controller, effective_doc):
    doc, rev = effective_doc
    recalled = issue(controller, rev, f.user("staff").username)
    distribution.recall_copy(controller, recalled, {"outcome": "returned"})
    live = issue(controller, rev, f.user("staff").username)
    before = snapshot()
    with pytest.raises(InvalidState):
        distribution.replace_copy(controller, recalled, {"reason": "遗失"})
    db.session.rollback()
    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        with pytest.raises(ValidationFailed):
            distribution.replace_copy(controller, live, payload)
        db.session.rollback()
    assert snapshot() == before
    new_revision(f, doc, controller)
    before = snapshot()
    with pytest.raises(InvalidState):
        distribution.replace_copy(controller, live, {"reason": "遗失"})  # superseded: recall it instead
    db.session.rollback()
    assert snapshot() == before


# --- hand-over at supersede and obsolete -----------------------------------------------------

def test_supersede_makes_copies_due_for_recall_and_hands_new_ones_to_the_holders(f, controller, effective_doc):
    doc, rev = effective_doc
    acked, waiting, returned, lost = (f.user("staff") for _ in range(4))
    dept = f.department()
    other_controller = f.user("controller")
    c_acked = issue(controller, rev, acked.username)
    distribution.acknowledge_copy(acked, c_acked)
    c_waiting = issue(controller, rev, waiting.username)
    c_dept = issue(controller, rev, dept.code)
    c_returned = issue(controller, rev, returned.username)
    distribution.recall_copy(controller, c_returned, {"outcome": "returned"})
    c_lost = issue(controller, rev, lost.username)
    c_replacement = distribution.replace_copy(controller, c_lost, {"reason": "遗失"})

    rev2 = new_revision(f, doc, controller)
    assert rev.state == "superseded" and rev2.state == "effective"

    # the old copies stay out until the controller records their recall
    due = db.session.execute(distribution.copy_query(outstanding_recall=True)).scalars().all()
    assert {c.id for c in due} == {c_acked.id, c_waiting.id, c_dept.id, c_replacement.id}
    assert all(c.recall_due for c in due)
    assert not c_returned.recall_due and not c_lost.recall_due
    assert {c.status for c in due} == {"issued", "acknowledged"}

    # every live holder gets a copy of the new revision, linked to the one it follows
    handed = copies_of_rev(rev2)
    assert {(c.holder_key, c.follows_id) for c in handed} == {
        (acked.username, c_acked.id), (waiting.username, c_waiting.id),
        (dept.code, c_dept.id), (lost.username, c_replacement.id)}
    assert all(c.status == "issued" for c in handed)
    assert returned.username not in {c.holder_key for c in handed}
    for c in handed:
        assert [(e.action, e.actor) for e in copy_trail(c)] == [("copy.issue", controller.username)]
    # ... and is asked to acknowledge it (read and understood)
    new_for_acked = next(c for c in handed if c.holder_key == acked.username)
    assert notes(acked, "copy_to_acknowledge")[-1].link == f"/copies/{new_for_acked.id}"
    assert [c.id for c in queries.copy_tasks(acked, 7)["to_acknowledge"]] == [new_for_acked.id]
    # the controllers are told that recalls are due
    for user in (controller, other_controller):
        [note] = notes(user, "recall_due")
        assert doc.code in note.message and note.link == f"/documents/{doc.id}"
    assert verify_chain().ok


def test_a_holder_of_the_superseded_copy_acknowledges_the_new_one(f, controller, effective_doc):
    doc, rev = effective_doc
    holder = f.user("staff")
    issue(controller, rev, holder.username)
    rev2 = new_revision(f, doc, controller)
    [new] = copies_of_rev(rev2)
    distribution.acknowledge_copy(holder, new)
    assert queries.copy_tasks(holder, 7)["to_acknowledge"] == []


def test_a_future_release_hands_over_only_when_it_takes_effect(f, controller, frozen):
    frozen(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    holder = f.user("staff")
    old = issue(controller, rev, holder.username)
    rev2 = f.approved(f.draft(doc, reason="条款调整"))
    workflow.release_revision(controller, rev2, {"effective_date": "2025-03-10"})
    assert rev2.state == "released" and copies_of_rev(rev2) == [] and not old.recall_due
    frozen(datetime(2025, 3, 10, 1, 0, tzinfo=timezone.utc))
    assert workflow.activate_due_revisions() == 1
    assert rev.state == "superseded" and old.recall_due
    [new] = copies_of_rev(rev2)
    assert (new.holder_user_id, new.follows_id, new.issued_by_id) == (holder.id, old.id, None)
    assert copy_trail(new)[0].actor == "system"


def test_obsolete_makes_every_live_copy_due_for_recall_without_new_ones(f, controller, effective_doc):
    doc, rev = effective_doc
    holders = [f.user("staff") for _ in range(2)]
    copies = [issue(controller, rev, u.username) for u in holders]
    distribution.acknowledge_copy(holders[0], copies[0])
    workflow.obsolete_document(controller, doc, {"reason": "合并到QP-02"})
    assert rev.state == "obsolete"
    due = db.session.execute(distribution.copy_query(outstanding_recall=True)).scalars().all()
    assert [c.id for c in due] == [c.id for c in copies]
    assert count(ControlledCopy) == 2  # nothing new handed out
    assert notes(controller, "recall_due")
    for c in copies:
        distribution.recall_copy(controller, c, {"outcome": "destroyed", "witness": "质保部"})
    assert db.session.execute(distribution.copy_query(outstanding_recall=True)).scalars().all() == []


def test_a_major_revision_hands_over_too(f, controller, effective_doc):
    doc, rev = effective_doc
    issue(controller, rev, f.user("staff").username)
    rev2 = new_revision(f, doc, controller, level="major")
    assert rev2.label == "B/0"
    assert [c.copy_no for c in copies_of_rev(rev2)] == [f"{doc.code}-B0-01"]


# --- tasks: to acknowledge, late, outstanding recalls ------------------------------------------

def test_late_acknowledgements_after_seven_days(f, controller, frozen):
    start = datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)
    frozen(start)
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    slow, quick = f.user("staff"), f.user("staff")
    c_slow = issue(controller, rev, slow.username)
    c_quick = issue(controller, rev, quick.username)
    distribution.acknowledge_copy(quick, c_quick)
    frozen(start + timedelta(days=7))
    assert queries.copy_tasks(controller, 7)["late"] == []
    frozen(start + timedelta(days=7, minutes=1))
    tasks = queries.copy_tasks(controller, 7)
    assert [c.id for c in tasks["late"]] == [c_slow.id]
    assert queries.copy_tasks(slow, 7)["late"] == []  # only controllers see who is late
    assert [c.id for c in queries.copy_tasks(slow, 7)["to_acknowledge"]] == [c_slow.id]
    distribution.acknowledge_copy(slow, c_slow)
    assert queries.copy_tasks(controller, 7)["late"] == []


def test_copies_of_a_superseded_revision_are_recalls_not_late_acknowledgements(f, controller, frozen):
    start = datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)
    frozen(start)
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    old = issue(controller, rev, f.user("staff").username)
    frozen(start + timedelta(days=20))
    new_revision(f, doc, controller)
    tasks = queries.copy_tasks(controller, 7)
    assert [c.id for c in tasks["recalls"]] == [old.id]
    assert old.id not in [c.id for c in tasks["late"]]


def test_my_copies_never_include_other_peoples_copies_when_i_have_no_department(f, controller, effective_doc):
    """A user without a department (e.g. an admin created by `portal create-user` without
    --department) must not see every user-held copy as theirs."""
    doc, rev = effective_doc
    issue(controller, rev, f.user("staff").username)
    loner = accounts.create_user("test", "loner", PASSWORD, "staff", None, "无部门用户")
    mine = db.session.execute(distribution.copy_query(holder_user=loner)).scalars().all()
    assert mine == []
    assert queries.copy_tasks(loner, 7)["to_acknowledge"] == []


def test_every_copy_state_change_is_in_the_trail_in_order(f, controller, effective_doc):
    doc, rev = effective_doc
    holder = f.user("staff")
    copy = issue(controller, rev, holder.username)
    distribution.acknowledge_copy(holder, copy)
    new = distribution.replace_copy(controller, copy, {"reason": "损坏"})
    distribution.recall_copy(controller, new, {"outcome": "returned", "witness": "王五"})
    assert [e.action for e in copy_trail(copy)] == ["copy.issue", "copy.acknowledge", "copy.void"]
    assert [e.action for e in copy_trail(new)] == ["copy.issue", "copy.recall"]
    issue_entry = copy_trail(copy)[0]
    assert issue_entry.after["copy_no"] == copy.copy_no and issue_entry.after["holder"] == holder.username
    assert issue_entry.after["status"] == "issued" and issue_entry.before is None
    seqs = [e.seq for e in copy_trail(copy) + copy_trail(new)]
    assert seqs == sorted(seqs)
    assert re.fullmatch(rf"{re.escape(doc.code)}-A0-02", new.copy_no)
    assert clock.now() >= new.issued_at
    assert verify_chain().ok  # last: it expunges the session


def test_no_new_copy_for_a_holder_who_has_left(f, controller, effective_doc):
    """A holder who left (deactivated) cannot be issued a copy directly; the hand-over at the
    next revision must not issue one either. Their old copy stays due for recall."""
    doc, rev = effective_doc
    stays, leaves = f.user("staff"), f.user("staff")
    issue(controller, rev, stays.username)
    old = issue(controller, rev, leaves.username)
    accounts.update_user(f.user("admin"), leaves, active=False)
    rev2 = new_revision(f, doc, controller)
    assert [c.holder_key for c in copies_of_rev(rev2)] == [stays.username]
    assert old.recall_due
