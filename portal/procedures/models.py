"""Runs of a procedure and their steps, copied from the revision the run started on."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event, inspect, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

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
    # Objective values of whole runs read the closed runs of a month from this index alone.
    __table_args__ = (Index("ix_procedure_run_on_time", "document_id", "state", "closed_at", "late",
                            "department_id"),)
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
    # Whether a step was completed after its due time, fixed when the run closes (None before):
    # answering it per run from the steps costs a probe per run, 100,000 of them in a year.
    late: Mapped[bool | None]
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
                      Index("uq_run_step_run_index", "run_id", "index", unique=True),
                      # Objective values of one step read a month's completions from this index alone.
                      Index("ix_run_step_on_time", "document_id", "index", "state", "completed_at", "due_at",
                            "run_cancelled", "run_department_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("procedure_run.id"))
    # The run's procedure and department and whether it was cancelled, copied so that a step's
    # objective values need no look-up of its run (a probe per step: 100,000 of them a year).
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    run_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    run_cancelled: Mapped[bool] = mapped_column(default=False)
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
    form: Mapped[Document | None] = relationship(foreign_keys=[form_id])
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    completed_by: Mapped[User | None] = relationship()
    record: Mapped[Record | None] = relationship()

    @property
    def late(self) -> bool:
        return bool(self.completed_at and self.due_at and self.completed_at > self.due_at)


# The copies above are derived by the model, not by each service, so that every writer of runs
# (services, the demo, tests building rows) stores the same thing. Bulk inserts that bypass the
# ORM (bench/runs_bench.py) set them themselves.

@event.listens_for(RunStep, "before_insert")
def _copy_run(_mapper, connection, step: RunStep) -> None:
    run = step.run
    if run is None:  # added by run_id alone
        run = connection.execute(select(ProcedureRun.document_id, ProcedureRun.department_id, ProcedureRun.state)
                                 .where(ProcedureRun.id == step.run_id)).one()
    step.document_id, step.run_department_id = run.document_id, run.department_id
    step.run_cancelled = run.state == "cancelled"


@event.listens_for(ProcedureRun, "before_insert")
@event.listens_for(ProcedureRun, "before_update")
def _fix_lateness(_mapper, _connection, run: ProcedureRun) -> None:
    # Decided when the state changes: a closed run's steps never change again. The steps are
    # the session's objects, so the completion being flushed with the close is counted.
    if inspect(run).attrs.state.history.has_changes():
        run.late = any(step.late for step in run.steps) if run.state == "closed" else None


@event.listens_for(ProcedureRun, "after_update")
def _copy_cancellation(_mapper, connection, run: ProcedureRun) -> None:
    if inspect(run).attrs.state.history.has_changes():
        cancelled = run.state == "cancelled"
        connection.execute(update(RunStep.__table__).where(RunStep.run_id == run.id,
                                                           RunStep.run_cancelled.is_not(cancelled))
                           .values(run_cancelled=cancelled))
        for step in run.__dict__.get("steps", []):  # the session's copies say the same
            set_committed_value(step, "run_cancelled", cancelled)
