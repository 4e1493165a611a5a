"""Retention: records past their keeping period are disposed of under control, leaving a stub."""
from sqlalchemy import select

from portal import clock, storage
from portal.accounts.permissions import MANAGE_DOCUMENTS, require_role
from portal.errors import InvalidState, NotAllowed
from portal.extensions import db
from portal.records.models import Attachment, Record
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

DISPOSAL_APPROVERS = ("admin", "approver")


DISPOSAL_VIEWERS = ("admin", "controller", "approver")


def disposal_candidates(user):
    """Closed or void records past retain_until, not yet disposed: the disposal list
    (for the people who propose and approve disposals, within what they may see)."""
    from portal.records.queries import record_query

    require_role(user, DISPOSAL_VIEWERS, "see the disposal list")
    return record_query(user).where(Record.status.in_(("closed", "voided")),
                                    Record.retain_until < clock.today()).order_by(None).order_by(
        Record.retain_until, Record.id)


def request_disposal(actor, rec: Record, payload: dict) -> Record:
    """A controller proposes disposing of a record past retention, naming the method."""
    require_role(actor, MANAGE_DOCUMENTS, "propose disposals")
    f = Fields(payload)
    method = f.text("method", 200, required=True)
    f.done("Name the disposal method (e.g. 碎纸销毁, 删除电子档).")
    if rec.status not in ("closed", "voided"):
        raise InvalidState("Only closed or void records can be disposed of.", code="record_not_closed")
    if rec.retain_until is None or rec.retain_until >= clock.today():
        raise InvalidState(f"Record {rec.number} must be kept until {rec.retain_until}.",
                           code="retention_not_expired")
    if rec.disposal_requested_at is not None:
        raise InvalidState("A disposal is already pending for this record.", code="disposal_pending")
    rec.disposal_method, rec.disposal_requested_by, rec.disposal_requested_at = method, actor, clock.now()
    trail.record(actor, "record.disposal_request", "record", rec.id, None, {"method": method})
    db.session.commit()
    return rec


def approve_disposal(actor, rec: Record, payload: dict) -> Record:
    """An approver (not the proposer) confirms with their password; the content goes, the stub stays."""
    from portal.accounts.services import verify_password

    if actor.role not in DISPOSAL_APPROVERS:
        raise NotAllowed("Only an approver may approve disposals.")
    if rec.disposal_requested_at is None or rec.status == "disposed":
        raise InvalidState("No disposal is pending for this record.", code="no_disposal_pending")
    if rec.disposal_requested_by_id == actor.id:
        raise NotAllowed("The proposer cannot approve their own disposal.", code="same_person")
    password = payload.get("password") if isinstance(payload, dict) else None
    if not isinstance(password, str) or not verify_password(actor, password):
        raise NotAllowed("Wrong password.", code="wrong_password")
    before = rec.status
    rec.status, rec.disposed_by, rec.disposed_at, rec.data = "disposed", actor, clock.now(), None
    for att in rec.attachments:
        _discard_file(att)
    trail.record(actor, "record.dispose", "record", rec.id, {"status": before},
                 {"status": "disposed", "method": rec.disposal_method})
    enqueue("record", rec.id)
    db.session.commit()
    return rec


def _discard_file(att: Attachment) -> None:
    """Delete the stored file unless another attachment still uses the same content."""
    shared = db.session.execute(select(Attachment.id).where(
        Attachment.sha256 == att.sha256, Attachment.id != att.id,
        Attachment.record.has(Record.status != "disposed"))).first()
    if not shared:
        path = storage.path_for(att.sha256)
        path.unlink(missing_ok=True)
