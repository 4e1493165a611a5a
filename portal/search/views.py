"""Browser pages: the search results with facets, and the evidence basket."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.permissions import require_role
from portal.errors import DomainError
from portal.search import evidence
from portal.search.api import hit_url
from portal.search.indexer import health
from portal.search.query import search

bp = Blueprint("search", __name__, template_folder="templates")
UI_FILTERS = ("q", "kind", "department", "clause", "form", "state", "as_of", "date_from", "date_to",
              "sort", "page")


@bp.get("/search")
@login_required
def results():
    """Results with highlighted snippets and facets; bad syntax is explained, not a 500."""
    args = {k: v for k, v in request.args.items() if k in UI_FILTERS and v != ""}
    error, result = None, None
    try:
        result = search(current_user, **args)
    except DomainError as exc:
        error = exc.message
    if result:
        for hit in result["hits"]:
            hit["url"] = hit_url(hit)
    return render_template("search/results.html", result=result, error=error, args=args,
                           targets=evidence.attach_targets(current_user),
                           filters={k: v for k, v in args.items() if k not in ("q", "page")}), 400 if error else 200


@bp.post("/search/evidence")
@login_required
def freeze():
    """Put the current search in the evidence basket."""
    filters = {k: v for k, v in request.form.items() if k in evidence.FILTER_NAMES and v}
    item = evidence.freeze_search(current_user, {"q": request.form.get("q", ""), "filters": filters,
                                                 "note": request.form.get("note", ""),
                                                 **evidence.target_payload(request.form.get("attach_to"))})
    flash(_("Search frozen as evidence #%(id)s.", id=item.id), "success")
    return redirect(url_for("search.show_evidence", evidence_id=item.id))


@bp.post("/evidence/<int:evidence_id>/attach")
@login_required
def attach(evidence_id: int):
    """Attach a basket item to a finding or checklist item."""
    item = evidence.get_evidence(current_user, evidence_id)
    payload = evidence.target_payload(request.form.get("attach_to"))
    if not payload:
        flash(_("Choose a finding or checklist item."), "error")
    else:
        evidence.attach(current_user, item, payload)
        flash(_("Evidence #%(id)s attached.", id=item.id), "success")
    return redirect(url_for("search.show_evidence", evidence_id=item.id))


@bp.get("/evidence")
@login_required
def basket():
    """The evidence basket: frozen searches."""
    items = evidence.evidence_list(current_user, limit=200)
    return render_template("search/basket.html", items=items)


@bp.get("/evidence/<int:evidence_id>")
@login_required
def show_evidence(evidence_id: int):
    """One frozen search, unchanged."""
    item = evidence.get_evidence(current_user, evidence_id)
    targets = [] if item.finding_id or item.checklist_item_id else evidence.attach_targets(current_user)
    return render_template("search/evidence.html", item=item, data=evidence.evidence_json(item),
                           targets=targets, supports=evidence.supported(item))


@bp.get("/admin/search")
@login_required
def admin_health():
    """Search health for administrators: database vs index."""
    require_role(current_user, ("admin", "controller"), "see the search health")
    return render_template("search/health.html", health=health())
