"""The calendar and department-manager operations of /api/v1/openapi.json (merged by
portal.openapi.spec)."""
from portal.openapi import (BOOL, DAY, INT, STR, WRITE, enum, nullable, obj, op, query, record_of,
                            ref, text, whole)
from portal.workdays import KINDS, NAME_MAX, YEAR_MAX, YEAR_MIN

CALENDAR_DAY = dict(date=DAY, kind=enum(KINDS), name=STR,
                    source=dict(enum(("shipped", "admin")), description="shipped with the portal, or set by the admin"))

OPERATIONS: list = [
    op("get", "/calendar", "The exceptions to the Monday-Friday week in a year: public holidays, and make-up "
       "working days (调休) on weekends", "CalendarYear",
       params=[query("year", whole(YEAR_MIN, YEAR_MAX), "default: this year")]),
    op("put", "/calendar/{date}", "Make a date a holiday or a working day (admin); 422 when the kind is what the "
       "Monday-Friday week already says (only exceptions are stored) or the date does not exist",
       "CalendarDay", "CalendarDaySet"),
    op("delete", "/calendar/{date}", "Take an exception out (admin): the date follows the Monday-Friday week "
       "again, and a later `portal init` does not bring a shipped day back; 404 when it is no exception",
       "CalendarDayRemoved", errors=WRITE),
    op("patch", "/departments/{id}", "Set a department's manager, who receives escalations, or rename it (admin); "
       "422 for an unknown, deactivated or read-only user", "Department", "DepartmentUpdate"),
]
ANSWERS: dict = {
    "CalendarDay": record_of(**CALENDAR_DAY),
    "CalendarYear": record_of(year=INT, days={"type": "array", "items": ref("CalendarDay")}),
    "CalendarDayRemoved": record_of(**CALENDAR_DAY, removed=BOOL),
}
BODIES: dict = {
    "CalendarDaySet": obj(["kind"], closed=False, kind=enum(KINDS), name=text(NAME_MAX, pattern="^[^\\x00-\\x1f]*$")),
    "DepartmentUpdate": obj(closed=True, manager=dict(nullable(text(64)), description="a username, or null for none"),
                            name=text(200, required=True)),
}
