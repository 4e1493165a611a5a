"""Read-side rules: who sees what, listings, point-in-time answers."""
from datetime import date

from sqlalchemy import and_, false, func, or_, select, true

from portal.accounts.models import Department
from portal.accounts.permissions import is_controller
from portal.documents.models import HISTORIC_STATES, Document, Revision, Signature
from portal.errors import NotFound
from portal.extensions import db
from portal.trail.models import TrailEntry


def _is_party(user, rev: Revision) -> bool:
    """The author and every assigned signer take part in a revision."""
    return user.id == rev.author_id or any(s.signer_id == user.id for s in rev.signatures)


def can_view_document(user, doc: Document) -> bool:
    if user is None:
        return False
    if user.is_read_only:
        return doc.status == "effective" and doc.confidentiality != "confidential"
    if doc.confidentiality != "confidential" or is_controller(user):
        return True
    return user.department_id == doc.department_id or any(_is_party(user, r) for r in doc.revisions)


def can_view_revision(user, rev: Revision) -> bool:
    """Drafts only for their parties and controllers; external reviewers only effective ones."""
    if not can_view_document(user, rev.document):
        return False
    if user.is_read_only:
        return rev.state == "effective"
    if rev.state in HISTORIC_STATES:
        return True
    return is_controller(user) or _is_party(user, rev)


def visible_to(user):
    """The SQL condition on Document of can_view_document (the two are tested equal)."""
    if user is None:
        return false()
    if user.is_read_only:
        return and_(Document.status == "effective", Document.confidentiality != "confidential")
    if is_controller(user):
        return true()
    return or_(Document.confidentiality != "confidential",
               Document.department_id == user.department_id,
               Document.id.in_(select(Revision.document_id).where(_party_condition(user))))


def _party_condition(user):
    """SQL of _is_party: the user wrote the revision or is one of its signers."""
    return or_(Revision.author_id == user.id,
               Revision.id.in_(select(Signature.revision_id).where(Signature.signer_id == user.id)))


def revisions_visible_to(user):
    """The SQL condition on Revision of can_view_revision (the two are tested equal)."""
    if user is None:
        return false()
    of_visible_document = Revision.document_id.in_(select(Document.id).where(visible_to(user)))
    if user.is_read_only:
        return and_(of_visible_document, Revision.state == "effective")
    if is_controller(user):
        return of_visible_document
    return and_(of_visible_document, or_(Revision.state.in_(HISTORIC_STATES), _party_condition(user)))


def copies_visible_to(user):
    """The SQL condition on ControlledCopy: a copy is seen with its document."""
    from portal.documents.models import ControlledCopy

    return ControlledCopy.revision_id.in_(
        select(Revision.id).where(Revision.document_id.in_(select(Document.id).where(visible_to(user)))))


def get_document(user, doc_id: int) -> Document:
    doc = db.session.get(Document, doc_id)
    if doc is None or not can_view_document(user, doc):
        raise NotFound("No such document.")
    return doc


def get_revision(user, rev_id: int) -> Revision:
    rev = db.session.get(Revision, rev_id)
    if rev is None or not can_view_revision(user, rev):
        raise NotFound("No such revision.")
    return rev


def visible_revisions(user, doc: Document) -> list[Revision]:
    return [r for r in doc.revisions if can_view_revision(user, r)]


def code_is(code: str):
    """The SQL condition "this document's code is `code`", ignoring case: QP-0804 and
    qp-0804 are one code. Both sides go through the database's lower(), so it agrees with
    itself on SQLite (ASCII only) and PostgreSQL alike. A unique index on lower(code) would
    make this an index lookup and close the race between two creators; it needs a migration."""
    return func.lower(Document.code) == func.lower(code)


def document_query(user, code=None, doc_type=None, department=None, status=None, q=None):
    """A select() of the documents the user may see, filtered, ordered by code."""
    query = select(Document).order_by(Document.code)
    if code:
        query = query.where(code_is(code))
    if doc_type:
        query = query.where(Document.doc_type == doc_type)
    if department:
        query = query.join(Department, Document.department_id == Department.id).where(
            Department.code == department)
    if status:
        query = query.where(Document.status == status)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Document.code.ilike(like), Document.title.ilike(like)))
    return _restrict(query, user)


def _restrict(query, user):
    return query.where(visible_to(user))


def revision_as_of(doc: Document, day: date) -> Revision | None:
    """The revision that was effective on `day`, from the revision history."""
    for rev in doc.revisions:
        if (rev.state in HISTORIC_STATES and rev.effective_date and rev.effective_date <= day
                and (rev.ended_on is None or rev.ended_on > day)):
            return rev
    return None


def master_list(user) -> list[Document]:
    """受控文件清单: every document currently in force that the user may see."""
    query = document_query(user, status="effective")
    return list(db.session.execute(query).scalars())


def my_tasks(user) -> dict:
    """Revisions waiting for the user's signature, and the user's open drafts."""
    waiting = db.session.execute(
        select(Signature).join(Revision).where(
            Signature.signer_id == user.id, Signature.decision.is_(None),
            Revision.state == "in_review", Signature.round == Revision.review_round)
        .order_by(Signature.id)
    ).scalars().all()
    waiting = [s for s in waiting if s.meaning == "review" or _reviews_done(s.revision)]
    drafts = db.session.execute(
        select(Revision).where(Revision.author_id == user.id,
                               Revision.state.in_(("draft", "in_review", "approved")))
        .order_by(Revision.updated_at.desc())
    ).scalars().all()
    return {"to_sign": waiting, "my_drafts": drafts}


def _reviews_done(rev: Revision) -> bool:
    return all(s.decision is not None for s in rev.signatures_in_round() if s.meaning == "review")


def to_release(user) -> list[Revision]:
    """Approved revisions waiting for a controller to release them."""
    if not is_controller(user):
        return []
    return list(db.session.execute(
        select(Revision).where(Revision.state == "approved").order_by(Revision.approved_at)
    ).scalars())


def document_history(user, doc: Document) -> list[TrailEntry]:
    """Trail entries of the document and its revisions, in order, as the trail API shows them
    to `user`: a draft hidden from them (an external reviewer, a stranger) shows no entry."""
    from portal.trail.visibility import restrict

    rev_ids = [r.id for r in doc.revisions]
    query = select(TrailEntry).where(or_(
        and_(TrailEntry.object_type == "document", TrailEntry.object_id == doc.id),
        and_(TrailEntry.object_type == "revision", TrailEntry.object_id.in_(rev_ids or [-1]))))
    query = restrict(query.order_by(TrailEntry.seq), user, kinds=("document", "revision"))
    return list(db.session.execute(query).scalars())


def restrict_copies(query, user):
    """Copies of documents the user may see (the same rule as the documents themselves)."""
    return query.where(copies_visible_to(user))


def copy_tasks(user, acknowledge_days: int) -> dict:
    """Copies I must acknowledge; for controllers, recalls outstanding and late acknowledgements."""
    from portal.documents.distribution import copy_query, late_filter
    from portal.documents.models import ControlledCopy

    mine = db.session.execute(copy_query(holder_user=user).where(ControlledCopy.status == "issued")).scalars().all()
    result = {"to_acknowledge": [c for c in mine if c.revision.state == "effective"],
              "recalls": [], "late": []}
    if is_controller(user):
        result["recalls"] = db.session.execute(copy_query(outstanding_recall=True)).scalars().all()
        result["late"] = db.session.execute(late_filter(copy_query(), acknowledge_days)).scalars().all()
    return result


def revisions_to_compare(user, rev_id: int, other_id: int | None) -> tuple[Revision, Revision]:
    """(revision, the one it is compared with): both visible and of the same document."""
    from portal.errors import BadRequest

    rev = get_revision(user, rev_id)
    if other_id is None:
        raise BadRequest("Choose a revision to compare with (?against=).", code="bad_parameter")
    other = get_revision(user, other_id)
    if other.document_id != rev.document_id:
        raise NotFound("That revision belongs to another document.")
    return rev, other
