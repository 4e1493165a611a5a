"""Runs of a procedure and their steps, copied from the revision the run started on."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.database import UTCDateTime, utcnow_column_default
from portal.documents.models import Document, Revision
from portal.extensions import db
from portal.records.models import Record

RUN_STATES = ("open", "closed", "cancelled")
STEP_STATES = ("pending", "done")
PRIORITIES = ("ordinary", "emergency")
ESCALATE_TO = ("manager", "controller")


class ProcedureRun(db.Model):
    """One service request or complaint walking its procedure (e.g. SR-202612-0001)."""

    __tablename__ = "procedure_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(300), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"))
    revision_label: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(500))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    priority: Mapped[str] = mapped_column(String(20), default="ordinary")
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    document: Mapped[Document] = relationship()
    revision: Mapped[Revision] = relationship()
    department: Mapped[Department] = relationship()
    created_by: Mapped[User] = relationship()
    steps: Mapped[list["RunStep"]] = relationship(back_populates="run", order_by="RunStep.index",
                                                  cascade="all, delete-orphan")


class RunStep(db.Model):
    """One step of a run; `due_at` is computed once, when the run starts."""

    __tablename__ = "run_step"
    __table_args__ = (Index("ix_run_step_state_due_at", "state", "due_at"),
                      Index("uq_run_step_run_index", "run_id", "index", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("procedure_run.id"))
    index: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    role: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    escalate_to: Mapped[str] = mapped_column(String(20), default="manager")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    # Set in the same transaction as the one escalation notice, so it is never repeated.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    run: Mapped[ProcedureRun] = relationship(back_populates="steps")
    form: Mapped[Document | None] = relationship()
    department: Mapped[Department | None] = relationship()
    completed_by: Mapped[User | None] = relationship()
    record: Mapped[Record | None] = relationship()

    @property
    def late(self) -> bool:
        return bool(self.completed_at and self.due_at and self.completed_at > self.due_at)
