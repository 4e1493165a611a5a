"""Document-control rules: registering documents and taking revisions to release."""

from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock, storage
from portal.accounts import services as accounts
from portal.accounts.models import Department
from portal.accounts.permissions import AUTHOR, MANAGE_DOCUMENTS, is_controller, require_role
from portal.audit.access import lock_row
from portal.audit.clauses import validate_clause_refs
from portal.documents import form_schema
from portal.documents.labels import format_label, next_label
from portal.documents.models import (CONFIDENTIALITY, DOC_TYPES, OPEN_STATES, Document, Revision)
from portal.documents.queries import can_view_document, code_is
from portal.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.numbering import validate_pattern
from portal.search.outbox import enqueue
from portal.security.html import html_to_text, sanitize_html
from portal.trail import services as trail
from portal.validation import Fields

MAX_BODY = 5_000_000


def document_state(doc: Document) -> dict:
    """The fields of a document the trail records before and after a change."""
    return {"code": doc.code, "title": doc.title, "doc_type": doc.doc_type,
            "department": doc.department.code if doc.department else None,
            "clauses": list(doc.clauses or []), "confidentiality": doc.confidentiality,
            "review_period_months": doc.review_period_months, "status": doc.status,
            "numbering_pattern": doc.numbering_pattern, "retention_years": doc.retention_years,
            "parts": doc.parts, "distribution": doc.distribution,
            "external_source": doc.external_source, "external_edition": doc.external_edition,
            "received_on": doc.received_on, "applicability": doc.applicability}


def _document_fields(f: Fields, creating: bool, doc_type: str | None = None) -> dict:
    """The metadata in `f`; what creating requires, a change (PATCH) may not blank either."""
    values = {
        "title": f.text("title", 300, required=creating or "title" in f.data),
        "confidentiality": f.choice("confidentiality", CONFIDENTIALITY),
        "review_period_months": f.integer("review_period_months", 1, 120),
        "clauses": f.string_list("clauses", 100, 100),
        "numbering_pattern": f.text("numbering_pattern", 200),
        "retention_years": f.integer("retention_years", 0, 100),
        "parts": f.string_list("parts", 10, 50),
        "distribution": f.string_list("distribution", 200, 64),
        "external_source": f.text("external_source", 200),
        "external_edition": f.text("external_edition", 100),
        "received_on": f.day("received_on"),
        "applicability": f.text("applicability", 2000),
    }
    if creating:
        values["code"] = f.text("code", 100, required=True)
        values["doc_type"] = f.choice("doc_type", DOC_TYPES, required=True)
        values["department"] = f.text("department", 32, required=True)
    elif "department" in f.data:
        values["department"] = f.text("department", 32, required=True)
    if values.get("code") and any(ch in values["code"] for ch in "\r\n\t"):
        f.fail("code", "no line breaks or tabs")
    if doc_type == "form" and "numbering_pattern" in f.data and not values["numbering_pattern"]:
        f.fail("numbering_pattern", _("a form needs a numbering pattern"))  # records are numbered by it
    f.done("Invalid document.")
    return {k: v for k, v in values.items() if v is not None}


def _apply_document_values(doc: Document, values: dict) -> None:
    if "department" in values:
        doc.department = accounts.department_by_code(values.pop("department"))
    if "clauses" in values:
        doc.clauses = validate_clause_refs(values.pop("clauses"))
    if "distribution" in values:
        from portal.documents.distribution import resolve_holder

        for name in values["distribution"]:
            resolve_holder(name, doc)
        values["distribution"] = list(dict.fromkeys(values["distribution"]))
    if values.get("numbering_pattern"):
        validate_pattern(values["numbering_pattern"])
    for key, value in values.items():
        setattr(doc, key, value)


def create_document(actor, data: dict) -> Document:
    """Register a controlled document (controllers and admins); codes are unique."""
    require_role(actor, MANAGE_DOCUMENTS, "register documents")
    values = _document_fields(Fields(data), creating=True)
    existing = db.session.execute(select(Document.code).where(code_is(values["code"]))).scalar()
    if existing is not None:  # codes differ by more than case: QP-0804 and qp-0804 are one
        raise Conflict(_("Document code %(code)s already exists.", code=existing), code="duplicate_code")
    doc = Document(created_by=actor, clauses=[], status="draft")
    _apply_document_values(doc, values)
    if doc.doc_type == "form" and not doc.numbering_pattern:
        doc.numbering_pattern = "{code}-{yyyy}{mm}-{seq:4}"
    db.session.add(doc)
    db.session.flush()
    trail.record(actor, "document.create", "document", doc.id, None, document_state(doc))
    enqueue("document", doc.id)
    db.session.commit()
    return doc


def update_document(actor, doc: Document, data: dict) -> Document:
    """Change a document's metadata (not its code, type or content)."""
    require_role(actor, MANAGE_DOCUMENTS, "edit documents")
    if doc.status == "obsolete":
        raise Conflict("An obsolete document cannot be changed.", code="document_obsolete")
    unknown = set(data or {}) - {"title", "confidentiality", "review_period_months", "clauses",
                                 "numbering_pattern", "retention_years", "department", "parts",
                                 "distribution", "external_source", "external_edition",
                                 "received_on", "applicability"}
    if unknown:
        raise ValidationFailed("Unknown or unchangeable fields.",
                               fields={k: "cannot be changed here" for k in unknown})
    before = document_state(doc)
    _apply_document_values(doc, _document_fields(Fields(data), creating=False, doc_type=doc.doc_type))
    trail.record(actor, "document.update", "document", doc.id, before, document_state(doc))
    enqueue("document", doc.id)
    db.session.commit()
    return doc


def revision_state(rev: Revision) -> dict:
    return {"label": rev.label, "state": rev.state, "change_level": rev.change_level,
            "change_summary": rev.change_summary, "change_reason": rev.change_reason,
            "effective_date": rev.effective_date, "source_sha256": rev.source_sha256,
            "text_chars": len(rev.text or ""),
            # a procedure's steps and a form's fields are controlled content too: the trail
            # shows how they changed, not only that the revision did
            "steps": rev.steps, "fields": rev.fields}


def _content_values(actor, doc: Document, f: Fields, upload, creating: bool) -> dict:
    # what creating requires, a change may not blank either
    values = {"change_summary": f.text("change_summary", 2000,
                                       required=creating or "change_summary" in f.data),
              "change_reason": f.text("change_reason", 2000)}
    if creating or "change_level" in f.data:
        values["change_level"] = f.choice("change_level", ("minor", "major"), default="minor")
    body = f.text("body_html", MAX_BODY)
    f.done("Invalid revision.")
    if upload is not None:
        values.update(_body_from_docx(*upload))
    elif body is not None:
        values["body_html"] = sanitize_html(body)
        values["text"] = html_to_text(values["body_html"])
    if f.data.get("fields") is not None:
        values["fields"] = form_schema.validate_fields(f.data["fields"])
    if f.data.get("steps") is not None:
        values["steps"] = _checked_steps(actor, f.data["steps"])
    return {k: v for k, v in values.items() if v is not None}


def _checked_steps(actor, raw) -> list[dict]:
    """Procedure steps as validate_steps normalises them, each naming an effective form the
    author may see and a known department (CONTRACT "Procedure runs"): 422 otherwise."""
    steps = form_schema.validate_steps(raw)
    errors = {}
    for i, step in enumerate(steps):
        form = db.session.get(Document, step["form_id"]) if step["form_id"] else None
        if step["form_id"] and not (form is not None and form.doc_type == "form"
                                    and form.status == "effective" and can_view_document(actor, form)):
            errors[f"steps[{i}]"] = _("form_id: not an effective form")
        elif step["department"] and not db.session.execute(
                select(Department.id).where(Department.code == step["department"])).first():
            errors[f"steps[{i}]"] = _("department: unknown department %(code)s", code=step["department"])
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ValidationFailed(_("Invalid steps: %(detail)s", detail=detail), fields=errors)
    return steps


def _body_from_docx(data: bytes, filename: str) -> dict:
    """Check an uploaded .docx, keep the original by hash, and convert it to HTML."""
    from portal.documents.docx_import import docx_to_html
    from portal.security.attachments import domain_error
    from portal.security.uploads import UploadRejected, check_docx, clean_filename

    filename = clean_filename(filename)
    try:
        check_docx(data, filename, max_bytes=_max_upload())
    except UploadRejected as exc:
        raise domain_error(exc) from exc
    try:
        html = docx_to_html(data)
    except UploadRejected as exc:
        raise domain_error(exc) from exc
    except DomainError:
        raise  # a limit of the import (too many paragraphs), said as such
    except Exception as exc:  # python-docx raises many types on malformed XML parts
        raise ValidationFailed(_("The .docx could not be read: %(error)s.", error=type(exc).__name__),
                               code="corrupt_docx") from exc
    if len(html) > MAX_BODY:  # the limit of a body typed in the editor
        raise ValidationFailed(_("The document is too long: its text and markup take more than "
                                 "%(limit)d characters.", limit=MAX_BODY), code="docx_too_long")
    html = sanitize_html(html)
    return {"body_html": html, "text": html_to_text(html), "source_sha256": storage.store_bytes(data),
            "source_filename": filename}


def _max_upload() -> int:
    from flask import current_app

    return current_app.config["MAX_UPLOAD_BYTES"]


def _latest_label(doc: Document) -> tuple[str, int] | None:
    revs = [r for r in doc.revisions]
    if not revs:
        return None
    last = max(revs, key=lambda r: (r.edition, r.modification))
    return last.edition, last.modification


def start_revision(actor, doc: Document, data: dict, upload=None, *, author=None, commit=True) -> Revision:
    """Open a new draft revision; its author is the actor, or `author` when an accepted change
    request names who writes it (the acceptance commits the two together: commit=False)."""
    require_role(actor, AUTHOR, "write revisions")
    _check_may_start(doc)
    values = _content_values(actor, doc, Fields(data), upload, creating=True)
    # Converting and sanitising the body took time, outside the write transaction: the
    # write starts here, with the document re-read under its lock, and checked again.
    lock_row(doc)
    _check_may_start(doc)
    first = not doc.revisions
    if not first and not values.get("change_reason"):
        raise ValidationFailed(_("A change reason is required after the first revision."),
                               fields={"change_reason": "required after the first revision"})
    edition, modification = next_label(_latest_label(doc), values["change_level"])
    rev = Revision(document=doc, author=author or actor, edition=edition, modification=modification,
                   label=format_label(edition, modification), state="draft")
    _inherit_from_current(doc, rev, values)
    for key, value in values.items():
        setattr(rev, key, value)
    if first:
        rev.change_level = "major"
    db.session.add(rev)
    db.session.flush()
    trail.record(actor, "revision.create", "revision", rev.id, None, revision_state(rev))
    enqueue("revision", rev.id)
    if commit:
        db.session.commit()
    return rev


def _check_may_start(doc: Document) -> None:
    if doc.status == "obsolete":
        raise Conflict("The document is obsolete.", code="document_obsolete")
    if any(r.state in OPEN_STATES for r in doc.revisions):
        raise Conflict("This document already has an unreleased revision.", code="open_revision_exists")


def _inherit_from_current(doc: Document, rev: Revision, values: dict) -> None:
    """A new revision starts as a copy of the one in force; the draft then changes it."""
    base = doc.current_revision
    if base is None:
        return
    if "body_html" not in values:
        rev.body_html, rev.text = base.body_html, base.text
    if "fields" not in values:
        rev.fields = base.fields
    if "steps" not in values:
        rev.steps = base.steps
    rev.template_sha256 = base.template_sha256


def can_edit_revision(user, rev: Revision) -> bool:
    return user is not None and (user.id == rev.author_id or is_controller(user))


def check_draft_editable(actor, rev: Revision) -> None:
    """Refuse (409, 403) what update_revision would refuse, for a page that edits a draft."""
    if rev.state != "draft":
        raise Conflict(_("Only a draft revision can be edited."), code="not_draft")
    if not can_edit_revision(actor, rev):
        raise NotAllowed(_("Only the author or a document controller may edit this draft."))


def update_revision(actor, rev: Revision, data: dict, upload=None) -> Revision:
    """Edit a draft (its author or a controller); anything past draft is frozen."""
    check_draft_editable(actor, rev)
    values = _content_values(actor, rev.document, Fields(data), upload, creating=False)
    lock_row(rev)  # the write starts after the slow body conversion: check again under the lock
    check_draft_editable(actor, rev)
    before = revision_state(rev)
    if "change_level" in values and len(rev.document.revisions) > 1:
        earlier = [r for r in rev.document.revisions if r.id != rev.id]
        prev = max(((r.edition, r.modification) for r in earlier))
        rev.edition, rev.modification = next_label(prev, values["change_level"])
        rev.label = format_label(rev.edition, rev.modification)
    elif "change_level" in values:
        values.pop("change_level")
    for key, value in values.items():
        setattr(rev, key, value)
    if len(rev.document.revisions) > 1 and not rev.change_reason:
        raise ValidationFailed(_("A change reason is required after the first revision."),
                               fields={"change_reason": "required after the first revision"})
    rev.updated_at = clock.now()
    trail.record(actor, "revision.update", "revision", rev.id, before, revision_state(rev))
    enqueue("revision", rev.id)
    db.session.commit()
    return rev


def set_form_template(actor, rev: Revision, data: bytes, filename: str) -> Revision:
    """Give a draft form revision its paper layout: a .docx with {{field}} placeholders."""
    from portal.security.attachments import domain_error
    from portal.security.uploads import UploadRejected, check_docx, clean_filename

    check_draft_editable(actor, rev)
    if rev.document.doc_type != "form":
        raise ValidationFailed("Only forms have a Word layout.", code="not_a_form")
    try:
        check_docx(data, clean_filename(filename), max_bytes=_max_upload())
    except UploadRejected as exc:
        raise domain_error(exc) from exc
    digest = storage.store_bytes(data)
    lock_row(rev)  # the write starts after the checks of the file: check the draft again
    check_draft_editable(actor, rev)
    before = revision_state(rev)
    rev.template_sha256 = digest
    trail.record(actor, "revision.template", "revision", rev.id, before,
                 {**revision_state(rev), "template_sha256": rev.template_sha256})
    db.session.commit()
    return rev
