"""Revision workflow rules: labels, signatures, release, supersede, obsolete."""
from datetime import date, datetime, timedelta, timezone

import pytest

from portal import clock
from portal.documents import queries, services, workflow
from portal.errors import Conflict, InvalidState, NotAllowed, ValidationFailed
from portal.trail.services import verify_chain
from factories import PASSWORD


def test_labels_follow_a0_a1_b0(f):
    doc = f.document()
    first = f.effective(doc)
    assert first.label == "A/0"
    minor = f.effective(doc, reason="7.5 增加电子文件", level="minor")
    assert minor.label == "A/1"
    major = f.effective(doc, reason="换版", level="major")
    assert major.label == "B/0"
    assert [r.state for r in doc.revisions] == ["superseded", "superseded", "effective"]
    assert doc.current_revision.id == major.id


def test_change_reason_required_after_first_revision(f):
    doc = f.document()
    f.effective(doc)
    with pytest.raises(ValidationFailed) as exc:
        f.draft(doc, reason=None)
    assert "change_reason" in exc.value.fields
    assert len(doc.revisions) == 1


def test_only_one_open_revision(f):
    doc = f.document()
    f.draft(doc)
    with pytest.raises(Conflict):
        f.draft(doc)


def test_author_cannot_sign_own_revision(f):
    doc = f.document()
    rev = f.draft(doc)
    with pytest.raises(ValidationFailed):
        workflow.submit_revision(rev.author, rev, {"reviewers": [rev.author.username],
                                                   "approver": f.user("approver").username})
    with pytest.raises(ValidationFailed):
        workflow.submit_revision(rev.author, rev, {"reviewers": [f.user("approver").username],
                                                   "approver": rev.author.username})
    assert rev.state == "draft"


def test_signing_rules(f):
    doc = f.document()
    rev, reviewers, approver = f.submitted(f.draft(doc))
    stranger = f.user("approver")
    sign = {"meaning": "review", "decision": "accept", "comment": "ok", "password": PASSWORD}
    with pytest.raises(NotAllowed):
        workflow.sign_revision(stranger, rev, sign)
    with pytest.raises(NotAllowed):
        workflow.sign_revision(reviewers[0], rev, {**sign, "password": "wrong-password"})
    with pytest.raises(InvalidState):  # the approver waits for the reviews
        workflow.sign_revision(approver, rev, {**sign, "meaning": "approve"})
    workflow.sign_revision(reviewers[0], rev, sign)
    with pytest.raises(Conflict):
        workflow.sign_revision(reviewers[0], rev, sign)
    workflow.sign_revision(approver, rev, {**sign, "meaning": "approve"})
    assert rev.state == "approved"
    shown = [(s.meaning, s.printed_name, s.signed_at is not None) for s in rev.signatures]
    assert shown == [("prepare", rev.author.display_name, True),
                     ("review", reviewers[0].display_name, True),
                     ("approve", approver.display_name, True)]


def test_rejection_returns_to_draft_and_keeps_comment(f):
    doc = f.document()
    rev, reviewers, _ = f.submitted(f.draft(doc))
    workflow.sign_revision(reviewers[0], rev, {"meaning": "review", "decision": "reject",
                                               "comment": "4.2 职责不清", "password": PASSWORD})
    assert rev.state == "draft"
    assert any(s.comment == "4.2 职责不清" and s.decision == "reject" for s in rev.signatures)
    services.update_revision(rev.author, rev, {"body_html": "<p>改好了</p>"})
    f.submitted(rev)
    assert rev.review_round == 2 and rev.state == "in_review"


def test_released_revision_cannot_be_edited_and_unapproved_cannot_be_released(f):
    doc = f.document()
    controller = f.user("controller")
    rev = f.draft(doc)
    with pytest.raises(InvalidState):
        workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    with pytest.raises(Conflict):
        services.update_revision(rev.author, rev, {"body_html": "<p>x</p>"})
    assert rev.state == "effective" and doc.status == "effective"


def test_only_controllers_release(f):
    doc = f.document()
    rev = f.approved(f.draft(doc))
    with pytest.raises(NotAllowed):
        workflow.release_revision(f.user("approver"), rev, {"effective_date": clock.today().isoformat()})
    assert rev.state == "approved"


def test_future_release_waits_then_supersedes(f, frozen):
    frozen(datetime(2026, 3, 1, 2, tzinfo=timezone.utc))
    doc = f.document()
    old = f.effective(doc)
    new = f.approved(f.draft(doc, reason="更新"))
    workflow.release_revision(f.user("controller"), new, {"effective_date": "2026-03-10"})
    assert new.state == "released" and old.state == "effective"
    assert workflow.activate_due_revisions() == 0
    frozen(datetime(2026, 3, 9, 16, 30, tzinfo=timezone.utc))  # 00:30 on 3-10 in Shanghai
    assert workflow.activate_due_revisions() == 1
    assert new.state == "effective" and old.state == "superseded"
    assert old.ended_on == date(2026, 3, 10)
    assert queries.revision_as_of(doc, date(2026, 3, 9)).id == old.id
    assert queries.revision_as_of(doc, date(2026, 3, 10)).id == new.id
    assert queries.revision_as_of(doc, date(2026, 2, 1)) is None


def test_past_effective_date_refused(f):
    doc = f.document()
    rev = f.approved(f.draft(doc))
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    with pytest.raises(ValidationFailed):
        workflow.release_revision(f.user("controller"), rev, {"effective_date": yesterday})


def test_obsolete_marks_revision_and_withdraws_open_draft(f):
    doc = f.document()
    rev = f.effective(doc)
    draft = f.draft(doc, reason="拟修订")
    workflow.obsolete_document(f.user("controller"), doc, {"reason": "合并入 QP0502"})
    assert doc.status == "obsolete" and rev.state == "obsolete" and draft.state == "withdrawn"
    with pytest.raises(Conflict):
        f.draft(doc, reason="again")
    with pytest.raises(InvalidState):
        workflow.obsolete_document(f.user("controller"), doc, {"reason": "twice"})


def test_every_change_is_in_an_intact_trail(f):
    doc = f.document()
    f.effective(doc)
    result = verify_chain()
    assert result.ok and result.checked >= 8
