"""JSON API for the clause catalogue, internal audits and corrective actions
(CONTRACT.md "Internal audits and corrective actions")."""
from flask import g, jsonify, request

from portal.api_support import api_blueprint, created, int_arg, json_body, paginate
from portal.audit import docx_export, queries, running, services
from portal.audit.clauses import list_clauses
from portal.audit.models import ACTION_STATES, AUDIT_STATES
from portal.audit.serializers import action_json, audit_json, checklist_item_json, finding_json
from portal.errors import BadRequest

bp = api_blueprint("audit_api")


@bp.get("/clauses")
def clauses():
    """Every clause of the catalogue (optionally one standard), unpaged."""
    items = [{"standard": c.standard, "number": c.number, "title": c.title_zh,
              "title_en": c.title_en} for c in list_clauses(request.args.get("standard"))]
    return jsonify({"items": items, "total": len(items)})


def _choice_arg(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}.", code="bad_parameter")
    return value


def _audit_detail(audit):
    return jsonify(audit_json(audit, g.user, detail=True))


@bp.post("/audits")
def create_audit():
    """Plan an audit {title, planned_start, planned_end, departments, clauses, lead_auditor, team}."""
    return created(audit_json(services.create_audit(g.user, json_body()), g.user, detail=True))


@bp.get("/audits")
def list_audits():
    """Audits the caller may see; ?state=&year=."""
    year = int_arg("year", 0, 0, 9999) or None
    query = queries.audit_query(g.user, state=_choice_arg("state", AUDIT_STATES), year=year)
    return jsonify(paginate(query, audit_json))


@bp.get("/audits/<int:audit_id>")
def get_audit(audit_id: int):
    """One audit with its checklist, findings and their corrective actions."""
    return _audit_detail(queries.get_audit(g.user, audit_id))


def _advance(audit_id: int, step: str):
    """The audit after the step, with `warnings`: what was unusual about it (an early start,
    clauses in scope left unchecked), said but not refused."""
    audit = queries.get_audit(g.user, audit_id)
    payload = json_body() if request.get_data() else {}
    audit = services.advance_audit(g.user, audit, step, payload)
    return jsonify({**audit_json(audit, g.user, detail=True), "warnings": running.step_warnings(audit, step)})


@bp.patch("/audits/<int:audit_id>")
def update_notes(audit_id: int):
    """The opening and closing meeting notes {opening_notes?, closing_notes?}, until the audit closes."""
    audit = queries.get_audit(g.user, audit_id)
    return _audit_detail(running.update_notes(g.user, audit, json_body()))


@bp.post("/audits/<int:audit_id>/start")
def start_audit(audit_id: int):
    """planned → in_progress."""
    return _advance(audit_id, "start")


@bp.post("/audits/<int:audit_id>/report")
def report_audit(audit_id: int):
    """in_progress → reported, with the report's {summary?, conclusion?}."""
    return _advance(audit_id, "report")


@bp.post("/audits/<int:audit_id>/close")
def close_audit(audit_id: int):
    """reported → closed; every major or minor finding must have a corrective action."""
    return _advance(audit_id, "close")


@bp.post("/audits/<int:audit_id>/checklist")
def add_checklist_item(audit_id: int):
    """Add a 检查表 question {clause, department, question}."""
    audit = queries.get_audit(g.user, audit_id)
    return created(checklist_item_json(services.add_checklist_item(g.user, audit, json_body())))


@bp.route("/audits/<int:audit_id>/checklist/<int:item_id>", methods=["PATCH", "POST"])
def record_check_result(audit_id: int, item_id: int):
    """Record a checklist result {result, notes}."""
    item = queries.get_checklist_item(g.user, audit_id, item_id)
    return jsonify(checklist_item_json(services.record_check_result(g.user, item, json_body())))


@bp.post("/audits/<int:audit_id>/findings")
def raise_finding(audit_id: int):
    """Write a finding {classification, clause, department, statement, evidence}."""
    audit = queries.get_audit(g.user, audit_id)
    return created(finding_json(services.raise_finding(g.user, audit, json_body()), g.user))


@bp.get("/findings/<int:finding_id>")
def get_finding(finding_id: int):
    """One finding with its corrective actions."""
    return jsonify(finding_json(queries.get_finding(g.user, finding_id), g.user))


@bp.post("/findings/<int:finding_id>/acknowledge")
def acknowledge_finding(finding_id: int):
    """The audited department (a member or its manager) acknowledges the finding, once."""
    finding = queries.get_finding(g.user, finding_id)
    return jsonify(finding_json(running.acknowledge_finding(g.user, finding), g.user))


@bp.get("/findings/<int:finding_id>/report.docx")
def finding_report(finding_id: int):
    """The 不符合项报告 of one finding as Word."""
    return docx_export.download("finding", queries.get_finding(g.user, finding_id), g.user)


@bp.post("/findings/<int:finding_id>/actions")
def open_action(finding_id: int):
    """Assign a corrective action {owner, due_date, containment?, root_cause?, plan}."""
    finding = queries.get_finding(g.user, finding_id)
    return created(action_json(services.open_action(g.user, finding, json_body())))


@bp.get("/actions")
def list_actions():
    """Corrective actions; ?state=&owner=."""
    query = queries.action_query(g.user, state=_choice_arg("state", ACTION_STATES), owner=request.args.get("owner"))
    return jsonify(paginate(query, action_json))


@bp.get("/actions/<int:action_id>")
def get_action(action_id: int):
    """One corrective action."""
    return jsonify(action_json(queries.get_action(g.user, action_id)))


@bp.post("/actions/<int:action_id>/complete")
def complete_action(action_id: int):
    """The owner reports the action done {note, root_cause?, occurs_elsewhere?, verify_after?};
    without a root cause (given now or before) 422."""
    action = queries.get_action(g.user, action_id)
    return jsonify(action_json(services.complete_action(g.user, action, json_body())))


@bp.post("/actions/<int:action_id>/verify")
def verify_action(action_id: int):
    """An independent auditor who is not the owner verifies effectiveness {effective, note, due_date?}
    on or after verify_after (409 before)."""
    action = queries.get_action(g.user, action_id)
    return jsonify(action_json(services.verify_action(g.user, action, json_body())))


@bp.get("/actions/<int:action_id>/report.docx")
def action_report(action_id: int):
    """The 纠正/预防措施报告 of one corrective action as Word."""
    return docx_export.download("action", queries.get_action(g.user, action_id), g.user)


@bp.get("/audits/<int:audit_id>/report.docx")
def audit_report(audit_id: int):
    """The 内审报告 as Word."""
    return docx_export.download("audit", queries.get_audit(g.user, audit_id), g.user)
