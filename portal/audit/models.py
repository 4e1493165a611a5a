"""The clause catalogue, internal audits, checklists, findings and corrective actions."""
from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

AUDIT_STATES = ("planned", "in_progress", "reported", "closed")
CLASSIFICATIONS = ("major", "minor", "observation", "ofi")
# Findings of these classes are nonconformities: each needs a corrective action.
NONCONFORMITIES = ("major", "minor")
CHECK_RESULTS = ("conforming", "nonconforming", "observation", "not_applicable")
ACTION_STATES = ("open", "completed", "closed")
EVIDENCE_KINDS = ("document", "revision", "record")
# A programme audit fills the year's plan; an ad-hoc one (after a complaint, an incident)
# joins the programme with the reason it was called.
AUDIT_KINDS = ("programme", "ad_hoc")


class Clause(db.Model):
    """A clause of a management-system standard, e.g. ISO 9001:2015 7.5.3."""

    __tablename__ = "clause"
    __table_args__ = (UniqueConstraint("standard", "number", name="uq_clause_standard_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    standard: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(20))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    sort_key: Mapped[str] = mapped_column(String(60))

    @property
    def ref(self) -> str:
        return f"{self.standard} {self.number}"


audit_department = Table(
    "audit_department", db.metadata,
    Column("audit_id", ForeignKey("audit.id"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)

audit_team_member = Table(
    "audit_team_member", db.metadata,
    Column("audit_id", ForeignKey("audit.id"), primary_key=True),
    Column("user_id", ForeignKey("user.id"), primary_key=True),
)


class Audit(db.Model):
    """An internal audit (内部审核): plan, checklist, findings and report."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    planned_start: Mapped[date] = mapped_column(index=True)
    planned_end: Mapped[date]
    state: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    clauses: Mapped[list] = mapped_column(JSON, default=list)
    lead_auditor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    conclusion: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="programme", server_default="programme")
    ad_hoc_reason: Mapped[str | None] = mapped_column(Text)
    opening_notes: Mapped[str | None] = mapped_column(Text)
    closing_notes: Mapped[str | None] = mapped_column(Text)
    # The controller's justification for an auditor who would otherwise not be independent
    # (own department, or a document they wrote or signed); shown in the report.
    independence_reason: Mapped[str | None] = mapped_column(Text)
    independence_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    independence_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lead_auditor: Mapped[User] = relationship(foreign_keys=[lead_auditor_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    independence_by: Mapped[User | None] = relationship(foreign_keys=[independence_by_id])
    departments: Mapped[list[Department]] = relationship(secondary=audit_department,
                                                         order_by=Department.code)
    team: Mapped[list[User]] = relationship(secondary=audit_team_member, order_by=User.username)
    checklist: Mapped[list["AuditChecklistItem"]] = relationship(
        back_populates="audit", order_by="AuditChecklistItem.id")
    findings: Mapped[list["Finding"]] = relationship(back_populates="audit", order_by="Finding.id")

    @property
    def auditors(self) -> list[User]:
        return [self.lead_auditor] + [u for u in self.team if u.id != self.lead_auditor_id]


class AuditChecklistItem(db.Model):
    """One row of the 检查表: a question for a department under a clause, and its result."""

    __tablename__ = "audit_checklist_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    clause: Mapped[str] = mapped_column(String(80))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    question: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    audit: Mapped[Audit] = relationship(back_populates="checklist")
    department: Mapped[Department] = relationship()
    auditor: Mapped[User | None] = relationship(foreign_keys=[auditor_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])


class Finding(db.Model):
    """An audit finding: major / minor nonconformity, observation or opportunity for improvement."""

    __tablename__ = "finding"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    classification: Mapped[str] = mapped_column(String(20))
    clause: Mapped[str] = mapped_column(String(80))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    # The 检查表 row it was raised from, when it was.
    checklist_item_id: Mapped[int | None] = mapped_column(ForeignKey("audit_checklist_item.id"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    audit: Mapped[Audit] = relationship(back_populates="findings")
    department: Mapped[Department] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    checklist_item: Mapped[AuditChecklistItem | None] = relationship()
    actions: Mapped[list["CorrectiveAction"]] = relationship(
        back_populates="finding", order_by="CorrectiveAction.id")


class CorrectiveAction(db.Model):
    """A corrective action (纠正措施) on a finding, verified for effectiveness by an auditor."""

    __tablename__ = "corrective_action"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    due_date: Mapped[date]
    containment: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    # "Could it occur elsewhere?" (ISO 9001 10.2.1 b 3), answered before completion.
    occurs_elsewhere: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[str] = mapped_column(Text)
    # Effectiveness is verified no earlier than this day (default: the completion day).
    verify_after: Mapped[date | None]
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reopened_count: Mapped[int] = mapped_column(default=0, server_default="0")
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completion_note: Mapped[str | None] = mapped_column(Text)
    verified_effective: Mapped[bool | None]
    verification_note: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    finding: Mapped[Finding] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])


class AuditorQualification(db.Model):
    """An internal auditor's qualification (内审员资格): the standards they may audit, until when."""

    __tablename__ = "auditor_qualification"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    standards: Mapped[list] = mapped_column(JSON, default=list)
    qualified_until: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])


class AuditProgramme(db.Model):
    """The year's internal audit programme (年度内审方案): its scope and approval. The audits
    of the year (by planned start) are its content; the coverage matrix is computed."""

    __tablename__ = "audit_programme"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    objectives: Mapped[str] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text)
    standards: Mapped[list] = mapped_column(JSON, default=list)
    department_codes: Mapped[list] = mapped_column(JSON, default=list)
    clauses: Mapped[list] = mapped_column(JSON, default=list)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
