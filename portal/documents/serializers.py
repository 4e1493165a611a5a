"""JSON shapes of documents, revisions and signatures (CONTRACT.md)."""
from portal.documents.queries import visible_revisions


def iso(value):
    return value.isoformat() if value is not None else None


def signature_json(sig) -> dict:
    return {"id": sig.id, "meaning": sig.meaning, "signer": sig.signer.username,
            "printed_name": sig.printed_name or sig.signer.display_name, "round": sig.round,
            "decision": sig.decision, "comment": sig.comment, "signed_at": iso(sig.signed_at)}


def revision_summary(rev) -> dict:
    return {"id": rev.id, "label": rev.label, "state": rev.state,
            "effective_date": iso(rev.effective_date), "ended_on": iso(rev.ended_on),
            "change_summary": rev.change_summary, "author": rev.author.username}


def revision_json(rev) -> dict:
    return {**revision_summary(rev),
            "document_id": rev.document_id, "code": rev.document.code,
            "change_level": rev.change_level, "change_reason": rev.change_reason,
            "body_html": rev.body_html, "text": rev.text,
            "fields": rev.fields, "steps": rev.steps,
            "source_filename": rev.source_filename, "source_sha256": rev.source_sha256,
            "signatures": [signature_json(s) for s in rev.signatures],
            "submitted_at": iso(rev.submitted_at), "approved_at": iso(rev.approved_at),
            "released_at": iso(rev.released_at), "created_at": iso(rev.created_at),
            "updated_at": iso(rev.updated_at), "change_request_id": _change_request_id(rev)}


def _change_request_id(rev):
    """The change request the revision implements (seen with it: both follow the document)."""
    from portal.change_requests.queries import for_revision

    cr = for_revision(rev.id)
    return cr.id if cr is not None else None


def document_json(doc, user) -> dict:
    current = doc.current_revision
    return {"id": doc.id, "code": doc.code, "title": doc.title, "doc_type": doc.doc_type,
            "department": doc.department.code, "department_name": doc.department.name,
            "clauses": list(doc.clauses or []), "confidentiality": doc.confidentiality,
            "review_period_months": doc.review_period_months, "status": doc.status,
            "numbering_pattern": doc.numbering_pattern, "retention_years": doc.retention_years,
            "parts": doc.parts, "distribution": doc.distribution or [],
            "external_source": doc.external_source, "external_edition": doc.external_edition,
            "received_on": iso(doc.received_on), "applicability": doc.applicability,
            "current_revision": revision_summary(current) if current is not None else None,
            "revisions": [revision_summary(r) for r in visible_revisions(user, doc)],
            "next_review_due": iso(doc.next_review_due), "obsolete_reason": doc.obsolete_reason,
            "created_at": iso(doc.created_at)}


def copy_json(copy) -> dict:
    rev = copy.revision
    return {"id": copy.id, "copy_no": copy.copy_no, "holder": copy.holder_key,
            "holder_name": copy.holder_name, "holder_type": "user" if copy.holder_user_id else "department",
            "revision_id": rev.id, "revision_label": rev.label, "revision_state": rev.state,
            "document_id": rev.document_id, "code": rev.document.code, "title": rev.document.title,
            "status": copy.status, "recall_due": copy.recall_due,
            "issued_at": iso(copy.issued_at), "issued_by": copy.issued_by.username if copy.issued_by else None,
            "acknowledged_at": iso(copy.acknowledged_at),
            "acknowledged_by": copy.acknowledged_by.username if copy.acknowledged_by else None,
            "recalled_at": iso(copy.recalled_at), "recall_outcome": copy.recall_outcome,
            "recall_witness": copy.recall_witness, "voided_at": iso(copy.voided_at),
            "void_reason": copy.void_reason, "replaces_id": copy.replaces_id, "follows_id": copy.follows_id}


def review_json(r) -> dict:
    return {"id": r.id, "document_id": r.document_id, "revision": r.revision.label if r.revision else None,
            "outcome": r.outcome, "comment": r.comment, "reviewer": r.reviewer.username,
            "printed_name": r.printed_name, "signed_at": iso(r.signed_at),
            "due_was": iso(r.due_was), "next_due": iso(r.next_due)}
