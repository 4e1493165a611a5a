"""Read-side of records: visibility, registers (台账), the records list (记录清单)."""
from datetime import date

from sqlalchemy import Date, func, select

from portal.accounts.models import Department
from portal.documents.models import Document
from portal.documents.queries import can_view_document
from portal.documents.queries import visible_to as documents_visible_to
from portal.errors import NotFound
from portal.extensions import db
from portal.records.models import Record


def can_view_record(user, rec: Record) -> bool:
    """A record is seen by whoever may see its form (the page, the list, search and trail)."""
    return can_view_document(user, rec.form)


def visible_to(user):
    """The SQL condition on Record of can_view_record (the two are tested equal)."""
    return Record.form_id.in_(select(Document.id).where(documents_visible_to(user)))


def get_record(user, record_id: int) -> Record:
    rec = db.session.get(Record, record_id)
    if rec is None or not can_view_record(user, rec):
        raise NotFound("No such record.")
    return rec


def visible_record_id(user, number: str) -> int | None:
    """The id of the record numbered `number` when the user may see it: a run step links a
    record a person names by its number (the step then says if it is of the wrong form)."""
    query = record_query(user, number=number.strip()[:300]).with_only_columns(Record.id)
    return db.session.execute(query).scalar()


def get_form(user, form_id: int) -> Document:
    form = db.session.get(Document, form_id)
    if form is None or form.doc_type != "form" or not can_view_document(user, form):
        raise NotFound("No such form.")
    return form


def record_query(user, form_id=None, number=None, status=None, department=None,
                 date_from: date | None = None, date_to: date | None = None, q=None):
    """A select() of records the user may see, newest first."""
    query = select(Record).order_by(Record.id.desc())
    if form_id:
        query = query.where(Record.form_id == form_id)
    if number:
        query = query.where(Record.number == number)
    if status:
        query = query.where(Record.status == status)
    if department:
        query = query.join(Department, Record.department_id == Department.id).where(Department.code == department)
    # typed as a date on both sides: PostgreSQL has no date >= varchar (a 500 there before)
    issued_on = func.date(Record.created_at, type_=Date)
    if date_from:
        query = query.where(issued_on >= date_from)
    if date_to:
        query = query.where(issued_on <= date_to)
    if q:
        query = query.where(Record.number.ilike(f"%{q.replace('%', '')}%"))
    return query.where(visible_to(user))


def records_list(user) -> list[dict]:
    """记录清单: every form the user may see with owner, retention and record counts."""
    forms = db.session.execute(select(Document).where(Document.doc_type == "form")
                               .order_by(Document.code)).scalars().all()
    counts = dict(db.session.execute(select(Record.form_id, func.count()).group_by(Record.form_id)).all())
    return [{"form": f, "count": counts.get(f.id, 0)} for f in forms if can_view_document(user, f)]


def attachment_content(user, attachment_id: int):
    """(bytes, filename, content type) of an attachment whose record the user may see."""
    from portal import storage
    from portal.records.models import Attachment

    att = db.session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("No such attachment.")
    get_record(user, att.record_id)
    path = storage.path_for(att.sha256)
    if not path.exists():
        raise NotFound("The file has been disposed of.")
    return path.read_bytes(), att.filename, att.content_type
