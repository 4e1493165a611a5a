"""Records (filled-in controlled forms), their corrections and attachments."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.database import UTCDateTime, utcnow_column_default
from portal.documents.models import Document, Revision
from portal.extensions import db

RECORD_STATUSES = ("open", "closed", "voided", "disposed")


class Record(db.Model):
    """A numbered record issued from one revision of a form; its number is never reused."""

    __tablename__ = "record"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(300), unique=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"))
    revision_label: Mapped[str] = mapped_column(String(10))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    data: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    retain_until: Mapped[date | None] = mapped_column(index=True)
    disposal_method: Mapped[str | None] = mapped_column(String(200))
    disposal_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    disposal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    form: Mapped[Document] = relationship()
    revision: Mapped[Revision] = relationship()
    department: Mapped[Department | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])
    disposal_requested_by: Mapped[User | None] = relationship(foreign_keys=[disposal_requested_by_id])
    disposed_by: Mapped[User | None] = relationship(foreign_keys=[disposed_by_id])
    corrections: Mapped[list["RecordCorrection"]] = relationship(
        back_populates="record", order_by="RecordCorrection.id")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="record", order_by="Attachment.id")


class RecordCorrection(db.Model):
    """The electronic 划改: a changed value keeps the old one, who, when and why."""

    __tablename__ = "record_correction"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[object] = mapped_column(JSON, nullable=True)
    new_value: Mapped[object] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    record: Mapped[Record] = relationship(back_populates="corrections")
    by: Mapped[User] = relationship()


class Attachment(db.Model):
    """A file attached to a record, stored once by SHA-256."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    record: Mapped[Record] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User] = relationship()
