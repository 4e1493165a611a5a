"""Notifications: the in-portal inbox (GET /notifications, POST /notifications/{id}/read) for
signature requested, copy to acknowledge, recall due and review due, and e-mail through
SMTP when configured (logged otherwise; a failing server marks the message "failed")."""
import logging
import smtplib
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from factories import PASSWORD
from portal.accounts import services as accounts
from portal.documents import distribution, review, workflow
from portal.extensions import db
from portal.notifications import services
from portal.notifications.models import Notification


def kinds(user) -> list[tuple[str, str]]:
    rows = db.session.execute(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).scalars()
    return [(n.kind, n.link) for n in rows]


def count() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(Notification)).scalar()


@pytest.fixture
def controller(f):
    return f.user("controller")


# --- what produces a notification ----------------------------------------------------------

def test_signature_requested_goes_to_reviewers_then_to_the_approver(f):
    doc = f.document()
    rev = f.draft(doc)
    reviewer, approver = f.user("approver"), f.user("approver")
    f.submitted(rev, [reviewer], approver)
    assert kinds(reviewer) == [("signature_requested", f"/revisions/{rev.id}")]
    assert kinds(approver) == []  # not before the reviews are in
    workflow.sign_revision(reviewer, rev, {"meaning": "review", "decision": "accept", "comment": "同意",
                                           "password": PASSWORD})
    assert kinds(approver) == [("signature_requested", f"/revisions/{rev.id}")]
    [note] = db.session.execute(select(Notification).where(Notification.user_id == approver.id)).scalars()
    assert doc.code in note.message and "批准" in note.message and note.email_status == "pending"


def test_copy_to_acknowledge_goes_to_the_holder_and_every_active_member(f, controller):
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    dept = f.department()
    a, b, gone = (f.user("staff", department=dept.code) for _ in range(3))
    accounts.update_user(f.user("admin"), gone, active=False)
    [copy] = distribution.issue_copy(controller, rev, {"holder": dept.code})
    assert kinds(a) == kinds(b) == [("copy_to_acknowledge", f"/copies/{copy.id}")]
    assert kinds(gone) == []


def test_recall_due_goes_to_the_controllers_at_supersede_and_obsolete(f, controller):
    other = f.user("controller")
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    holder = f.user("staff")
    distribution.issue_copy(controller, rev, {"holder": holder.username})
    f.effective(doc, controller, reason="修订")
    for user in (controller, other):
        assert ("recall_due", f"/documents/{doc.id}") in kinds(user)
    # the holder is asked to acknowledge the new revision (and not told about recalls)
    assert [k for k, _ in kinds(holder)] == ["copy_to_acknowledge", "copy_to_acknowledge"]
    doc2 = f.document(controller)
    rev2 = f.effective(doc2, controller)
    distribution.issue_copy(controller, rev2, {"holder": holder.username})
    workflow.obsolete_document(controller, doc2, {"reason": "停用"})
    assert ("recall_due", f"/documents/{doc2.id}") in kinds(other)


def test_no_recall_notice_when_nothing_is_out(f, controller):
    doc = f.document(controller)
    f.effective(doc, controller)
    f.effective(doc, controller, reason="修订")
    assert [k for k, _ in kinds(controller) if k == "recall_due"] == []


def test_review_due_reaches_the_owner_approver_and_controllers_once(f, controller, frozen):
    frozen(datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc))
    doc = f.document(controller, review_period_months=12)
    f.effective(doc, controller)
    owner_approver = f.user("approver", department=doc.department.code)
    other_approver = f.user("approver")
    frozen(datetime(2025, 12, 1, 2, 0, tzinfo=timezone.utc))  # due 2026-01-10: 40 days ahead
    assert review.notify_due_reviews(30) == 0
    frozen(datetime(2025, 12, 20, 2, 0, tzinfo=timezone.utc))
    assert review.notify_due_reviews(30) == 1
    for user in (owner_approver, controller):
        assert [k for k, _ in kinds(user) if k == "review_due"] == ["review_due"]
    assert kinds(other_approver) == []
    assert review.notify_due_reviews(30) == 0  # once per due date
    assert [k for k, _ in kinds(controller) if k == "review_due"] == ["review_due"]


# --- the inbox API ---------------------------------------------------------------------------

def test_inbox_lists_my_notifications_newest_first_and_marks_read(f, controller):
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    holder, other = f.user("staff"), f.user("staff")
    c1, = distribution.issue_copy(controller, rev, {"holder": holder.username})
    c2, = distribution.issue_copy(controller, rev, {"holder": holder.username})
    distribution.issue_copy(controller, rev, {"holder": other.username})
    api = f.api(holder)
    body = api.get("/notifications").get_json()
    assert {"items", "total", "page", "per_page"} <= set(body) and body["total"] == 2
    assert [n["link"] for n in body["items"]] == [f"/copies/{c2.id}", f"/copies/{c1.id}"]
    first = body["items"][1]
    assert set(first) >= {"id", "kind", "message", "link", "created_at", "read_at", "email_status"}
    assert first["kind"] == "copy_to_acknowledge" and first["read_at"] is None and c1.copy_no in first["message"]
    resp = api.post(f"/notifications/{first['id']}/read")
    assert resp.status_code == 200 and resp.get_json()["read_at"]
    again = api.post(f"/notifications/{first['id']}/read")  # idempotent
    assert again.status_code == 200 and again.get_json()["read_at"] == resp.get_json()["read_at"]
    unread = api.get("/notifications?unread=1").get_json()
    assert [n["link"] for n in unread["items"]] == [f"/copies/{c2.id}"] and unread["total"] == 1


def test_someone_elses_or_unknown_notification_404(f, controller):
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    holder = f.user("staff")
    distribution.issue_copy(controller, rev, {"holder": holder.username})
    [note_id] = db.session.execute(select(Notification.id).where(Notification.user_id == holder.id)).scalars()
    nosy = f.api(f.user("staff"))
    for path in (f"/notifications/{note_id}/read", "/notifications/999999/read"):
        resp = nosy.post(path)
        assert resp.status_code == 404 and resp.get_json()["error"]["code"]
    db.session.rollback()
    assert db.session.get(Notification, note_id).read_at is None
    assert nosy.get("/notifications").get_json()["items"] == []


def test_the_inbox_needs_a_token(client):
    assert client.get("/api/v1/notifications").status_code == 401


def test_inactive_users_are_not_notified(f, controller):
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    leaver = f.user("controller")
    accounts.update_user(f.user("admin"), leaver, active=False)
    distribution.issue_copy(controller, rev, {"holder": f.user("staff").username})
    f.effective(doc, controller, reason="修订")
    assert kinds(leaver) == []


# --- e-mail ------------------------------------------------------------------------------------

class FakeSMTP:
    sent: list = []
    opened: list = []
    fail_with: Exception | None = None

    def __init__(self, host, port=25, timeout=None, **_kw):
        FakeSMTP.opened.append((host, port))
        if FakeSMTP.fail_with is not None:
            raise FakeSMTP.fail_with

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, msg):
        FakeSMTP.sent.append(msg)


@pytest.fixture
def smtp(monkeypatch, app):
    FakeSMTP.sent, FakeSMTP.opened, FakeSMTP.fail_with = [], [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.cn")
    monkeypatch.setitem(app.config, "SMTP_PORT", 2525)
    monkeypatch.setitem(app.config, "SMTP_FROM", "wenkong@example.cn")
    return FakeSMTP


def pending_copy_notice(f, email="li@example.cn"):
    controller = f.user("controller")
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    holder = f.user("staff")
    holder.email = email
    db.session.commit()
    db.session.execute(Notification.__table__.update().values(email_status="sent"))  # earlier ones
    db.session.commit()
    [copy] = distribution.issue_copy(controller, rev, {"holder": holder.username})
    return holder, copy


def test_without_smtp_notifications_are_logged(f, app, caplog, monkeypatch):
    """deliver_pending marks them "logged" and writes one log line each. (The migration's
    logging.config.fileConfig() must not have disabled the portal's loggers.)"""
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    holder, copy = pending_copy_notice(f)
    calls = []
    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **k: calls.append(a))
    with caplog.at_level(logging.INFO, logger="portal.notifications"):
        assert services.deliver_pending() == 1
    [note] = db.session.execute(select(Notification).where(Notification.user_id == holder.id)).scalars()
    assert note.email_status == "logged" and calls == []
    assert copy.copy_no in caplog.text and holder.username in caplog.text
    assert services.deliver_pending() == 0  # never twice


def test_with_smtp_a_message_is_sent(f, smtp):
    holder, copy = pending_copy_notice(f)
    assert services.deliver_pending() == 1
    assert smtp.opened == [("smtp.example.cn", 2525)]
    [msg] = smtp.sent
    assert msg["To"] == "li@example.cn" and msg["From"] == "wenkong@example.cn"
    assert copy.copy_no in msg["Subject"] or copy.copy_no in msg.get_content()
    assert f"/copies/{copy.id}" in msg.get_content()
    [note] = db.session.execute(select(Notification).where(Notification.user_id == holder.id)).scalars()
    assert note.email_status == "sent"
    assert services.deliver_pending() == 0 and len(smtp.sent) == 1


def test_with_smtp_a_user_without_an_address_is_logged(f, smtp):
    holder, copy = pending_copy_notice(f, email=None)
    services.deliver_pending()
    assert smtp.sent == []
    [note] = db.session.execute(select(Notification).where(Notification.user_id == holder.id)).scalars()
    assert note.email_status == "logged"


@pytest.mark.parametrize("error", [ConnectionRefusedError("refused"), smtplib.SMTPServerDisconnected("gone"),
                                   TimeoutError("timed out")])
def test_a_failing_smtp_server_marks_failed_without_raising(f, smtp, error):
    holder, copy = pending_copy_notice(f)
    smtp.fail_with = error
    assert services.deliver_pending() == 1
    [note] = db.session.execute(select(Notification).where(Notification.user_id == holder.id)).scalars()
    assert note.email_status == "failed"
    # the inbox entry is still there and unread
    body = f.api(holder).get("/notifications").get_json()
    assert [(n["email_status"], n["read_at"]) for n in body["items"]] == [("failed", None)]


def test_a_send_that_fails_half_way_marks_failed(f, smtp, monkeypatch):
    holder, copy = pending_copy_notice(f)

    def refuse(self, msg):
        raise smtplib.SMTPRecipientsRefused({"li@example.cn": (550, b"no such user")})

    monkeypatch.setattr(FakeSMTP, "send_message", refuse)
    assert services.deliver_pending() == 1
    [note] = db.session.execute(select(Notification).where(Notification.user_id == holder.id)).scalars()
    assert note.email_status == "failed"


# --- the periodic jobs the server runs ------------------------------------------------------------

def test_the_periodic_jobs_send_review_reminders_and_deliver_mail(f, app, smtp, frozen):
    from portal.jobs import run_jobs_once

    frozen(datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc))
    controller = f.user("controller")
    controller.email = "wenkong@example.cn"
    db.session.commit()
    doc = f.document(controller, review_period_months=12)
    f.effective(doc, controller)
    doc_id, controller_id = doc.id, controller.id
    frozen(datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc))
    db.session.commit()
    done = run_jobs_once(app)
    assert done["review_reminders"] == 1 and done["notifications"] >= 1
    db.session.rollback()
    notes = db.session.execute(select(Notification).where(Notification.user_id == controller_id)
                               .order_by(Notification.id)).scalars().all()
    reminder = [n for n in notes if n.kind == "review_due"]
    assert len(reminder) == 1 and reminder[0].link.startswith(f"/documents/{doc_id}")
    assert all(n.email_status in ("sent", "logged") for n in notes)
    assert any(n.email_status == "sent" for n in notes)
    assert any(msg["To"] == "wenkong@example.cn" for msg in smtp.sent)
    assert run_jobs_once(app)["review_reminders"] == 0


def test_review_reminders_read_the_database_a_fixed_number_of_times(f, controller, frozen):
    """The jobs round runs inside the web server: its reads must not grow with the number of
    documents due (one query per document took 12 s at 7,882 documents)."""
    from sqlalchemy import event

    frozen(datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc))
    docs = [f.document(controller, review_period_months=12) for _ in range(6)]
    for doc in docs[:2]:
        f.effective(doc, controller)
    frozen(datetime(2025, 12, 20, 2, 0, tzinfo=timezone.utc))

    def selects_during_reminders() -> tuple[int, int]:
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement.lstrip().upper().startswith("SELECT"))
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            sent = review.notify_due_reviews(30)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return sent, sum(seen)

    few = selects_during_reminders()
    frozen(datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc))
    for doc in docs[2:]:
        f.effective(doc, controller)
    frozen(datetime(2025, 12, 21, 2, 0, tzinfo=timezone.utc))
    many = selects_during_reminders()
    assert (few[0], many[0]) == (2, 4)  # the four new ones only; the first two were told already
    assert many[1] == few[1], (few, many)


def test_a_backlog_is_delivered_batch_by_batch_within_one_round(f, app, monkeypatch):
    """Five batches' worth goes out in one jobs round; a spent time budget leaves the rest
    pending for the next round, delivered once."""
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    holder, _ = pending_copy_notice(f)
    for i in range(9):
        services.notify([holder], "copy_issued", f"第 {i} 份", f"/copies/{i}")
    db.session.commit()
    assert services.deliver_backlog(batch=2) == 10
    pending = select(func.count()).select_from(Notification).where(Notification.email_status == "pending")
    assert db.session.scalar(pending) == 0
    for i in range(3):
        services.notify([holder], "copy_issued", f"再 {i}", f"/copies/x{i}")
    db.session.commit()
    assert services.deliver_backlog(batch=2, budget_seconds=0) == 0  # no time left this round
    assert db.session.scalar(pending) == 3
    assert services.deliver_backlog(batch=2) == 3
