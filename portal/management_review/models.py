"""A management review, its members and its outputs."""
from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

REVIEW_STATES = ("planned", "held", "closed")
OUTPUT_STATES = ("open", "completed")

review_member = Table(
    "management_review_member", db.metadata,
    Column("review_id", ForeignKey("management_review.id"), primary_key=True),
    Column("user_id", ForeignKey("user.id"), primary_key=True),
)


class ManagementReview(db.Model):
    """管理评审: `inputs` stays empty while planned (they are computed on reading) and is
    frozen at `hold`, with its SHA-256, so the record shows what was reviewed."""

    __tablename__ = "management_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    period_from: Mapped[date]
    period_to: Mapped[date]
    meeting_date: Mapped[date]
    chair_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    state: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    inputs: Mapped[dict | None] = mapped_column(JSON)
    inputs_sha256: Mapped[str | None] = mapped_column(String(64))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    conclusion: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retain_until: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    chair: Mapped[User] = relationship(foreign_keys=[chair_id])
    held_by: Mapped[User | None] = relationship(foreign_keys=[held_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    members: Mapped[list[User]] = relationship(secondary=review_member, order_by=User.username)
    outputs: Mapped[list["ReviewOutput"]] = relationship(back_populates="review", order_by="ReviewOutput.id")


class ReviewOutput(db.Model):
    """A decision of a management review (评审输出), with its owner and due date."""

    __tablename__ = "review_output"
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("management_review.id"), index=True)
    decision: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    due_date: Mapped[date]
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    completion_note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    review: Mapped[ManagementReview] = relationship(back_populates="outputs")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
