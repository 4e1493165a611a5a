"""Browser pages of the annual audit programme (年度内审方案): scope, approval, coverage
matrix, proposal and its acceptance, the month calendar and the Excel export."""
import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import clock
from portal.accounts import services as accounts
from portal.audit import access, coverage, programme, proposal
from portal.audit.clauses import list_clauses
from portal.audit.qualification import catalogue_standards
from portal.documents.exports import XLSX_MIME, attachment
from portal.errors import ValidationFailed
from portal.extensions import db

bp = Blueprint("programme", __name__, template_folder="templates")


def _page(year: int, status: int = 200, **extra):
    data = coverage.matrix(current_user, year)
    grid = {(c["department"], c["clause"]): c for c in data["cells"]}
    current = data["programme"]
    values = extra.pop("values", None) or (programme.programme_state(current) or {})
    return render_template(
        "audit/programme.html", data=data, grid=grid, year=year, values=values, errors=extra.pop("errors", {}),
        may_plan=access.may_audit(current_user), may_approve=current_user.role in programme.APPROVERS,
        standards=catalogue_standards(), departments=accounts.list_departments(active_only=True),
        clauses=list_clauses(), today=clock.today(), **extra), status


@bp.get("/audit-programme")
@login_required
def this_year():
    """This year's audit programme."""
    return redirect(url_for("programme.show", year=clock.today().year))


@bp.get("/audit-programme/<int:year>")
@login_required
def show(year: int):
    """The year's scope, its approval and the coverage of every department × clause."""
    return _page(year)


@bp.post("/audit-programme/<int:year>/scope")
@login_required
def set_scope(year: int):
    """Set or change the year's scope; a change after approval withdraws the approval."""
    form = request.form
    values = {"objectives": form.get("objectives", ""), "criteria": form.get("criteria", ""),
              "standards": form.getlist("standards"), "departments": form.getlist("departments")}
    if [c for c in form.getlist("clauses") if c]:
        values["clauses"] = [c for c in form.getlist("clauses") if c]
    try:
        programme.set_scope(current_user, year, values)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return _page(year, 422, errors=exc.fields, values=values)
    flash(_("The %(year)s audit programme's scope is saved.", year=year), "success")
    return redirect(url_for("programme.show", year=year))


@bp.post("/audit-programme/<int:year>/approve")
@login_required
def approve(year: int):
    """An approver approves the programme with their password."""
    programme.approve(current_user, year, {"password": request.form.get("password", "")})
    flash(_("The %(year)s audit programme is approved.", year=year), "success")
    return redirect(url_for("programme.show", year=year))


@bp.post("/audit-programme/<int:year>/propose")
@login_required
def propose(year: int):
    """Audits that would fill the gaps, shown for acceptance; nothing is saved."""
    offer = proposal.propose(current_user, year)
    encoded = [json.dumps(a, ensure_ascii=False) for a in offer["audits"]]
    return _page(year, proposal=offer, encoded=encoded)


@bp.post("/audit-programme/<int:year>/accept")
@login_required
def accept(year: int):
    """Plan the proposed audits through the ordinary planning service."""
    created, refusal = proposal.accept(current_user, request.form.getlist("audit"))
    if created:
        flash(_("Audits planned: %(numbers)s.", numbers=", ".join(a.number for a in created)), "success")
    if refusal is not None:
        flash(_("Not planned: %(message)s", message=refusal.message), "error")
    return redirect(url_for("programme.show", year=year))


@bp.get("/audit-programme/<int:year>/calendar")
@login_required
def calendar(year: int):
    """Each month of the year: audits planned to start and corrective actions due."""
    return render_template("audit/programme_calendar.html", year=year,
                           months=coverage.calendar(current_user, year), today=clock.today())


@bp.get("/audit-programme/<int:year>.xlsx")
@login_required
def matrix_xlsx(year: int):
    """The coverage matrix as Excel."""
    data = coverage.matrix(current_user, year)
    return attachment(coverage.matrix_workbook(data), f"内审方案覆盖矩阵_{year}.xlsx", XLSX_MIME)
