"""Notifying users inside the changing transaction; e-mailing them after it committed."""
import logging
import smtplib
import time
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import insert, select

from portal import clock
from portal.accounts.models import User
from portal.accounts.permissions import require_writer
from portal.errors import NotFound
from portal.extensions import db
from portal.notifications.models import Notification

log = logging.getLogger("portal.notifications")


def _recipients(users) -> list[User]:
    """Each distinct active user once."""
    seen, out = set(), []
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        out.append(user)
    return out


def notify(users, kind: str, message: str, link: str | None = None) -> None:
    """Queue one inbox message per distinct active user (part of the caller's transaction)."""
    for user in _recipients(users):
        db.session.add(Notification(user=user, kind=kind, message=message, link=link,
                                    created_at=clock.now()))


def notify_many(messages) -> int:
    """Queue several messages, each (users, kind, message, link) as `notify` takes them, with
    one insert (part of the caller's transaction): a jobs round may send a thousand."""
    now = clock.now()
    rows = [{"user_id": user.id, "kind": kind, "message": message, "link": link, "created_at": now}
            for users, kind, message, link in messages for user in _recipients(users)]
    if rows:
        db.session.execute(insert(Notification), rows)
    return len(rows)


def controllers() -> list[User]:
    return list(db.session.execute(select(User).where(User.role == "controller", User.active.is_(True))).scalars())


def inbox(user, unread_only: bool = False):
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def unread_count(user) -> int:
    from sqlalchemy import func

    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar()


def mark_read(user, notification_id: int) -> Notification:
    """Mark one of my messages read (reading is not a controlled state change, but it is
    a write, and read-only accounts change nothing)."""
    require_writer(user)
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound("No such notification.")
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.commit()
    return note


def deliver_backlog(batch: int = 200, budget_seconds: float = 20.0) -> int:
    """Deliver pending notifications batch by batch until none is left or the time budget is
    spent: one batch a minute would take hours over a backlog (the first review reminders of a
    large document set are thousands), yet one jobs round must not run for ever."""
    started, total = time.monotonic(), 0
    while time.monotonic() - started < budget_seconds:
        done = deliver_pending(batch)
        total += done
        if done < batch:
            break
    return total


def deliver_pending(limit: int = 200) -> int:
    """E-mail pending notifications through SMTP when configured, else log them."""
    pending = db.session.execute(select(Notification).where(Notification.email_status == "pending")
                                 .order_by(Notification.id).limit(limit)).scalars().all()
    host = current_app.config.get("SMTP_HOST")
    for note in pending:
        note.email_status = _send(note, host) if host and note.user.email else _log(note)
    db.session.commit()
    return len(pending)


def _log(note: Notification) -> str:
    log.info("notification to %s: %s %s", note.user.username, note.message, note.link or "")
    return "logged"


def _send(note: Notification, host: str) -> str:
    cfg = current_app.config
    msg = EmailMessage()
    msg["Subject"] = f"[文控门户] {note.message[:60]}"
    msg["From"] = cfg.get("SMTP_FROM", "portal@localhost")
    msg["To"] = note.user.email
    link = f"{cfg.get('BASE_URL', '').rstrip('/')}{note.link}" if note.link else ""
    msg.set_content(f"{note.message}\n\n{link}")
    try:
        with smtplib.SMTP(host, int(cfg.get("SMTP_PORT", 25)), timeout=10) as smtp:
            smtp.send_message(msg)
        return "sent"
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("e-mail to %s failed: %s", note.user.email, exc)
        return "failed"
