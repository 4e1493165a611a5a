"""A document change request and its decision."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

CHANGE_REQUEST_STATES = ("open", "accepted", "rejected", "implemented")
CHANGE_LEVELS = ("minor", "major")


class ChangeRequest(db.Model):
    """文件更改申请: why a document should change and how; accepting it opens the draft
    revision that implements it (the revision is found through `revision_id`, so the revision
    table needs no link back)."""

    __tablename__ = "change_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    proposed_change: Mapped[str] = mapped_column(Text)
    change_level: Mapped[str] = mapped_column(String(10))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revision.id"), unique=True)
    implemented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    document = relationship("Document")
    action = relationship("CorrectiveAction")
    revision = relationship("Revision")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
