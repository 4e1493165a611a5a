"""JSON API for search and evidence (CONTRACT.md "Search")."""
from flask import g, jsonify, request

from portal.accounts.permissions import require_role
from portal.api_support import api_blueprint, created, id_arg, int_arg, json_body
from portal.search import evidence
from portal.search.indexer import health
from portal.search.query import search

bp = api_blueprint("search_api")


def hit_url(hit: dict) -> str:
    """Where a hit lives in the browser UI."""
    if hit["kind"] == "document":
        return f"/revisions/{hit['id']}"
    if hit["kind"] == "change_request":
        return f"/change-requests/{hit['id']}"
    if hit["kind"] == "management_review":
        return f"/management-reviews/{hit['id']}"
    return f"/{hit['kind']}s/{hit['id']}"


def search_args() -> dict:
    """The query string as search() arguments (repeated parameters keep the last value)."""
    return {k: v for k, v in request.args.items()}


@bp.get("/search")
def search_api():
    """Full-text search over what the caller may see."""
    result = search(g.user, **search_args())
    for hit in result["hits"]:
        hit["url"] = hit_url(hit)
    return jsonify(result)


@bp.post("/evidence")
def freeze():
    """Freeze a search as evidence {q, filters?, note, finding_id?}."""
    return created(evidence.evidence_json(evidence.freeze_search(g.user, json_body())))


@bp.get("/evidence")
def list_evidence():
    """Evidence items the caller may read, newest first (?finding_id= or ?audit_id= to narrow)."""
    items = evidence.evidence_list(g.user, finding_id=id_arg("finding_id"), audit_id=id_arg("audit_id"))
    page, per_page = int_arg("page", 1, 1, 10**6), int_arg("per_page", 20, 1, 100)
    chunk = items[(page - 1) * per_page:page * per_page]
    return jsonify({"items": [evidence.evidence_json(e) for e in chunk], "total": len(items),
                    "page": page, "per_page": per_page})


@bp.get("/evidence/<int:evidence_id>")
def show_evidence(evidence_id: int):
    """One evidence item, exactly as frozen (with a check that its hash still matches)."""
    return jsonify(evidence.evidence_json(evidence.get_evidence(g.user, evidence_id)))


@bp.post("/evidence/<int:evidence_id>/attach")
def attach_evidence(evidence_id: int):
    """Attach an evidence item to a finding or a checklist item {finding_id | checklist_item_id}."""
    item = evidence.get_evidence(g.user, evidence_id)
    return jsonify(evidence.evidence_json(evidence.attach(g.user, item, json_body())))


@bp.get("/search/health")
def search_health():
    """Database vs index counts and pending outbox rows (admin, controller)."""
    require_role(g.user, ("admin", "controller"), "see the search health")
    return jsonify(health())
