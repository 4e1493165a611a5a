"""Notifications: never the only record of anything, always a pointer to it."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

KINDS = ("signature_requested", "copy_to_acknowledge", "recall_due", "review_due",
         "revision_rejected", "revision_approved", "revision_effective")


class Notification(db.Model):
    """One message in a user's inbox; e-mailed once when SMTP is configured."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str] = mapped_column(String(20), default="pending", index=True)

    user: Mapped[User] = relationship()
