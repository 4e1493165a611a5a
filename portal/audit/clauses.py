"""Loading and looking up the clause catalogue."""
from sqlalchemy import select

from portal.audit.models import Clause
from portal.errors import ValidationFailed
from portal.extensions import db


def _sort_key(number: str) -> str:
    return ".".join(part.zfill(3) for part in number.split("."))


def load_catalogue() -> int:
    """Insert the shipped clauses that are missing; idempotent. Returns how many were added."""
    from portal.clauses_data import STANDARDS

    existing = {(c.standard, c.number) for c in db.session.execute(select(Clause)).scalars()}
    added = 0
    for standard, rows in STANDARDS.items():
        for number, title_zh, title_en in rows:
            if (standard, number) not in existing:
                db.session.add(Clause(standard=standard, number=number, title_zh=title_zh,
                                      title_en=title_en, sort_key=_sort_key(number)))
                added += 1
    db.session.commit()
    return added


def list_clauses(standard: str | None = None) -> list[Clause]:
    query = select(Clause).order_by(Clause.standard, Clause.sort_key)
    if standard:
        query = query.where(Clause.standard == standard)
    return list(db.session.execute(query).scalars())


def known_refs() -> set[str]:
    return {c.ref for c in db.session.execute(select(Clause)).scalars()}


def validate_clause_refs(refs: list[str], field: str = "clauses") -> list[str]:
    """Every ref must be 'STANDARD NUMBER' from the catalogue, e.g. 'ISO 9001:2015 7.5.3'."""
    known = known_refs()
    unknown = [r for r in refs if r not in known]
    if unknown:
        raise ValidationFailed(f"Unknown clause: {', '.join(unknown[:5])}", code="unknown_clause",
                               fields={field: "unknown clause " + ", ".join(unknown[:5])})
    return list(dict.fromkeys(refs))
