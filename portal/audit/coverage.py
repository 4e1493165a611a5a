"""What the year's audits cover: the department × clause matrix of the programme, its month
calendar and its Excel export.

A cell is `audited` only where a checklist result or a finding of an audit of that year
covers it, `planned` where an audit not yet reported names the department and the clause (or
one of its sub-clauses), else `not_covered`: an audit reported without checking a cell leaves
a gap that the next proposal fills."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Department
from portal.audit.models import Audit, AuditChecklistItem, CorrectiveAction, Finding
from portal.audit.programme import check_year, get_programme, programme_json
from portal.audit.serializers import action_json, audit_json
from portal.audit.queries import REPORTED, actions_visible_to, audit_query
from portal.extensions import db
from portal.xlsx import workbook_bytes

STATUSES = ("audited", "planned", "not_covered")
STATUS_ZH = {"audited": "已审核", "planned": "已计划", "not_covered": "未覆盖"}


def covers(ref: str, cell: str) -> bool:
    """'ISO 9001:2015 7.5.3' covers the cells 7.5.3 and 7.5 of ISO 9001:2015 (and 7)."""
    return ref == cell or ref.startswith(cell + ".")


def clause_key(ref: str):
    standard, _, number = ref.rpartition(" ")
    return standard, [int(p) if p.isdecimal() else 0 for p in number.split(".")]


def matrix(user, year: int) -> dict:
    """Every department × clause of the year's scope (and any other one an audit of the
    year names), as `user` may see the audits."""
    check_year(year)
    programme = get_programme(year)
    query = audit_query(user, year=year).options(selectinload(Audit.departments), selectinload(Audit.team))
    audits = sorted(db.session.execute(query).scalars().all(), key=lambda a: (a.planned_start, a.number))
    checked = _checked([a.id for a in audits])
    departments = _rows(programme, audits)
    clauses = _columns(programme, audits)
    cells = []
    for dept in departments:
        naming = [a for a in audits if dept.id in {d.id for d in a.departments}]
        refs = checked.get(dept.id, set())
        for clause in clauses:
            planning = [a for a in naming if any(covers(r, clause) for r in a.clauses or [])]
            if any(covers(r, clause) for r in refs):
                status = "audited"
            elif any(a.state not in REPORTED for a in planning):
                status = "planned"
            else:
                status = "not_covered"
            cells.append({"department": dept.code, "clause": clause, "status": status,
                          "audits": [a.number for a in planning]})
    summary = {status: sum(1 for c in cells if c["status"] == status) for status in STATUSES}
    return {"year": year, "programme": programme, "departments": departments, "clauses": clauses,
            "cells": cells, "audits": audits, "summary": summary}


def _checked(audit_ids: list[int]) -> dict[int, set[str]]:
    """department id → the clauses a checklist result or a finding of those audits names."""
    if not audit_ids:
        return {}
    results = select(AuditChecklistItem.department_id, AuditChecklistItem.clause).where(
        AuditChecklistItem.audit_id.in_(audit_ids), AuditChecklistItem.result.is_not(None))
    findings = select(Finding.department_id, Finding.clause).where(Finding.audit_id.in_(audit_ids))
    found: dict[int, set[str]] = {}
    for query in (results, findings):
        for dept_id, clause in db.session.execute(query):
            found.setdefault(dept_id, set()).add(clause)
    return found


def _rows(programme, audits) -> list[Department]:
    """The scope's departments (every active one when there is no scope) and the audited ones."""
    if programme is not None:
        query = select(Department).where(Department.code.in_(programme.department_codes or []))
    else:
        query = select(Department).where(Department.active.is_(True))
    rows = {d.id: d for d in db.session.execute(query).scalars()}
    rows.update({d.id: d for a in audits for d in a.departments})
    return sorted(rows.values(), key=lambda d: d.code)


def _columns(programme, audits) -> list[str]:
    """The scope's clauses, and those an audit names that no clause of the scope holds."""
    scope = list(programme.clauses or []) if programme is not None else []
    named = {r for a in audits for r in a.clauses or []}
    extra = {r for r in named if not any(covers(r, c) for c in scope)}
    return sorted(set(scope) | extra, key=clause_key)


def matrix_json(data: dict) -> dict:
    return {"year": data["year"], "programme": programme_json(data["programme"]),
            "departments": [d.code for d in data["departments"]], "clauses": data["clauses"],
            "cells": data["cells"], "summary": data["summary"],
            "audits": [audit_json(a) for a in data["audits"]]}


def matrix_workbook(data: dict) -> bytes:
    """The matrix as Excel: a row per department, a column per clause, each cell its status
    and the audits that name it."""
    grid = {(c["department"], c["clause"]): c for c in data["cells"]}
    rows = [[d.code, d.name] + [" ".join([STATUS_ZH[grid[(d.code, ref)]["status"]], *grid[(d.code, ref)]["audits"]])
                                for ref in data["clauses"]]
            for d in data["departments"]]
    return workbook_bytes(f"{data['year']}年度内审方案覆盖矩阵", ["部门代码", "部门", *data["clauses"]], rows,
                          widths=[10, 16] + [22] * len(data["clauses"]))


# --- the month calendar ---------------------------------------------------------------------------

def calendar(user, year: int) -> list[dict]:
    """Each month of the year: the audits planned to start in it and the corrective actions
    due in it, as `user` may see them."""
    check_year(year)
    audits = db.session.execute(audit_query(user, year=year)).scalars().all()
    actions = db.session.execute(
        select(CorrectiveAction).where(actions_visible_to(user), CorrectiveAction.due_date >= date(year, 1, 1),
                                       CorrectiveAction.due_date <= date(year, 12, 31))
        .order_by(CorrectiveAction.due_date, CorrectiveAction.id)).scalars().all()
    return [{"month": month,
             "audits": sorted((a for a in audits if a.planned_start.month == month),
                              key=lambda a: (a.planned_start, a.number)),
             "actions": [x for x in actions if x.due_date.month == month]}
            for month in range(1, 13)]


def calendar_json(year: int, months: list[dict]) -> dict:
    return {"year": year, "months": [{"month": f"{year}-{m['month']:02d}",
                                      "audits": [audit_json(a) for a in m["audits"]],
                                      "actions": [action_json(x) for x in m["actions"]]} for m in months]}
