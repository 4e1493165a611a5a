"""Trail entries and the single head row that serialises appends."""
from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import UTCDateTime
from portal.extensions import db

OBJECT_TYPES = ("document", "revision", "copy", "record", "run", "audit", "finding",
                "action", "user", "department", "token", "form", "evidence", "objective", "calendar",
                "change_request", "management_review", "audit_programme")


class TrailEntry(db.Model):
    """One state change: who, when (UTC), what, before → after, why."""

    __tablename__ = "trail_entry"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32), index=True)
    object_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class TrailHead(db.Model):
    """The chain's tip. Locking this row orders concurrent appends."""

    __tablename__ = "trail_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
