"""Quality objectives as data: what is measured, against which target, how often."""
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

COMPARISONS = (">=", "<=")
UNITS = ("%", "score", "count")
FREQUENCIES = ("month", "quarter", "year")
MEASURE_KINDS = ("on_time", "field_ratio", "field_mean", "count")


class Objective(db.Model):
    """E.g. 服务及时率 ≥ 98 %, monthly, from the on-time share of 售后服务管理程序 runs."""

    __tablename__ = "objective"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    target: Mapped[float] = mapped_column(Float)
    comparison: Mapped[str] = mapped_column(String(2))
    unit: Mapped[str] = mapped_column(String(10))
    frequency: Mapped[str] = mapped_column(String(10))
    measure: Mapped[dict] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)

    department: Mapped[Department | None] = relationship()
    created_by: Mapped[User] = relationship()
