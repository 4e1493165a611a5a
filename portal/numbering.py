"""The one numbering service: patterns and gap-free counters for every numbered thing."""
import re
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.errors import ValidationFailed
from portal.extensions import db

TOKEN = re.compile(r"\{([a-z]+)(?::(\d+))?\}")
KNOWN_TOKENS = {"code", "dept", "yyyy", "yy", "mm", "seq"}
DEFAULT_PATTERN = "{code}-{yyyy}{mm}-{seq:4}"
SEQ_MARK = "{seq}"  # stays literal in the stored prefix; PostgreSQL text cannot hold NUL


class NumberCounter(db.Model):
    """The last number issued for one scheme and rendered prefix (e.g. QR-SH009-202611-)."""

    __tablename__ = "number_counter"
    __table_args__ = (UniqueConstraint("scheme", "prefix", name="uq_number_counter_scheme_prefix"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(String(40))
    prefix: Mapped[str] = mapped_column(String(300))
    last_value: Mapped[int] = mapped_column(default=0)


def validate_pattern(pattern: str) -> str:
    """A pattern uses only known tokens and exactly one {seq:N} (N from 1 to 12)."""
    if not isinstance(pattern, str) or not pattern.strip() or len(pattern) > 200:
        raise ValidationFailed("Invalid numbering pattern.", fields={"numbering_pattern": "required"})
    tokens = TOKEN.findall(pattern)
    unknown = [name for name, _ in tokens if name not in KNOWN_TOKENS]
    seqs = [width for name, width in tokens if name == "seq"]
    leftover = TOKEN.sub("", pattern)
    if unknown or len(seqs) != 1 or not seqs[0] or not 1 <= int(seqs[0]) <= 12 or "{" in leftover or "}" in leftover:
        raise ValidationFailed(
            "Numbering pattern may use {code} {dept} {yyyy} {yy} {mm} and exactly one {seq:N}.",
            fields={"numbering_pattern": "unknown token or missing {seq:N}"})
    return pattern


def render_prefix(pattern: str, code: str, dept: str, when: datetime) -> tuple[str, int]:
    """The pattern with every token but {seq:N} filled in, and N."""
    local = clock.local(when)
    values = {"code": code, "dept": dept or "", "yyyy": f"{local.year:04d}",
              "yy": f"{local.year % 100:02d}", "mm": f"{local.month:02d}"}
    width = 0

    def fill(match):
        nonlocal width
        name, digits = match.group(1), match.group(2)
        if name == "seq":
            width = int(digits)
            return SEQ_MARK
        return values[name]

    return TOKEN.sub(fill, pattern), width


def allocate(scheme: str, prefix: str) -> int:
    """Take the next value for (scheme, prefix) under a row lock, inside the caller's transaction.

    The row is created on first use without racing (INSERT … ON CONFLICT DO NOTHING);
    SELECT … FOR UPDATE then serialises issuers on PostgreSQL, and on SQLite the
    writing transaction already began with BEGIN IMMEDIATE. A rolled-back issue
    rolls the counter back too, so no number is skipped.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(NumberCounter).values(scheme=scheme, prefix=prefix, last_value=0)
                       .on_conflict_do_nothing(index_elements=["scheme", "prefix"]))
    counter = db.session.execute(
        select(NumberCounter).where(NumberCounter.scheme == scheme, NumberCounter.prefix == prefix)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    counter.last_value += 1
    db.session.flush()
    return counter.last_value


def next_number(scheme: str, pattern: str, code: str, dept: str | None, when: datetime | None = None) -> str:
    """Render the next number of `pattern`; the sequence restarts when the rest changes
    and widens past N digits rather than wrap."""
    prefix, width = render_prefix(pattern, code, dept or "", when or clock.now())
    value = allocate(scheme, prefix)
    return prefix.replace(SEQ_MARK, f"{value:0{width}d}")
