"""The company calendar page: every signed-in user reads it, the admin corrects it."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import clock, workdays
from portal.accounts.permissions import ADMINISTER
from portal.validation import parse_date, parse_int

bp = Blueprint("calendar", __name__)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@bp.get("/calendar")
@login_required
def index():
    """One year's exceptions to the Monday-Friday week, with the admin's forms."""
    raw = request.args.get("year", "")
    year = parse_int(raw) if raw else clock.today().year
    days = workdays.year_days(year)  # refuses years out of range (422 page)
    return render_template("calendar/index.html", year=year, days=days, weekdays=WEEKDAYS,
                           kinds=workdays.KINDS, can_edit=current_user.role in ADMINISTER,
                           name_max=workdays.NAME_MAX)


def _back_to(day_text: str):
    day = parse_date(day_text)
    return redirect(url_for("calendar.index", year=day.year if day else None))


@bp.post("/calendar")
@login_required
def set_day():
    """Admin: make a date a holiday or a working day."""
    form = request.form
    row = workdays.set_day(current_user, form.get("date", "").strip(), form.get("kind"), form.get("name", ""))
    flash(_("%(day)s saved in the company calendar.", day=row.day.isoformat()), "success")
    return _back_to(row.day.isoformat())


@bp.post("/calendar/<date>/remove")
@login_required
def remove_day(date: str):
    """Admin: take an exception out; the date follows the Monday-Friday week again."""
    removed = workdays.remove_day(current_user, date)
    flash(_("%(day)s removed from the company calendar.", day=removed["date"]), "success")
    return _back_to(removed["date"])
