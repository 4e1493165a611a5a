"""Freezing a search result as audit evidence (CONTRACT.md "Search")."""
import hashlib
import json

from sqlalchemy import select

from portal import clock
from portal.accounts.permissions import require_writer
from portal.errors import NotFound
from portal.extensions import db
from portal.search.analyzer import ANALYZER_VERSION, parse_query
from portal.search.models import Evidence
from portal.search.query import search
from portal.trail import services as trail
from portal.validation import Fields

FILTER_NAMES = ("kind", "department", "clause", "form", "state", "as_of", "date_from", "date_to", "sort")
MAX_EVIDENCE_HITS = 100


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
    finding_id = f.integer("finding_id", 1, 2**63 - 1)
    filters = payload.get("filters") or {}
    if not isinstance(filters, dict) or any(k not in FILTER_NAMES or not isinstance(v, str)
                                            for k, v in filters.items()):
        f.fail("filters", "an object of string filters: " + ", ".join(FILTER_NAMES))
    f.done("Invalid evidence.")
    result = search(actor, q=q, per_page=MAX_EVIDENCE_HITS, **filters)
    hits = [_frozen_hit(h) for h in result["hits"]]
    item = Evidence(q=q, filters=filters, parsed_query=str(parse_query(q).query),
                    index_generation=_generation(), analyzer_version=ANALYZER_VERSION,
                    total=result["total"], hits=hits, result_hash=result_hash(q, filters, hits),
                    note=note or "", finding_id=finding_id, created_by=actor, created_at=clock.now())
    db.session.add(item)
    db.session.flush()
    trail.record(actor, "evidence.freeze", "evidence", item.id, None,
                 {"q": q, "filters": filters, "result_hash": item.result_hash, "hits": len(hits)})
    db.session.commit()
    return item


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
    return False


def may_read(user, item: Evidence) -> bool:
    """Its creator and controllers read any item; auditors and external reviewers those
    whose every hit they may see themselves (evidence never widens what a reader sees)."""
    if item.created_by_id == user.id or user.role in ("admin", "controller"):
        return True
    return user.role in READERS and all(_hit_visible(user, h) for h in item.hits)


def get_evidence(user, evidence_id: int) -> Evidence:
    item = db.session.get(Evidence, evidence_id)
    if item is None or not may_read(user, item):
        raise NotFound("No such evidence.")
    return item


def evidence_list(user, limit: int = 500) -> list[Evidence]:
    """The evidence items the user may read, newest first."""
    query = select(Evidence).order_by(Evidence.id.desc()).limit(limit)
    if user.role not in READERS:
        query = query.where(Evidence.created_by_id == user.id)
    return [item for item in db.session.execute(query).scalars() if may_read(user, item)]


def evidence_json(item: Evidence) -> dict:
    return {"id": item.id, "q": item.q, "filters": item.filters, "parsed_query": item.parsed_query,
            "index_generation": item.index_generation, "analyzer_version": item.analyzer_version,
            "total": item.total, "hits": item.hits, "result_hash": item.result_hash, "note": item.note,
            "finding_id": item.finding_id, "created_by": item.created_by.username,
            "created_at": item.created_at.isoformat(),
            "intact": result_hash(item.q, item.filters, item.hits) == item.result_hash}
