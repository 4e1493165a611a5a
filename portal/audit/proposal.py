"""`propose`: audits that would fill the gaps of the year's programme, nothing saved. One
audit per department still not covered nor planned somewhere, spread over the working months
left in the year, each led by the least-loaded qualified, independent auditor."""
import json
from datetime import date, timedelta

from flask_babel import gettext as _

from portal import clock, workdays
from portal.audit import access, services
from portal.audit.coverage import clause_key, matrix
from portal.audit.qualification import candidates, document_departments, is_valid, qualification_of, standard_of
from portal.errors import BadRequest, DomainError, InvalidState
from portal.extensions import db

# a day of audit for this many clauses of one department
CLAUSES_PER_DAY = 12
TEAM_SIZE = 2
MAX_ACCEPTED = 100


def propose(actor, year: int) -> dict:
    """{audits: [{title, departments, clauses, planned_start, planned_end, lead_auditor, team}],
    unassigned: [{department, clauses}]} (departments no qualified, independent auditor may audit)."""
    access.require_auditor(actor, "propose audits")
    data = matrix(actor, year)
    programme = data["programme"]
    if programme is None:
        raise InvalidState(_("Set the %(year)s programme's scope first.", year=year), code="no_programme")
    scope_clauses, scope_depts = set(programme.clauses or []), set(programme.department_codes or [])
    gaps: dict[str, list[str]] = {}
    for cell in data["cells"]:
        if cell["status"] == "not_covered" and cell["department"] in scope_depts and cell["clause"] in scope_clauses:
            gaps.setdefault(cell["department"], []).append(cell["clause"])
    if not gaps:
        return {"audits": [], "unassigned": []}
    days = _start_days(year, len(gaps))
    departments = {d.code: d for d in data["departments"]}
    people = candidates()
    wrote = document_departments(people, [departments[c] for c in gaps])
    load = {u.id: sum(1 for a in data["audits"] if u in a.auditors) for u in people}
    leads = {u.id: sum(1 for a in data["audits"] if a.lead_auditor_id == u.id) for u in people}
    proposed, unassigned = [], []
    for (code, clauses), start in zip(sorted(gaps.items()), days):
        dept, clauses = departments[code], sorted(clauses, key=clause_key)
        standards = {standard_of(r) for r in clauses}
        eligible = sorted((u for u in people if u.department_id != dept.id and dept.id not in wrote.get(u.id, ())
                           and is_valid(qualification_of(u), standards, start)),
                          key=lambda u: (load[u.id], leads[u.id], u.role != "auditor", u.username))[:TEAM_SIZE]
        if not eligible:
            unassigned.append({"department": code, "clauses": clauses})
            continue
        for user in eligible:
            load[user.id] += 1
        leads[eligible[0].id] += 1
        proposed.append({"title": _("%(year)s internal audit: %(department)s", year=year, department=dept.name),
                         "departments": [code], "clauses": clauses, "planned_start": start.isoformat(),
                         "planned_end": _end(start, len(clauses), year).isoformat(),
                         "lead_auditor": eligible[0].username, "team": [u.username for u in eligible[1:]]})
    return {"audits": proposed, "unassigned": unassigned}


def _start_days(year: int, count: int) -> list[date]:
    """`count` start days spread over the working months left in `year` (from tomorrow)."""
    first = max(date(year, 1, 1), clock.today() + timedelta(days=1))
    if first.year != year:
        raise InvalidState(_("The year %(year)s is over; nothing is left to plan in it.", year=year),
                           code="year_over")
    exceptions = workdays.exceptions_between(first, date(year, 12, 31))
    by_month: dict[int, list[date]] = {}
    day = first
    while day.year == year:
        if workdays.is_working_day(day, exceptions):
            by_month.setdefault(day.month, []).append(day)
        day += timedelta(days=1)
    months = sorted(by_month)
    if not months:
        raise InvalidState(_("No working day is left in %(year)s.", year=year), code="year_over")
    slots: dict[int, int] = {}
    chosen = [months[i * len(months) // count] for i in range(count)]
    for month in chosen:
        slots[month] = slots.get(month, 0) + 1
    days, seen = [], {}
    for month in chosen:
        k = seen.get(month, 0)
        seen[month] = k + 1
        working = by_month[month]
        days.append(working[k * len(working) // slots[month]])
    return days


def _end(start: date, clauses: int, year: int) -> date:
    extra = (clauses - 1) // CLAUSES_PER_DAY
    end = workdays.add_working_days(start, extra) if extra else start
    return end if end.year == year else start


# --- accepting a proposal in the browser -------------------------------------------------------

def accept(actor, proposals: list[str]) -> tuple[list, DomainError | None]:
    """Create the proposed audits (each a JSON object, as the proposal page carries them)
    through the planning service, one by one: (the audits created, the refusal that stopped
    it or None)."""
    if not proposals or len(proposals) > MAX_ACCEPTED:
        raise BadRequest(_("Nothing to accept."), code="empty_proposal")
    payloads = []
    for raw in proposals:
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise BadRequest(_("The proposal is malformed; propose again."), code="malformed_proposal")
        payloads.append(payload)
    created = []
    for payload in payloads:
        try:
            created.append(services.create_audit(actor, payload))
        except DomainError as exc:
            db.session.rollback()
            return created, exc
    return created, None
