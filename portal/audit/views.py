"""Browser pages for internal audits: the list, planning, the audit page with its 检查表,
findings and corrective actions, the report download and the audit programme."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts import services as accounts
from portal.accounts.permissions import RUN_AUDITS, require_role
from portal.audit import access, docx_export, evidence_refs, queries, running, services
from portal.audit.actions import belongs_to
from portal.audit.clauses import list_clauses
from portal.audit.models import AUDIT_STATES, CHECK_RESULTS, CLASSIFICATIONS
from portal.search import evidence
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.validation import parse_id

bp = Blueprint("audit", __name__, template_folder="templates")
STEP_MESSAGES = {"start": _l("Audit started."), "report": _l("Audit reported."), "close": _l("Audit closed.")}


def _can_run(user) -> bool:
    return user.role in RUN_AUDITS


@bp.get("/audits")
@login_required
def index():
    """Audits, newest first, and the corrective actions I own that are still open."""
    state = request.args.get("state") if request.args.get("state") in AUDIT_STATES else None
    audits = db.session.execute(queries.audit_query(current_user, state=state).limit(500)).scalars().all()
    mine = db.session.execute(queries.action_query(current_user, state="open",
                                                   owner=current_user.username)).scalars().all()
    return render_template("audit/index.html", audits=audits, my_actions=mine, states=AUDIT_STATES,
                           can_run=_can_run(current_user))


def _plan_from_form() -> dict:
    form = request.form
    return {"title": form.get("title", ""), "planned_start": form.get("planned_start", ""),
            "planned_end": form.get("planned_end", ""), "departments": form.getlist("departments"),
            "clauses": form.getlist("clauses"), "lead_auditor": form.get("lead_auditor", ""),
            "team": [name for name in form.getlist("team") if name],
            **_kind_and_justification(form)}


def _kind_and_justification(form) -> dict:
    """Ad hoc with its reason, and the controller's independence justification (portal/audit/qualification.py)."""
    values = {"kind": form.get("kind") or "programme", "reason": form.get("reason", "")}
    if form.get("independence_reason", "").strip():
        values["independence_override"] = {"reason": form["independence_reason"]}
    return values


def _render_new(values: dict, errors: dict, status: int = 200):
    auditors = [u for u in accounts.list_users() if u.role in RUN_AUDITS and u.is_active]
    return render_template("audit/new.html", values=values, errors=errors, auditors=auditors,
                           departments=accounts.list_departments(active_only=True),
                           clauses=list_clauses()), status


@bp.route("/audits/new", methods=["GET", "POST"])
@login_required
def new():
    """Plan an audit (auditors, controllers, admins)."""
    require_role(current_user, RUN_AUDITS, "plan audits")
    if request.method == "GET":
        return _render_new({"lead_auditor": current_user.username}, {})
    values = _plan_from_form()
    try:
        audit = services.create_audit(current_user, values)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return _render_new(values, exc.fields, 422)
    flash(_("Audit %(number)s planned.", number=audit.number), "success")
    return redirect(url_for("audit.show", audit_id=audit.id))


@bp.get("/audits/<int:audit_id>")
@login_required
def show(audit_id: int):
    """The audit: plan, meeting notes, checklist, findings, corrective actions and what may be
    done next; ?from_item= opens the finding form filled in from that 检查表 row."""
    audit = queries.get_audit(current_user, audit_id)
    frozen = evidence.evidence_list(current_user, audit_id=audit.id)
    by_finding, by_item = {}, {}
    for item in frozen:
        if item.finding_id:
            by_finding.setdefault(item.finding_id, []).append(item)
        else:
            by_item.setdefault(item.checklist_item_id, []).append(item)
    return render_template("audit/show.html", audit=audit, can_run=access.may_run_audit(current_user, audit),
                           results=CHECK_RESULTS, classifications=_finding_classes(),
                           owners=_owner_choices(audit),
                           new_finding=_finding_draft(audit), may_acknowledge=running.may_acknowledge,
                           may_verify=_may_verify(audit),
                           frozen_by_finding=by_finding, frozen_by_item=by_item,
                           evidence={x.id: queries.evidence_for(current_user, x) for x in audit.findings})


def _finding_classes() -> list[str]:
    """A new finding defaults to the lesser nonconformity: 严重不符合 is a judgement to make."""
    return ["minor"] + [c for c in CLASSIFICATIONS if c != "minor"]


def _finding_draft(audit) -> dict:
    """The finding form's values: blank, or those of the 不符合 row it is raised from."""
    item_id = parse_id(request.args.get("from_item"))
    item = next((i for i in audit.checklist if i.id == item_id and i.result in services.FINDING_RESULTS), None)
    if item is None:
        return {"classification": "minor"}
    return {"checklist_item_id": item.id, "clause": item.clause, "department": item.department.code,
            "statement": item.notes or item.question, "question": item.question,
            "classification": "minor" if item.result == "nonconforming" else "observation"}


def _owner_choices(audit) -> dict:
    """Finding id → who may own an action on it: its department's people, its manager among them."""
    people = [u for u in accounts.list_users() if u.is_active and not u.is_read_only]
    return {x.id: [u for u in people if belongs_to(u, x.department)] for x in audit.findings}


def _may_verify(audit) -> bool:
    """An auditor (controller, admin) independent of the audited departments verifies."""
    return (current_user.role in RUN_AUDITS and not current_user.is_read_only
            and access.not_independent(current_user, audit) is None)


@bp.post("/audits/<int:audit_id>/<any(start, report, close):step>")
@login_required
def advance(audit_id: int, step: str):
    """Start, report or close the audit."""
    audit = queries.get_audit(current_user, audit_id)
    payload = {k: request.form[k] for k in ("summary", "conclusion") if request.form.get(k)}
    services.advance_audit(current_user, audit, step, payload)
    flash(str(STEP_MESSAGES[step]), "success")
    for warning in running.step_warnings(audit, step):
        flash(warning, "warning")
    return redirect(url_for("audit.show", audit_id=audit_id))


@bp.post("/audits/<int:audit_id>/notes")
@login_required
def update_notes(audit_id: int):
    """The opening and closing meeting notes."""
    audit = queries.get_audit(current_user, audit_id)
    running.update_notes(current_user, audit, _fields("opening_notes", "closing_notes"))
    flash(_("Meeting notes saved."), "success")
    return redirect(url_for("audit.show", audit_id=audit_id, _anchor="notes"))


@bp.post("/audits/<int:audit_id>/checklist")
@login_required
def add_checklist_item(audit_id: int):
    """Add a question to the 检查表."""
    audit = queries.get_audit(current_user, audit_id)
    services.add_checklist_item(current_user, audit, _fields("clause", "department", "question"))
    flash(_("Checklist question added."), "success")
    return redirect(url_for("audit.show", audit_id=audit_id, _anchor="checklist"))


@bp.post("/audits/<int:audit_id>/checklist/<int:item_id>")
@login_required
def record_check_result(audit_id: int, item_id: int):
    """Record the result of one checklist question."""
    item = queries.get_checklist_item(current_user, audit_id, item_id)
    services.record_check_result(current_user, item, _fields("result", "notes"))
    flash(_("Result recorded."), "success")
    return redirect(url_for("audit.show", audit_id=audit_id, _anchor=f"item-{item_id}"))


def _fields(*names: str) -> dict:
    return {n: request.form[n] for n in names if n in request.form}


@bp.post("/audits/<int:audit_id>/findings")
@login_required
def raise_finding(audit_id: int):
    """Write a finding; evidence is named by document code, revision (QP0501 A/1), record
    number or frozen search (#12), resolved on the server."""
    audit = queries.get_audit(current_user, audit_id)
    payload = _fields("classification", "clause", "department", "statement")
    payload["evidence"] = [{"ref": ref} for ref in evidence_refs.split_refs(request.form.get("evidence", ""))]
    if request.form.get("checklist_item_id"):
        payload["checklist_item_id"] = parse_id(request.form["checklist_item_id"]) or 0
    finding = services.raise_finding(current_user, audit, payload)
    flash(_("Finding %(number)s recorded.", number=finding.number), "success")
    return redirect(url_for("audit.show", audit_id=audit_id, _anchor=f"finding-{finding.id}"))


@bp.post("/findings/<int:finding_id>/acknowledge")
@login_required
def acknowledge_finding(finding_id: int):
    """The audited department acknowledges the finding."""
    finding = running.acknowledge_finding(current_user, queries.get_finding(current_user, finding_id))
    flash(_("Finding %(number)s acknowledged.", number=finding.number), "success")
    return redirect(url_for("audit.show", audit_id=finding.audit_id, _anchor=f"finding-{finding.id}"))


@bp.get("/findings/<int:finding_id>/report.docx")
@login_required
def finding_report(finding_id: int):
    """The 不符合项报告 of one finding as Word."""
    return docx_export.download("finding", queries.get_finding(current_user, finding_id), current_user)


@bp.get("/findings/<int:finding_id>")
@login_required
def show_finding(finding_id: int):
    """A finding is shown on its audit's page."""
    finding = queries.get_finding(current_user, finding_id)
    return redirect(url_for("audit.show", audit_id=finding.audit_id, _anchor=f"finding-{finding.id}"))


@bp.post("/findings/<int:finding_id>/actions")
@login_required
def open_action(finding_id: int):
    """Assign a corrective action to an owner."""
    finding = queries.get_finding(current_user, finding_id)
    action = services.open_action(current_user, finding, _fields(
        "owner", "due_date", "verify_after", "containment", "root_cause", "occurs_elsewhere", "plan"))
    flash(_("Corrective action %(number)s assigned.", number=action.number), "success")
    return _to_action(action)


def _to_action(action):
    return redirect(url_for("audit.show", audit_id=action.finding.audit_id, _anchor=f"action-{action.id}"))


@bp.get("/actions/<int:action_id>")
@login_required
def show_action(action_id: int):
    """A corrective action is shown on its audit's page (get_action: only to those who may see it)."""
    return _to_action(queries.get_action(current_user, action_id))


@bp.post("/actions/<int:action_id>/complete")
@login_required
def complete_action(action_id: int):
    """The owner reports the action done."""
    action = queries.get_action(current_user, action_id)
    services.complete_action(current_user, action,
                             _fields("note", "root_cause", "occurs_elsewhere", "verify_after"))
    flash(_("Corrective action completed; an auditor will verify it."), "success")
    return _to_action(action)


@bp.post("/actions/<int:action_id>/verify")
@login_required
def verify_action(action_id: int):
    """An auditor judges whether the action was effective."""
    action = queries.get_action(current_user, action_id)
    choice = request.form.get("effective")
    payload = {"note": request.form.get("note", ""), "due_date": request.form.get("due_date") or None,
               "effective": {"1": True, "0": False}.get(choice, choice)}
    services.verify_action(current_user, action, payload)
    flash(_("Verification recorded."), "success")
    return _to_action(action)


@bp.get("/actions/<int:action_id>/report.docx")
@login_required
def action_report(action_id: int):
    """The 纠正/预防措施报告 of one corrective action as Word."""
    return docx_export.download("action", queries.get_action(current_user, action_id), current_user)


@bp.get("/audits/<int:audit_id>/report.docx")
@login_required
def report_docx(audit_id: int):
    """The 内审报告 as Word."""
    return docx_export.download("audit", queries.get_audit(current_user, audit_id), current_user)

