"""Records (filled-in controlled forms), their corrections and attachments."""
import math
from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, delete, event, inspect, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.database import UTCDateTime, utcnow_column_default
from portal.documents.models import Document, Revision
from portal.extensions import db

RECORD_STATUSES = ("open", "closed", "voided", "disposed")
# The longest text a quality objective compares a field with; longer values are not copied
# into record_value, as they can equal none of them.
MEASURED_TEXT_CHARS = 200


class Record(db.Model):
    """A numbered record issued from one revision of a form; its number is never reused."""

    __tablename__ = "record"
    # Objective counts read a month's records of a form from this index alone.
    __table_args__ = (Index("ix_record_form_created", "form_id", "created_at", "status", "department_id"),)
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


class RecordValue(db.Model):
    """One scalar value of a record's data (a number, a text of at most MEASURED_TEXT_CHARS, or
    true/false), with the record's form, status, issue time and department: quality objectives
    read a year of a field's values from one index instead of parsing every record's JSON
    (100,000 parses take about as long as the whole budget of a request). Derived from the
    record by the mapper events below, so every change of its data or status carries over."""

    __tablename__ = "record_value"
    __table_args__ = (Index("ix_record_value_measure", "form_id", "field", "status", "created_at",
                            "department_id", "number", "text", "flag"),)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(String(MEASURED_TEXT_CHARS))
    flag: Mapped[bool | None]


def _storable(text: str) -> bool:
    """Services refuse lone surrogates and NUL, but a row written before those checks may
    hold one: no database stores a lone surrogate as text, and PostgreSQL no NUL."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def value_rows(record_id: int, form_id: int, status: str, created_at, department_id, data) -> list[dict]:
    """The record_value rows of one record (also for bulk loads that bypass the ORM)."""
    rows = []
    if not isinstance(data, dict):  # older or hand-made data may hold anything; nothing to measure
        return rows
    for name, value in data.items():
        number = text = flag = None
        if isinstance(value, bool):
            flag = value
        elif isinstance(value, (int, float)) and math.isfinite(value):
            number = float(value)
        elif isinstance(value, str) and len(value) <= MEASURED_TEXT_CHARS and _storable(value):
            text = value
        else:
            continue  # a table, or a text no objective can name
        rows.append({"record_id": record_id, "field": name, "form_id": form_id, "status": status,
                     "created_at": created_at, "department_id": department_id,
                     "number": number, "text": text, "flag": flag})
    return rows


def _rows_of(rec: Record) -> list[dict]:
    return value_rows(rec.id, rec.form_id, rec.status, rec.created_at, rec.department_id, rec.data)


_COPIED = ("status", "created_at", "department_id", "form_id")


@event.listens_for(Record, "after_insert")
def _values_inserted(_mapper, connection, rec: Record) -> None:
    rows = _rows_of(rec)
    if rows:
        connection.execute(RecordValue.__table__.insert(), rows)


@event.listens_for(Record, "after_update")
def _values_updated(_mapper, connection, rec: Record) -> None:
    attrs = inspect(rec).attrs
    table = RecordValue.__table__
    if attrs.data.history.has_changes():  # a correction, or a disposal that removes the data
        connection.execute(delete(table).where(table.c.record_id == rec.id))
        _values_inserted(_mapper, connection, rec)
    elif any(attrs[name].history.has_changes() for name in _COPIED):
        connection.execute(update(table).where(table.c.record_id == rec.id).values(
            {name: getattr(rec, name) for name in _COPIED}))
