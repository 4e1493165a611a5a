"""Controlled documents, their revisions and signatures."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

DOC_TYPES = ("manual", "procedure", "work_instruction", "form", "external", "policy")
CONFIDENTIALITY = ("public", "internal", "confidential")
DOCUMENT_STATUSES = ("draft", "effective", "obsolete")
REVISION_STATES = ("draft", "in_review", "approved", "released", "effective", "superseded",
                   "obsolete", "withdrawn")
# Not yet effective: at most one per document (partial unique index below).
OPEN_STATES = ("draft", "in_review", "approved", "released")
# Once effective, a revision belongs to the document's history for good.
HISTORIC_STATES = ("effective", "superseded", "obsolete")
SIGNATURE_MEANINGS = ("prepare", "review", "approve")


class Document(db.Model):
    """A controlled document identified by its code (which may contain '/')."""

    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    doc_type: Mapped[str] = mapped_column(String(32), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    clauses: Mapped[list] = mapped_column(JSON, default=list)
    confidentiality: Mapped[str] = mapped_column(String(20), default="internal")
    review_period_months: Mapped[int] = mapped_column(default=12)
    numbering_pattern: Mapped[str | None] = mapped_column(String(200))
    retention_years: Mapped[int | None]
    # Multi-part paper forms (一式三联: 存根 / 售后服务 / 客户).
    parts: Mapped[list | None] = mapped_column(JSON)
    # 发放范围: usernames and department codes that receive controlled copies.
    distribution: Mapped[list | None] = mapped_column(JSON)
    # External documents (外来文件): where they come from and where they apply.
    external_source: Mapped[str | None] = mapped_column(String(200))
    external_edition: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[date | None]
    applicability: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revision.id", use_alter=True, name="fk_document_current_revision"))
    next_review_due: Mapped[date | None]
    obsolete_reason: Mapped[str | None] = mapped_column(Text)
    obsoleted_on: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    department: Mapped[Department] = relationship()
    created_by: Mapped[User] = relationship()
    revisions: Mapped[list["Revision"]] = relationship(
        back_populates="document", foreign_keys="Revision.document_id", order_by="Revision.id")
    current_revision: Mapped["Revision | None"] = relationship(
        foreign_keys=[current_revision_id], post_update=True)


class Revision(db.Model):
    """One revision (A/0, A/1, B/0 …) of a document, taken through 编制 → 审核 → 批准."""

    __tablename__ = "revision"
    __table_args__ = (
        UniqueConstraint("document_id", "label", name="uq_revision_document_label"),
        Index("uq_revision_one_open", "document_id", unique=True,
              sqlite_where=text("state IN ('draft','in_review','approved','released')"),
              postgresql_where=text("state IN ('draft','in_review','approved','released')")),
        Index("uq_revision_one_effective", "document_id", unique=True,
              sqlite_where=text("state = 'effective'"),
              postgresql_where=text("state = 'effective'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    label: Mapped[str] = mapped_column(String(10))
    edition: Mapped[str] = mapped_column(String(2))
    modification: Mapped[int]
    change_level: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    body_html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    change_summary: Mapped[str] = mapped_column(Text, default="")
    change_reason: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[list | None] = mapped_column(JSON)
    steps: Mapped[list | None] = mapped_column(JSON)
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_filename: Mapped[str | None] = mapped_column(String(255))
    # A form's paper layout (template.docx with {{field}} placeholders), by SHA-256.
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    review_round: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    effective_date: Mapped[date | None]
    ended_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    document: Mapped[Document] = relationship(back_populates="revisions", foreign_keys=[document_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])
    signatures: Mapped[list["Signature"]] = relationship(
        back_populates="revision", order_by="Signature.id")

    def signatures_in_round(self, round_no: int | None = None) -> list["Signature"]:
        round_no = self.review_round if round_no is None else round_no
        return [s for s in self.signatures if s.round == round_no]


class Signature(db.Model):
    """A signing slot and, once signed, the electronic signature itself."""

    __tablename__ = "signature"
    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), index=True)
    round: Mapped[int]
    meaning: Mapped[str] = mapped_column(String(10))
    signer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decision: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    printed_name: Mapped[str | None] = mapped_column(String(200))

    revision: Mapped[Revision] = relationship(back_populates="signatures")
    signer: Mapped[User] = relationship()

COPY_STATUSES = ("issued", "acknowledged", "recalled", "voided")
RECALL_OUTCOMES = ("returned", "destroyed")
REVIEW_OUTCOMES = ("keep", "revise", "obsolete")


class ControlledCopy(db.Model):
    """A numbered controlled copy (发放号) of one revision, held by a user or a department."""

    __tablename__ = "controlled_copy"
    __table_args__ = (UniqueConstraint("copy_no", name="uq_controlled_copy_copy_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), index=True)
    copy_no: Mapped[str] = mapped_column(String(150))
    holder_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    holder_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="issued", index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recalled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recall_outcome: Mapped[str | None] = mapped_column(String(20))
    recall_witness: Mapped[str | None] = mapped_column(String(200))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("controlled_copy.id"))
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("controlled_copy.id"))

    revision: Mapped[Revision] = relationship()
    holder_user: Mapped[User | None] = relationship(foreign_keys=[holder_user_id])
    holder_department: Mapped[Department | None] = relationship(foreign_keys=[holder_department_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    recalled_by: Mapped[User | None] = relationship(foreign_keys=[recalled_by_id])

    @property
    def holder_name(self) -> str:
        if self.holder_user is not None:
            return f"{self.holder_user.display_name} ({self.holder_user.username})"
        return f"{self.holder_department.name} ({self.holder_department.code})"

    @property
    def holder_key(self) -> str:
        return self.holder_user.username if self.holder_user else self.holder_department.code

    @property
    def recall_due(self) -> bool:
        """Still out although its revision is no longer in force."""
        return self.status in ("issued", "acknowledged") and self.revision.state in ("superseded", "obsolete")


class PeriodicReview(db.Model):
    """The owner's periodic review of a document's suitability, signed with a password."""

    __tablename__ = "periodic_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revision.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    due_was: Mapped[date | None]
    next_due: Mapped[date | None]

    document: Mapped[Document] = relationship()
    revision: Mapped[Revision | None] = relationship()
    reviewer: Mapped[User] = relationship()
