"""The clause catalogue (numbers and short titles only, never the standards' text)."""
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


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
