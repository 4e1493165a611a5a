"""Accounts: departments, users and API tokens."""
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

ROLES = ("admin", "controller", "staff", "approver", "auditor", "external_reviewer")


class Department(db.Model):
    """An organisational unit, coded in pinyin capitals (e.g. SH 售后服务部)."""

    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Receives escalations of overdue procedure steps (CONTRACT "Procedure runs").
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True,
                                                              name="fk_department_manager_id_user"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    manager: Mapped["User | None"] = relationship(foreign_keys=[manager_id])


class User(UserMixin, db.Model):
    """A person who signs in. Never deleted: deactivated instead."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(default=True)
    expires_on: Mapped[date | None]
    # Sign-in throttling (portal/accounts/throttle.py): failures counted, and no password is
    # checked before locked_until (it is set at each failure, so it also dates the last one).
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session cookie; raising it ends every session of this user.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    locale: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and clock.today() > self.expires_on

    @property
    def is_read_only(self) -> bool:
        return self.role == "external_reviewer"

    @property
    def department_code(self) -> str | None:
        return self.department.code if self.department else None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie (portal.accounts.services.user_for_session)."""
        return f"{self.id}:{self.session_version}"


# Usernames are kept as typed but are one name whatever the case (`Admin` is `admin`); the
# USERNAME pattern is ASCII, so lower() means the same in Python, SQLite and PostgreSQL.
Index("uq_user_username_lower", func.lower(User.username), unique=True)


class LoginThrottle(db.Model):
    """Failed sign-ins from one client address, shared by every web process."""

    __tablename__ = "login_throttle"
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
