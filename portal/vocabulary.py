"""Stored code words shown through ``_(value)`` in templates and exports.

Templates translate these dynamically (``{{ _(doc.doc_type) }}``), which the extractor
cannot see; the lazy markers below put every value into the message catalogue.
"""
from flask_babel import lazy_gettext as _l

WORDS = {
    # revision states (documents.models.REVISION_STATES) and document statuses
    "draft": _l("draft"),
    "in_review": _l("in_review"),
    "approved": _l("approved"),
    "released": _l("released"),
    "effective": _l("effective"),
    "superseded": _l("superseded"),
    "obsolete": _l("obsolete"),
    "withdrawn": _l("withdrawn"),
    # roles (accounts.models.ROLES)
    "admin": _l("admin"),
    "controller": _l("controller"),
    "staff": _l("staff"),
    "approver": _l("approver"),
    "auditor": _l("auditor"),
    "external_reviewer": _l("external_reviewer"),
    # document types (documents.models.DOC_TYPES)
    "manual": _l("manual"),
    "procedure": _l("procedure"),
    "work_instruction": _l("work_instruction"),
    "form": _l("form"),
    "external": _l("external"),
    "policy": _l("policy"),
    # confidentiality (documents.models.CONFIDENTIALITY)
    "public": _l("public"),
    "internal": _l("internal"),
    "confidential": _l("confidential"),
    # signature decisions
    "accept": _l("accept"),
    "reject": _l("reject"),
    # record statuses (records.models.RECORD_STATUSES)
    "open": _l("open"),
    "closed": _l("closed"),
    "voided": _l("voided"),
    "disposed": _l("disposed"),
    # controlled-copy statuses (documents.models.COPY_STATUSES; "voided" above)
    "issued": _l("issued"),
    "acknowledged": _l("acknowledged"),
    "recalled": _l("recalled"),
    # recall outcomes (RECALL_OUTCOMES) and periodic-review outcomes (REVIEW_OUTCOMES)
    "returned": _l("returned"),
    "destroyed": _l("destroyed"),
    "keep": _l("keep"),
    "revise": _l("revise"),
    # notification kinds (notifications.models.KINDS)
    "signature_requested": _l("signature_requested"),
    "copy_to_acknowledge": _l("copy_to_acknowledge"),
    "recall_due": _l("recall_due"),
    "review_due": _l("review_due"),
    "revision_rejected": _l("revision_rejected"),
    "revision_approved": _l("revision_approved"),
    "revision_effective": _l("revision_effective"),
    # search: kinds of object (search.schema.KINDS) and facet names (search.query.FACETS)
    "document": _l("document"),
    "record": _l("record"),
    "finding": _l("finding"),
    "action": _l("action"),
    "run": _l("run"),
    "management_review": _l("management_review"),
    "change_request": _l("change_request"),
    "kind": _l("kind"),
    "department": _l("department"),
    "state": _l("state"),
    # audit states, finding classes, checklist results, corrective-action states and
    # programme coverage (audit.models, audit.queries); "open" and "closed" are above
    "planned": _l("planned"),
    "in_progress": _l("in_progress"),
    "reported": _l("reported"),
    "major": _l("major"),
    "minor": _l("minor"),
    "observation": _l("observation"),
    "ofi": _l("ofi"),
    "conforming": _l("conforming"),
    "nonconforming": _l("nonconforming"),
    "not_applicable": _l("not_applicable"),
    "completed": _l("completed"),
    # management review states (management_review.models.REVIEW_STATES; the others are above)
    # and notification kinds
    "held": _l("held"),
    # change request states (change_requests.models.CHANGE_REQUEST_STATES; "open" is above)
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "implemented": _l("implemented"),
    "review_output": _l("review_output"),
    "audited": _l("audited"),
    "not_covered": _l("not_covered"),
    # per-field problems from records.fields, shown as {{ _(errors[field.name]) }}
    "required": _l("required"),
    "must be text": _l("must be text"),
    "contains control characters": _l("contains control characters"),
    "must be a number": _l("must be a number"),
    "too large": _l("too large"),
    "must be a date YYYY-MM-DD": _l("must be a date YYYY-MM-DD"),
    "not one of the choices": _l("not one of the choices"),
    "must be true or false": _l("must be true or false"),
    "unknown field": _l("unknown field"),
}
