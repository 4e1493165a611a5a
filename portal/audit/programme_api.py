"""JSON API of the annual audit programme and the auditor register (CONTRACT.md "Internal
audits and corrective actions")."""
from flask import g, jsonify

from portal.api_support import api_blueprint, json_body
from portal.audit import coverage, programme, proposal, qualification
from portal.documents.exports import XLSX_MIME, attachment

bp = api_blueprint("programme_api")


def _matrix(year: int):
    return jsonify(coverage.matrix_json(coverage.matrix(g.user, year)))


@bp.get("/audit-programme/<int:year>")
def get_programme(year: int):
    """The year's scope and its coverage: every department × clause audited, planned or not covered."""
    return _matrix(year)


@bp.put("/audit-programme/<int:year>")
def set_programme(year: int):
    """Set the year's scope {objectives, criteria, standards, departments, clauses?} (a controller or an auditor)."""
    programme.set_scope(g.user, year, json_body())
    return _matrix(year)


@bp.post("/audit-programme/<int:year>/approve")
def approve_programme(year: int):
    """An approver approves the year's programme {password}."""
    programme.approve(g.user, year, json_body())
    return _matrix(year)


@bp.post("/audit-programme/<int:year>/propose")
def propose(year: int):
    """Audits that would cover the year's gaps; nothing is saved."""
    return jsonify(proposal.propose(g.user, year))


@bp.get("/audit-programme/<int:year>/calendar")
def calendar(year: int):
    """Each month: the audits planned to start in it and the corrective actions due in it."""
    return jsonify(coverage.calendar_json(year, coverage.calendar(g.user, year)))


@bp.get("/audit-programme/<int:year>.xlsx")
def matrix_xlsx(year: int):
    """The coverage matrix as Excel."""
    data = coverage.matrix(g.user, year)
    return attachment(coverage.matrix_workbook(data), f"内审方案覆盖矩阵_{year}.xlsx", XLSX_MIME)


@bp.get("/auditors")
def auditors():
    """The auditor register: every registered auditor, their qualification and audits this year."""
    items = [qualification.register_json(entry) for entry in qualification.register(g.user)]
    return jsonify({"items": items, "total": len(items)})
