"""Record rules: issuing numbered records, corrections (划改), closing, voiding, attachments."""
from datetime import date

from portal import clock, numbering, storage
from portal.accounts import services as accounts
from portal.accounts.permissions import is_controller, require_writer
from portal.audit.access import lock_row
from portal.documents.models import Document
from portal.documents.workflow import add_months
from portal.errors import InvalidState, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.records.fields import validate_data
from portal.records.models import Attachment, Record, RecordCorrection
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

NUMBER_SCHEME = "record"  # one counter space for all records: numbers are unique portal-wide
DEFAULT_RETENTION_YEARS = 3


def record_state(rec: Record) -> dict:
    return {"number": rec.number, "status": rec.status, "form": rec.form.code,
            "revision": rec.revision_label}


def issuing_revision(form: Document):
    """The form's effective revision; records are issued only from it."""
    if form.doc_type != "form":
        raise InvalidState("Records are issued only from form documents.", code="not_a_form")
    rev = form.current_revision
    if form.status != "effective" or rev is None or rev.state != "effective":
        raise InvalidState("This form has no effective revision.", code="form_not_effective")
    if not rev.fields:
        raise InvalidState("This form revision defines no fields.", code="form_without_fields")
    return rev


def retain_until(form: Document, issued: date) -> date:
    years = form.retention_years if form.retention_years is not None else DEFAULT_RETENTION_YEARS
    return add_months(issued, 12 * years)


def issue_record(actor, form: Document, payload: dict) -> Record:
    """Fill in a form: validate, take the next number and keep the revision it was issued on."""
    require_writer(actor)
    f = Fields(payload)
    dept_code = f.text("department", 32)
    f.done("Invalid record.")
    dept = accounts.department_by_code(dept_code) if dept_code else actor.department
    rec = add_record(actor, form, dept, payload.get("data", {}))
    db.session.commit()
    return rec


def add_record(actor, form: Document, dept, data, context: dict | None = None) -> Record:
    """Validate ``data`` against the form's issuing revision, number the record and add it
    with its trail entry, without committing: a caller such as a procedure step issues it
    inside its own transaction. ``context`` joins the trail entry (e.g. the run and step)."""
    rev = issuing_revision(form)
    data = validate_data(rev.fields, data)
    now = clock.now()
    number = _free_number(form, dept.code if dept else "", now)
    rec = Record(number=number, form=form, revision=rev, revision_label=rev.label, department=dept,
                 status="open", data=data, created_by=actor, created_at=now,
                 retain_until=retain_until(form, clock.today()))
    db.session.add(rec)
    db.session.flush()
    trail.record(actor, "record.issue", "record", rec.id, None,
                 {**record_state(rec), "data": data, **(context or {})})
    enqueue("record", rec.id)
    return rec


def _free_number(form: Document, dept_code: str, when) -> str:
    """The next number of the form's pattern that no record holds yet. Two patterns can
    render the same string (QR + 11 = QR1 + 1); the taken one is skipped, never reused."""
    from sqlalchemy import select

    pattern = form.numbering_pattern or numbering.DEFAULT_PATTERN
    while True:
        number = numbering.next_number(NUMBER_SCHEME, pattern, form.code, dept_code, when)
        if not db.session.execute(select(Record.id).where(Record.number == number)).first():
            return number


def _require_open(rec: Record) -> None:
    if rec.status != "open":
        raise InvalidState(f"Record {rec.number} is {rec.status}; it can no longer change.",
                           code="record_not_open")


def can_change_record(user, rec: Record) -> bool:
    return user.id == rec.created_by_id or is_controller(user)


def correct_record(actor, rec: Record, payload: dict) -> Record:
    """Change values of an open record; each change keeps the old value, who, when and why."""
    require_writer(actor)
    _require_open(rec)
    if not can_change_record(actor, rec):
        raise NotAllowed("Only the record's author or a document controller may correct it.")
    f = Fields(payload)
    reason = f.text("reason", 2000, required=True)
    if not isinstance(payload.get("data"), dict) or not payload["data"]:
        f.fail("data", "an object with the fields to change")
    f.done("Invalid correction.")
    changes = validate_data(rec.revision.fields, payload["data"], partial=True)
    cleared = {k for k, v in payload["data"].items() if v in (None, "", [])} - set(changes)
    before, data = dict(rec.data or {}), dict(rec.data or {})
    for name in list(changes) + sorted(cleared):
        old, new = data.get(name), changes.get(name)
        if old == new:
            continue
        db.session.add(RecordCorrection(record=rec, field=name, old_value=old, new_value=new,
                                        reason=reason, by=actor, at=clock.now()))
        if new is None:
            data.pop(name, None)
        else:
            data[name] = new
    if data == before:
        raise ValidationFailed("Nothing would change.", code="no_change", fields={"data": "no change"})
    rec.data = data
    trail.record(actor, "record.correct", "record", rec.id,
                 {k: before.get(k) for k in data.keys() | before.keys() if before.get(k) != data.get(k)},
                 {k: data.get(k) for k in data.keys() | before.keys() if before.get(k) != data.get(k)},
                 reason)
    enqueue("record", rec.id)
    db.session.commit()
    return rec


def close_record(actor, rec: Record) -> Record:
    """Close an open record (its author or a controller); closed records never change."""
    require_writer(actor)
    _require_open(rec)
    if not can_change_record(actor, rec):
        raise NotAllowed("Only the record's author or a document controller may close it.")
    rec.status, rec.closed_at, rec.closed_by = "closed", clock.now(), actor
    trail.record(actor, "record.close", "record", rec.id, {"status": "open"}, {"status": "closed"})
    enqueue("record", rec.id)
    db.session.commit()
    return rec


def void_record(actor, rec: Record, payload: dict) -> Record:
    """Void a spoiled record (controllers); its number stays taken."""
    require_writer(actor)
    if not is_controller(actor):
        raise NotAllowed("Only a document controller may void records.")
    f = Fields(payload)
    reason = f.text("reason", 2000, required=True)
    f.done("A reason is required.")
    if rec.status == "voided":
        raise InvalidState("This record is already void.", code="already_voided")
    if rec.status == "disposed":
        raise InvalidState("This record has been disposed of.", code="record_disposed")
    before = rec.status
    rec.status, rec.voided_at, rec.voided_by, rec.void_reason = "voided", clock.now(), actor, reason
    trail.record(actor, "record.void", "record", rec.id, {"status": before}, {"status": "voided"}, reason)
    enqueue("record", rec.id)
    db.session.commit()
    return rec


def attach_file(actor, rec: Record, data: bytes, filename: str, max_bytes: int) -> Attachment:
    """Attach evidence to an open record after the upload checks; stored by SHA-256."""
    from portal.security.attachments import check_attachment
    from portal.security.uploads import clean_filename

    require_writer(actor)
    _require_open(rec)
    if not can_change_record(actor, rec):
        raise NotAllowed("Only the record's author or a document controller may attach files.")
    filename = clean_filename(filename)  # checked as it will be shown: no bidi-disguised type
    content_type = check_attachment(data, filename, max_bytes)
    digest = storage.store_bytes(data)
    lock_row(rec)  # checking and storing the file took time: the write starts here, checked again
    _require_open(rec)
    att = Attachment(record=rec, sha256=digest, filename=filename, size=len(data),
                     content_type=content_type, uploaded_by=actor, uploaded_at=clock.now())
    db.session.add(att)
    db.session.flush()
    trail.record(actor, "record.attach", "record", rec.id, None,
                 {"attachment_id": att.id, "filename": att.filename, "sha256": digest, "size": len(data)})
    enqueue("record", rec.id)
    db.session.commit()
    return att
