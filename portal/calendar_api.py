"""JSON API for the company calendar (CONTRACT "Company calendar")."""
from flask import g, jsonify, request
from flask_babel import gettext as _

from portal import clock, workdays
from portal.api_support import api_blueprint, json_body
from portal.errors import BadRequest
from portal.validation import parse_int

bp = api_blueprint("calendar_api")


def day_json(row) -> dict:
    return {"date": row.day.isoformat(), "kind": row.kind, "name": row.name, "source": row.source}


def _year_arg() -> int:
    raw = request.args.get("year", "")
    if raw == "":
        return clock.today().year
    year = parse_int(raw)
    if year is None or not workdays.YEAR_MIN <= year <= workdays.YEAR_MAX:
        raise BadRequest(_("year must be a whole number from %(low)d to %(high)d.",
                           low=workdays.YEAR_MIN, high=workdays.YEAR_MAX), code="bad_parameter")
    return year


@bp.get("/calendar")
def year_calendar():
    """The exceptions to the Monday-Friday week in ?year= (default this year)."""
    year = _year_arg()
    return jsonify({"year": year, "days": [day_json(d) for d in workdays.year_days(year)]})


@bp.put("/calendar/<date>")
def set_day(date: str):
    """Make a date a holiday or a working day (admin)."""
    data = json_body()
    return jsonify(day_json(workdays.set_day(g.user, date, data.get("kind"), data.get("name"))))


@bp.delete("/calendar/<date>")
def remove_day(date: str):
    """Take an exception out (admin); answers 200 with the exception that was removed."""
    return jsonify({**workdays.remove_day(g.user, date), "removed": True})
