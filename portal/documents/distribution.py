"""Controlled copies: issue (发放), acknowledge (签收), recall (回收), replace, and the
automatic hand-over to the new revision when the old one stops being current."""
from sqlalchemy import or_, select

from portal import clock, numbering
from portal.accounts.models import Department, User
from portal.accounts.permissions import MANAGE_DOCUMENTS, require_role, require_writer
from portal.documents.models import RECALL_OUTCOMES, ControlledCopy, Document, Revision
from portal.errors import InvalidState, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.notifications.services import controllers, notify
from portal.trail import services as trail
from portal.validation import Fields

LIVE = ("issued", "acknowledged")


def copy_state(copy: ControlledCopy) -> dict:
    return {"copy_no": copy.copy_no, "status": copy.status, "holder": copy.holder_key,
            "revision": copy.revision.label, "code": copy.revision.document.code}


def resolve_holder(name: str, doc: Document | None = None):
    """A holder is a username or, failing that, a department code. A person must be able
    to acknowledge the copy: active, not read-only, and allowed to see the document."""
    from portal.accounts.services import find_user
    from portal.documents.queries import can_view_document

    user = find_user(name)
    if user is not None and user.active:
        if user.is_read_only or (doc is not None and not can_view_document(user, doc)):
            raise ValidationFailed(f"{name} cannot hold a controlled copy of this document.",
                                   code="holder_not_eligible",
                                   fields={"holder": "read-only or not allowed to see the document"})
        return user
    dept = db.session.execute(select(Department).where(Department.code == name)).scalar_one_or_none()
    if dept is not None and dept.active:
        return dept
    raise ValidationFailed(f"Unknown holder {name!r}.", code="unknown_holder",
                           fields={"holder": "an active username or department code"})


def _holder_users(copy: ControlledCopy) -> list[User]:
    if copy.holder_user is not None:
        return [copy.holder_user]
    return list(db.session.execute(select(User).where(
        User.department_id == copy.holder_department_id, User.active.is_(True))).scalars())


def _new_copy(actor, rev: Revision, holder, **links) -> ControlledCopy:
    doc = rev.document
    seq = numbering.allocate("copy", f"{doc.code}#{rev.label}")
    copy = ControlledCopy(revision=rev, copy_no=f"{doc.code}-{rev.label.replace('/', '')}-{seq:02d}",
                          issued_at=clock.now(), issued_by=None if isinstance(actor, str) else actor,
                          status="issued", **links)
    if isinstance(holder, User):
        copy.holder_user = holder
    else:
        copy.holder_department = holder
    db.session.add(copy)
    db.session.flush()
    trail.record(actor, "copy.issue", "copy", copy.id, None, copy_state(copy))
    notify(_holder_users(copy), "copy_to_acknowledge",
           f"请签收受控文件 {doc.code} {doc.title} {rev.label}（发放号 {copy.copy_no}）",
           f"/copies/{copy.id}")
    return copy


def issue_copy(actor, rev: Revision, payload: dict) -> list[ControlledCopy]:
    """Issue copies of an effective revision to one holder or to the whole 发放范围."""
    require_role(actor, MANAGE_DOCUMENTS, "issue controlled copies")
    if rev.state != "effective":
        raise InvalidState("Copies are issued only from the effective revision.", code="not_effective")
    f = Fields(payload)
    holder = f.text("holder", 64)
    use_list = payload.get("distribution") is True
    if not holder and not use_list:
        f.fail("holder", "a username or department code (or distribution: true)")
    f.done("Invalid copy.")
    names = (rev.document.distribution or []) if use_list else [holder]
    if not names:
        raise ValidationFailed("This document has no distribution list.", code="empty_distribution",
                               fields={"distribution": "set the document's distribution list first"})
    copies = [_new_copy(actor, rev, resolve_holder(name, rev.document)) for name in names]
    db.session.commit()
    return copies


def may_act_as_holder(user, copy: ControlledCopy) -> bool:
    if copy.holder_user_id is not None:
        return copy.holder_user_id == user.id
    return user.department_id == copy.holder_department_id


def acknowledge_copy(actor, copy: ControlledCopy) -> ControlledCopy:
    """签收: the holder (or a member of the holding department) confirms receipt."""
    require_writer(actor)
    if not may_act_as_holder(actor, copy):
        raise NotAllowed("Only the holder may acknowledge this copy.", code="not_holder")
    if copy.status != "issued":
        raise InvalidState(f"This copy is {copy.status}.", code="cannot_acknowledge")
    copy.status, copy.acknowledged_at, copy.acknowledged_by = "acknowledged", clock.now(), actor
    trail.record(actor, "copy.acknowledge", "copy", copy.id, {"status": "issued"}, {"status": "acknowledged"})
    db.session.commit()
    return copy


def recall_copy(actor, copy: ControlledCopy, payload: dict) -> ControlledCopy:
    """回收: the controller records that a copy came back (returned) or was destroyed."""
    require_role(actor, MANAGE_DOCUMENTS, "recall copies")
    f = Fields(payload)
    outcome = f.choice("outcome", RECALL_OUTCOMES, default="returned")
    witness = f.text("witness", 200)
    f.done("Invalid recall.")
    if copy.status not in LIVE:
        raise InvalidState(f"This copy is already {copy.status}.", code="cannot_recall")
    before = copy.status
    copy.status, copy.recalled_at, copy.recalled_by = "recalled", clock.now(), actor
    copy.recall_outcome, copy.recall_witness = outcome, witness
    trail.record(actor, "copy.recall", "copy", copy.id, {"status": before},
                 {"status": "recalled", "outcome": outcome, "witness": witness})
    db.session.commit()
    return copy


def replace_copy(actor, copy: ControlledCopy, payload: dict) -> ControlledCopy:
    """A lost or damaged copy: its number is voided and the holder gets a new one."""
    require_role(actor, MANAGE_DOCUMENTS, "replace copies")
    f = Fields(payload)
    reason = f.text("reason", 2000, required=True)
    f.done("A reason is required.")
    if copy.status not in LIVE:
        raise InvalidState(f"A {copy.status} copy cannot be replaced.", code="cannot_replace")
    if copy.revision.state != "effective":
        raise InvalidState("Only copies of the effective revision are replaced.", code="not_effective")
    before = copy.status
    copy.status, copy.voided_at, copy.void_reason = "voided", clock.now(), reason
    trail.record(actor, "copy.void", "copy", copy.id, {"status": before}, {"status": "voided"}, reason)
    holder = copy.holder_user or copy.holder_department
    new = _new_copy(actor, copy.revision, holder, replaces_id=copy.id)
    db.session.commit()
    return new


def hand_over_copies(actor, old: Revision | None, new: Revision | None) -> None:
    """When `old` stops being current: its live copies fall due for recall, the
    controllers are told, and each holder gets a copy of `new` to acknowledge."""
    if old is None:
        return
    live = [c for c in copies_of(old) if c.status in LIVE]
    if not live:
        return
    doc = old.document
    notify(controllers(), "recall_due",
           f"{doc.code} {doc.title} {old.label} 已失效，需回收 {len(live)} 份受控副本", f"/documents/{doc.id}")
    if new is not None:
        for copy in live:
            holder = copy.holder_user or copy.holder_department
            if holder.active and not (copy.holder_user and copy.holder_user.is_read_only):
                _new_copy(actor, new, holder, follows_id=copy.id)  # people who left get none


def copies_of(rev: Revision) -> list[ControlledCopy]:
    return list(db.session.execute(select(ControlledCopy).where(ControlledCopy.revision_id == rev.id)
                                   .order_by(ControlledCopy.id)).scalars())


def copy_query(document_id: int | None = None, outstanding_recall: bool = False, holder_user=None):
    """A select() of copies: one document's, those awaiting recall, or those held by a user."""
    query = select(ControlledCopy).join(Revision, ControlledCopy.revision_id == Revision.id).order_by(ControlledCopy.id)
    if document_id:
        query = query.where(Revision.document_id == document_id)
    if outstanding_recall:
        query = query.where(ControlledCopy.status.in_(LIVE), Revision.state.in_(("superseded", "obsolete")))
    if holder_user is not None:
        mine = ControlledCopy.holder_user_id == holder_user.id
        if holder_user.department_id is not None:  # "== None" would match every personal copy
            mine = or_(mine, ControlledCopy.holder_department_id == holder_user.department_id)
        query = query.where(mine)
    return query


def copy_for_export(user, copy: ControlledCopy) -> ControlledCopy:
    """Only the holder (or a controller printing it for them) gets the copy stamped 受控."""
    from portal.accounts.permissions import is_controller

    if not (is_controller(user) or may_act_as_holder(user, copy)):
        raise NotAllowed("Only the holder or a document controller may print this controlled copy.",
                         code="not_holder")
    return copy


def late_filter(query, days: int):
    """Copies of the revision in force issued more than `days` ago and not yet acknowledged."""
    from datetime import timedelta

    cutoff = clock.now() - timedelta(days=days)
    return query.where(ControlledCopy.status == "issued", ControlledCopy.issued_at < cutoff,
                       Revision.state == "effective")
