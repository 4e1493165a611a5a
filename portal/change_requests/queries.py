"""Read side of change requests: who sees which, the filtered list, the request behind a revision.

The rule: a change request is seen by whoever may see its document (documents.queries), the
certification-body reviewer included; nothing here re-derives that rule.
"""
from sqlalchemy import select

from portal.change_requests.models import CHANGE_REQUEST_STATES, ChangeRequest
from portal.documents.models import Document
from portal.documents.queries import can_view_document
from portal.documents.queries import visible_to as documents_visible_to
from portal.errors import BadRequest, NotFound
from portal.extensions import db


def can_view(user, cr: ChangeRequest) -> bool:
    return user is not None and can_view_document(user, cr.document)


def visible_to(user):
    """The SQL condition on ChangeRequest of can_view (the two are tested equal)."""
    return ChangeRequest.document_id.in_(select(Document.id).where(documents_visible_to(user)))


def get_change_request(user, cr_id: int) -> ChangeRequest:
    cr = db.session.get(ChangeRequest, cr_id)
    if cr is None or not can_view(user, cr):
        raise NotFound("No such change request.")
    return cr


def request_query(user, document_id: int | None = None, state: str | None = None):
    """A select() of the change requests `user` may see, newest first."""
    if state and state not in CHANGE_REQUEST_STATES:
        raise BadRequest(f"state must be one of {', '.join(CHANGE_REQUEST_STATES)}.", code="bad_parameter")
    query = select(ChangeRequest).order_by(ChangeRequest.created_at.desc(), ChangeRequest.id.desc())
    if document_id:
        query = query.where(ChangeRequest.document_id == document_id)
    if state:
        query = query.where(ChangeRequest.state == state)
    return query.where(visible_to(user))


def requests_of(doc: Document) -> list[ChangeRequest]:
    """A document's requests, newest first (whoever sees the document sees them all)."""
    return list(db.session.execute(select(ChangeRequest).where(ChangeRequest.document_id == doc.id)
                                   .order_by(ChangeRequest.created_at.desc(), ChangeRequest.id.desc())).scalars())


def documents_with_requests(user) -> list[Document]:
    """The documents the list page filters by: those with a request `user` may see."""
    ids = select(ChangeRequest.document_id).where(visible_to(user))
    return list(db.session.execute(select(Document).where(Document.id.in_(ids)).order_by(Document.code)).scalars())


def for_revision(rev_id: int) -> ChangeRequest | None:
    """The request a revision implements (seen with the revision: both follow its document)."""
    return db.session.execute(select(ChangeRequest).where(ChangeRequest.revision_id == rev_id)).scalar_one_or_none()


def numbers_by_revision(rev_ids) -> dict[int, str]:
    """revision id → the number of the request it implements, for a revision history."""
    rev_ids = list(rev_ids)
    if not rev_ids:
        return {}
    rows = db.session.execute(select(ChangeRequest.revision_id, ChangeRequest.number)
                              .where(ChangeRequest.revision_id.in_(rev_ids))).all()
    return {rev_id: number for rev_id, number in rows}
