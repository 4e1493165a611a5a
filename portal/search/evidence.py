"""Freezing a search result as audit evidence (CONTRACT.md "Search")."""
import hashlib
import json
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.accounts.permissions import RUN_AUDITS, require_role, require_writer
from portal.audit.models import AuditChecklistItem, CorrectiveAction, Finding
from portal.audit.access import lock_row
from portal.audit.queries import can_view_audit
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.extensions import db
from portal.search.analyzer import ANALYZER_VERSION, parse_query
from portal.search.models import Evidence
from portal.search.query import search
from portal.trail import services as trail
from portal.validation import MAX_ID, Fields, parse_id

FILTER_NAMES = ("kind", "department", "clause", "form", "state", "as_of", "date_from", "date_to", "sort")
MAX_EVIDENCE_HITS = 100
MAX_TARGET_AUDITS = 20  # the newest open audits offered as "attach to" choices


def _frozen_hit(hit: dict) -> dict:
    # For documents the hit id is the revision; the evidence names the document and revision.
    item = {"kind": hit["kind"], "id": hit["doc_id"] if hit["kind"] == "document" else hit["id"],
            "ref": hit["ref"],
            "title": hit["title"], "state": hit.get("state")}
    if hit["kind"] == "document":
        item["revision_id"], item["revision"] = hit["id"], hit.get("revision")
    return item


def result_hash(q: str, filters: dict, hits: list[dict]) -> str:
    """SHA-256 over the query, filters and ordered hits: proof the result was not altered."""
    payload = json.dumps({"q": q, "filters": filters, "hits": hits}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _generation() -> int | None:
    from portal.search.index import get_searcher

    generation = get_searcher().ixreader.generation()
    return generation if isinstance(generation, int) and generation >= 0 else None


def freeze_search(actor, payload: dict) -> Evidence:
    """Run the search as the actor and keep its ordered hits, parsed query and index state."""
    require_writer(actor)
    f = Fields(payload)
    q = f.text("q", 1000, required=True)
    note = f.text("note", 5000, default="")
    finding_id, item_id = _target_ids(f)
    filters = payload.get("filters") or {}
    if not isinstance(filters, dict) or any(k not in FILTER_NAMES or not isinstance(v, str)
                                            for k, v in filters.items()):
        f.fail("filters", "an object of string filters: " + ", ".join(FILTER_NAMES))
    f.done("Invalid evidence.")
    target = _target(actor, finding_id, item_id)
    result = search(actor, q=q, per_page=MAX_EVIDENCE_HITS, **filters)
    hits = [_frozen_hit(h) for h in result["hits"]]
    item = Evidence(q=q, filters=filters, parsed_query=str(parse_query(q).query),
                    index_generation=_generation(), analyzer_version=ANALYZER_VERSION,
                    total=result["total"], hits=hits, result_hash=result_hash(q, filters, hits),
                    note=note or "", created_by=actor, created_at=clock.now())
    db.session.add(item)
    db.session.flush()
    trail.record(actor, "evidence.freeze", "evidence", item.id, None,
                 {"q": q, "filters": filters, "result_hash": item.result_hash, "hits": len(hits)})
    if target is not None:
        _link(actor, item, target)
    db.session.commit()
    return item


def attach(actor, item: Evidence, payload: dict) -> Evidence:
    """Attach an evidence item from the basket to one finding or checklist item, once:
    what it supports is part of the audit record, so it is not moved afterwards."""
    require_writer(actor)
    f = Fields(payload)
    finding_id, item_id = _target_ids(f)
    if not (finding_id or item_id):
        f.fail("finding_id", "a finding_id or a checklist_item_id is required")
    f.done("Invalid attachment.")
    target = _target(actor, finding_id, item_id)
    lock_row(item)  # two attaches at once: the second sees the first
    if item.finding_id or item.checklist_item_id:
        raise Conflict("This evidence is already attached.", code="already_attached")
    _link(actor, item, target)
    db.session.commit()
    return item


def attach_targets(actor) -> list[tuple[str, str]]:
    """(form value, label) of every finding and checklist item the actor may attach
    evidence to: those of audits not closed, for auditors, controllers and admins."""
    from portal.audit.models import Audit

    if actor.role not in RUN_AUDITS or actor.is_read_only:
        return []
    audits = db.session.execute(
        select(Audit).where(Audit.state != "closed").order_by(Audit.planned_start.desc(), Audit.id.desc())
        .limit(MAX_TARGET_AUDITS).options(selectinload(Audit.findings), selectinload(Audit.checklist))).scalars()
    out = []
    for audit in audits:
        out += [(f"finding:{x.id}", f"{x.number} {x.statement[:40]}") for x in audit.findings]
        out += [(f"checklist:{c.id}", f"{audit.number} {c.clause} {c.question[:40]}") for c in audit.checklist]
    return out


def supported(item: Evidence) -> dict | None:
    """What the evidence is attached to, for display: {kind, label, audit_id, anchor}."""
    if item.finding_id:
        x = db.session.get(Finding, item.finding_id)
        return {"kind": "finding", "label": f"{x.number} {x.statement[:60]}", "audit_id": x.audit_id,
                "anchor": f"finding-{x.id}"}
    if item.checklist_item_id:
        c = db.session.get(AuditChecklistItem, item.checklist_item_id)
        return {"kind": "checklist", "label": f"{c.audit.number} {c.clause} {c.question[:60]}",
                "audit_id": c.audit_id, "anchor": f"item-{c.id}"}
    return None


def target_payload(value: str | None) -> dict:
    """A form's "finding:ID" / "checklist:ID" choice as the JSON API's fields."""
    kind, _, number = (value or "").partition(":")
    name = {"finding": "finding_id", "checklist": "checklist_item_id"}.get(kind)
    value = parse_id(number)
    return {name: value} if name and value else {}


def _target_ids(f: Fields) -> tuple[int | None, int | None]:
    finding_id = f.integer("finding_id", 1, MAX_ID)
    item_id = f.integer("checklist_item_id", 1, MAX_ID)
    if finding_id and item_id:
        f.fail("checklist_item_id", "attach to a finding or a checklist item, not both")
    return finding_id, item_id


def _target(actor, finding_id: int | None, item_id: int | None):
    """The finding or checklist item evidence is to support, checked: it exists, the
    actor runs audits, and its audit is not closed."""
    if not (finding_id or item_id):
        return None
    require_role(actor, RUN_AUDITS, "attach evidence to audits")
    name, model, key = (("finding_id", Finding, finding_id) if finding_id
                        else ("checklist_item_id", AuditChecklistItem, item_id))
    target = db.session.get(model, key)
    if target is None:
        raise ValidationFailed("Invalid evidence.", fields={name: "no such " + name[:-3].replace("_", " ")})
    if target.audit.state == "closed":
        raise Conflict("The audit is closed; its evidence is final.", code="audit_closed")
    return target


def _link(actor, item: Evidence, target) -> None:
    """Set the link and write it to the trail of the finding (or of the checklist's audit)."""
    after = {"evidence_id": item.id, "result_hash": item.result_hash, "q": item.q}
    if isinstance(target, Finding):
        item.finding_id = target.id
        trail.record(actor, "finding.evidence", "finding", target.id, None, after)
    else:
        item.checklist_item_id = target.id
        trail.record(actor, "audit.checklist_evidence", "audit", target.audit_id, None,
                     {**after, "checklist_item_id": target.id})


READERS = ("admin", "controller", "auditor", "external_reviewer")


def _hit_visible(user, hit: dict) -> bool:
    from portal.documents.models import Revision
    from portal.documents.queries import can_view_revision
    from portal.records.models import Record
    from portal.records.queries import can_view_record

    if hit["kind"] == "document":
        rev = db.session.get(Revision, hit.get("revision_id") or 0)
        return rev is not None and can_view_revision(user, rev)
    if hit["kind"] == "record":
        rec = db.session.get(Record, hit["id"])
        return rec is not None and can_view_record(user, rec)
    if hit["kind"] == "finding":
        finding = db.session.get(Finding, hit["id"])
        return finding is not None and can_view_audit(user, finding.audit)
    if hit["kind"] == "action":  # seen with the finding it answers
        action = db.session.get(CorrectiveAction, hit["id"])
        return action is not None and can_view_audit(user, action.finding.audit)
    if hit["kind"] == "change_request":
        from portal.change_requests.models import ChangeRequest
        from portal.change_requests.queries import can_view

        cr = db.session.get(ChangeRequest, hit["id"])
        return cr is not None and can_view(user, cr)
    return False


def _attached_audit(item: Evidence):
    """The audit whose finding or checklist item the evidence supports, if any."""
    if item.finding_id:
        return db.session.get(Finding, item.finding_id).audit
    if item.checklist_item_id:
        return db.session.get(AuditChecklistItem, item.checklist_item_id).audit
    return None


def may_read(user, item: Evidence) -> bool:
    """Its creator and controllers read any item; auditors and external reviewers those
    whose every hit they may see themselves (evidence never widens what a reader sees)."""
    if item.created_by_id == user.id or user.role in ("admin", "controller"):
        return True
    audit = _attached_audit(item)
    if audit is not None and not can_view_audit(user, audit):  # its note speaks of the audit
        return False
    return user.role in READERS and all(_hit_visible(user, h) for h in item.hits)


def get_evidence(user, evidence_id: int) -> Evidence:
    item = db.session.get(Evidence, evidence_id)
    if item is None or not may_read(user, item):
        raise NotFound("No such evidence.")
    return item


def evidence_list(user, limit: int | None = None, finding_id: int | None = None,
                  audit_id: int | None = None) -> list[Evidence]:
    """The evidence items the user may read, newest first (at most `limit`); optionally only
    those of one finding, or of one audit's findings and checklist items. The limit counts
    readable items, so a reader's list is never cut short by items hidden from them."""
    query = select(Evidence).order_by(Evidence.id.desc())
    if finding_id:
        query = query.where(Evidence.finding_id == finding_id)
    if audit_id:
        query = query.where(Evidence.finding_id.in_(select(Finding.id).where(Finding.audit_id == audit_id))
                            | Evidence.checklist_item_id.in_(select(AuditChecklistItem.id)
                                                             .where(AuditChecklistItem.audit_id == audit_id)))
    if user.role not in READERS:
        query = query.where(Evidence.created_by_id == user.id)
    readable = (item for item in db.session.execute(query).scalars() if may_read(user, item))
    return list(islice(readable, limit))


def evidence_json(item: Evidence) -> dict:
    return {"id": item.id, "q": item.q, "filters": item.filters, "parsed_query": item.parsed_query,
            "index_generation": item.index_generation, "analyzer_version": item.analyzer_version,
            "total": item.total, "hits": item.hits, "result_hash": item.result_hash, "note": item.note,
            "finding_id": item.finding_id, "checklist_item_id": item.checklist_item_id,
            "created_by": item.created_by.username,
            "created_at": item.created_at.isoformat(),
            "intact": result_hash(item.q, item.filters, item.hits) == item.result_hash}
