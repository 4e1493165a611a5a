"""Sign-in throttling: one rule for an account and for a client address.

Each failed attempt counts. The first `free` failures cost nothing; each further one makes
the next attempt wait LOGIN_DELAY_SECONDS, then twice as long, and so on up to
LOGIN_DELAY_CAP_MINUTES. Attempts during a wait are refused without checking the password
and are not counted, so strangers cannot lengthen the wait faster than one guess per wait,
and the real user is kept out briefly rather than for a fixed quarter of an hour. A quiet
LOGIN_FORGET_MINUTES after the wait forgets the count. A successful sign-in or password
re-entry clears the account's count; an admin's password reset clears it too. A client's
count is never cleared by success (one valid account must not launder guesses at others):
it only fades. The client is request.remote_addr: behind a reverse proxy, make the proxy's
address translation (werkzeug ProxyFix) part of the deployment, or every client is one.
State lives in the database, so several web processes share it.
"""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts.models import LoginThrottle, User
from portal.extensions import db

MAX_DOUBLINGS = 20  # keeps 2**n small; the cap is reached long before


def client_key(address: str | None) -> str:
    return (address or "unknown")[:64]


def account_waits(user, now: datetime) -> bool:
    """True while the account must wait before its next attempt is checked."""
    return _waits(user, current_app.config["LOGIN_MAX_FAILURES"], now)


def client_waits(address: str, now: datetime) -> bool:
    """True while the client address must wait before its next attempt is checked."""
    row = db.session.get(LoginThrottle, address)
    return _waits(row, current_app.config["LOGIN_CLIENT_MAX_FAILURES"], now)


def _waits(holder, free: int, now: datetime) -> bool:
    # Only an earned delay counts (a free failure dates itself in locked_until too).
    return (holder is not None and holder.failed_logins >= free
            and holder.locked_until is not None and holder.locked_until > now)


def delay_after(failures: int, free: int) -> timedelta:
    """How long the next attempt waits after `failures` failures."""
    cfg = current_app.config
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, MAX_DOUBLINGS)
    return min(timedelta(seconds=cfg["LOGIN_DELAY_SECONDS"] * 2 ** doublings),
               timedelta(minutes=cfg["LOGIN_DELAY_CAP_MINUTES"]))


def count_failure(holder, free: int, now: datetime) -> None:
    """One more failure for an account or client (the caller holds its row lock)."""
    forget = timedelta(minutes=current_app.config["LOGIN_FORGET_MINUTES"])
    if holder.locked_until is None or now - holder.locked_until > forget:
        holder.failed_logins = 0
    holder.failed_logins += 1
    holder.locked_until = now + delay_after(holder.failed_logins, free)


def clear(holder) -> None:
    holder.failed_logins, holder.locked_until = 0, None


def count_account_failure(user_id: int, now: datetime) -> None:
    """Count a failure against an account, under its row lock (parallel guesses all count)."""
    user = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    count_failure(user, current_app.config["LOGIN_MAX_FAILURES"], now)


def count_client_failure(address: str, now: datetime) -> None:
    """Count a failure against a client address; rows of long-quiet clients are dropped."""
    forget = timedelta(minutes=current_app.config["LOGIN_FORGET_MINUTES"])
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.locked_until < now - forget))
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    # Two processes may see a new address at once: insert-if-absent, then lock the row.
    db.session.execute(dialect.insert(LoginThrottle).values(address=address, failed_logins=0)
                       .on_conflict_do_nothing())
    row = db.session.get(LoginThrottle, address, with_for_update=True, populate_existing=True)
    count_failure(row, current_app.config["LOGIN_CLIENT_MAX_FAILURES"], now)
