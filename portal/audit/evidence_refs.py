"""Evidence named the way people name it: a document code (QP0501), a revision (QP0501 A/1), a
record number (QR-SH01-2026-001) or a frozen search from the basket (#12), resolved on the
server with the visibility rules. What the auditor may not see reads as unknown, never as
"exists but hidden"."""
import re

from sqlalchemy import select

from portal.audit.models import EVIDENCE_KINDS
from portal.extensions import db
from portal.validation import parse_id

# A revision label: edition letter and modification number (A/0, B/12).
LABEL = re.compile(r"[A-Za-z]{1,2}/[0-9]{1,3}")
FROZEN = re.compile(r"#([0-9]{1,10})")
SEPARATORS = re.compile(r"[,，、;；\n\r]+")
MAX_REF = 200


def split_refs(text: str) -> list[str]:
    """The references typed in the browser's evidence box: separated by commas, 、, semicolons,
    new lines or spaces; a revision label (A/1) stays with the code before it."""
    refs = []
    for chunk in SEPARATORS.split(text or ""):
        for token in chunk.split():
            if refs and LABEL.fullmatch(token) and not LABEL.fullmatch(refs[-1].split()[-1]) \
                    and " " not in refs[-1] and not refs[-1].startswith("#"):
                refs[-1] = f"{refs[-1]} {token}"
            else:
                refs.append(token)
    return list(dict.fromkeys(refs))


def resolve(user, ref: str):
    """("evidence", {kind, id}) or ("frozen", Evidence) for one reference, or None when it names
    nothing the user may see. `kind:id` (document:12) is still understood from older scripts."""
    from portal.audit.queries import evidence_ref

    ref = ref.strip()[:MAX_REF]
    frozen = FROZEN.fullmatch(ref)
    if frozen:
        item = _frozen(user, parse_id(frozen.group(1)))
        return ("frozen", item) if item is not None else None
    kind, _sep, raw_id = ref.partition(":")
    if kind in EVIDENCE_KINDS and raw_id.isdecimal():
        object_id = parse_id(raw_id) or 0
        return ("evidence", {"kind": kind, "id": object_id}) if evidence_ref(user, kind, object_id) else None
    found = _revision(user, ref) or _record(user, ref) or _document(user, ref)
    return ("evidence", found) if found else None


def _frozen(user, evidence_id):
    from portal.errors import NotFound
    from portal.search.evidence import get_evidence

    if not evidence_id:
        return None
    try:
        return get_evidence(user, evidence_id)
    except NotFound:
        return None


def _document_id(user, code: str):
    from portal.audit.queries import evidence_ref
    from portal.documents.models import Document
    from portal.documents.queries import code_is

    doc_id = db.session.execute(select(Document.id).where(code_is(code))).scalar()
    return doc_id if doc_id and evidence_ref(user, "document", doc_id) else None


def _document(user, ref: str):
    doc_id = _document_id(user, ref)
    return {"kind": "document", "id": doc_id} if doc_id else None


def _revision(user, ref: str):
    from portal.audit.queries import evidence_ref
    from portal.documents.models import Revision

    code, _sep, label = ref.rpartition(" ")
    if not code or not LABEL.fullmatch(label):
        return None
    doc_id = _document_id(user, code.strip())
    if doc_id is None:
        return None
    rev_id = db.session.execute(select(Revision.id).where(Revision.document_id == doc_id,
                                                          Revision.label == label.upper())).scalar()
    return {"kind": "revision", "id": rev_id} if rev_id and evidence_ref(user, "revision", rev_id) else None


def _record(user, ref: str):
    from portal.records.queries import visible_record_id

    record_id = visible_record_id(user, ref)
    return {"kind": "record", "id": record_id} if record_id else None


def unknown_message(ref: str) -> str:
    """The evidence field's message (field messages are English, like every other)."""
    return f"unknown reference {ref[:MAX_REF]}"
