"""The search outbox: a row per change, written in the changing transaction."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db


class SearchOutbox(db.Model):
    """Something to (re)index; the indexer deletes nothing, it marks rows done."""

    __tablename__ = "search_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Evidence(db.Model):
    """A frozen search result kept as audit evidence: shown unchanged whatever happens later."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    q: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict] = mapped_column(JSON)
    parsed_query: Mapped[str] = mapped_column(Text)
    index_generation: Mapped[int | None]
    analyzer_version: Mapped[str] = mapped_column(String(100))
    total: Mapped[int]
    hits: Mapped[list] = mapped_column(JSON)
    result_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    # What the evidence supports: one finding or one checklist item (检查表 row), or nothing yet.
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"), index=True)
    checklist_item_id: Mapped[int | None] = mapped_column(ForeignKey("audit_checklist_item.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    created_by: Mapped[User] = relationship()
