"""Password re-entry (issue 9 item 6): a wrong password at signing or a periodic review counts
towards the sign-in lockout, is committed although the action is refused and rolled back,
and commits nothing else; while the account waits, re-entry is refused like a sign-in."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.models import User
from portal.documents import review, workflow
from portal.documents.models import Document, PeriodicReview
from portal.errors import NotAllowed, NotAuthenticated
from portal.extensions import db
from portal.trail.models import TrailEntry
from factories import PASSWORD

T0 = datetime(2026, 5, 6, 2, 0, tzinfo=timezone.utc)


def committed_failures(user) -> int:
    """What another connection sees: the counter survived the request's rollback."""
    with db.engine.connect() as conn:
        return conn.execute(select(User.failed_logins).where(User.id == user.id)).scalar()


def trail_size() -> int:
    return db.session.execute(select(func.count()).select_from(TrailEntry)).scalar()


def sign(rev, signer, password):
    return workflow.sign_revision(signer, rev, {"meaning": "review", "decision": "accept",
                                                "comment": "同意", "password": password})


@pytest.fixture
def signing(f, frozen):
    frozen(T0)
    rev, (reviewer,), _approver = f.submitted(f.draft(f.document()))
    return rev, reviewer


def test_a_wrong_signing_password_is_counted_and_nothing_else_is_kept(signing):
    rev, reviewer = signing
    before = trail_size()
    with pytest.raises(NotAllowed) as exc:
        sign(rev, reviewer, "wrong-password")
    assert exc.value.code == "wrong_password"
    assert committed_failures(reviewer) == 1
    db.session.rollback()
    assert trail_size() == before and rev.state == "in_review"
    assert [s.decision for s in rev.signatures if s.meaning == "review"] == [None]


def test_signing_waits_after_repeated_wrong_passwords_and_so_does_sign_in(signing, frozen):
    rev, reviewer = signing
    for _ in range(5):
        with pytest.raises(NotAllowed):
            sign(rev, reviewer, "wrong-password")
    with pytest.raises(NotAllowed) as exc:
        sign(rev, reviewer, PASSWORD)
    assert exc.value.code == "locked"
    with pytest.raises(NotAuthenticated):
        services.authenticate(reviewer.username, PASSWORD, "10.0.0.1")
    frozen(T0 + timedelta(seconds=31))
    sign(rev, reviewer, PASSWORD)
    assert [s.decision for s in rev.signatures if s.meaning == "review"] == ["accept"]
    assert committed_failures(reviewer) == 0  # a right password clears the count


def test_sign_in_failures_and_reentry_failures_share_one_count(signing):
    rev, reviewer = signing
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            services.authenticate(reviewer.username, "wrong-password", "10.0.0.1")
    for _ in range(2):
        with pytest.raises(NotAllowed):
            sign(rev, reviewer, "wrong-password")
    with pytest.raises(NotAllowed) as exc:
        sign(rev, reviewer, PASSWORD)
    assert exc.value.code == "locked"


def test_a_wrong_password_commits_nothing_pending_in_the_session(f, signing):
    rev, reviewer = signing
    doc = db.session.get(Document, rev.document_id)
    title = doc.title
    doc.title = "changed but never committed"
    db.session.flush()  # even a flushed change is not committed with the counter
    assert services.verify_password(reviewer, "wrong-password") is False
    db.session.rollback()
    assert db.session.get(Document, rev.document_id).title == title
    assert committed_failures(reviewer) == 1


def test_an_empty_password_is_not_a_guess(signing):
    _rev, reviewer = signing
    assert services.verify_password(reviewer, "") is False
    assert committed_failures(reviewer) == 0


def test_periodic_review_counts_wrong_passwords_and_waits(f, frozen):
    frozen(T0)
    doc = f.document()
    f.effective(doc)
    controller = f.user("controller")
    payload = {"outcome": "keep", "comment": "仍适宜", "password": "wrong-password"}
    for count in range(1, 6):
        with pytest.raises(NotAllowed) as exc:
            review.record_review(controller, db.session.get(Document, doc.id), payload)
        assert exc.value.code == "wrong_password" and committed_failures(controller) == count
    with pytest.raises(NotAllowed) as exc:
        review.record_review(controller, db.session.get(Document, doc.id), {**payload, "password": PASSWORD})
    assert exc.value.code == "locked"
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(PeriodicReview)).scalar() == 0
    frozen(T0 + timedelta(seconds=31))
    assert review.record_review(controller, db.session.get(Document, doc.id),
                                {**payload, "password": PASSWORD}).outcome == "keep"
