"""The company calendar: Monday to Friday, minus public holidays, plus make-up working days (调休).

The exceptions to the Monday-Friday week live in the database (one row per date), so every
web process and the jobs runner count the same days and the admin can correct them. `portal
init` fills in the years the `chinese_calendar` package knows (the State Council's notices,
2004 to its latest release); a row the admin changed is never overwritten by a later init.
A removed exception stays as a row of kind "removed" (never deleted): a later init then finds
the date taken and does not bring the shipped day back, and every reader skips such rows.

Why chinese_calendar and not `holidays`: `holidays.China` lists the days off but not the
weekend days that become working days, and a working-day clock across 国庆 needs both.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.accounts.permissions import ADMINISTER
from portal.database import UTCDateTime, utcnow_column_default
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.trail import services as trail
from portal.validation import has_illegal_chars, parse_date

KINDS = ("holiday", "workday")
# The kinds as people read them (pages and messages say `_(kind)`); listed here so the
# catalogue holds them.
KIND_LABELS = {"holiday": _l("holiday"), "workday": _l("workday")}
# The row of an exception the admin removed: kept so that `portal init` does not ship it again.
REMOVED = "removed"
SOURCES = ("shipped", "admin")
NAME_MAX = 100
# The years the calendar pages and services take; chinese_calendar knows 2004 onwards.
YEAR_MIN, YEAR_MAX = 1900, 2200
# More working days than this from one start is not a clock but a typing error.
MAX_WORKING_DAYS = 366


class CalendarDay(db.Model):
    """One exception to the Monday-Friday week: a weekday off or a weekend day worked."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(10), default="shipped")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow_column_default)


def is_exception(day: date, kind: str) -> bool:
    """Whether `kind` on `day` differs from what the Monday-Friday week says."""
    weekend = day.weekday() >= 5
    return (kind == "holiday") != weekend


def shipped_days() -> list[tuple[date, str, str]]:
    """(date, kind, Chinese name) for every exception chinese_calendar knows."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    names = {h.value: h.chinese for h in Holiday}
    out = []
    for day, english in chinese_calendar.constants.holidays.items():
        if is_exception(day, "holiday"):
            out.append((day, "holiday", names.get(english, english)))
    for day, english in chinese_calendar.constants.workdays.items():
        if is_exception(day, "workday"):
            out.append((day, "workday", names.get(english, english) + "调休"))
    return sorted(out)


def load_calendar() -> int:
    """Insert the shipped exceptions that are not in the table yet (`portal init`); returns
    how many. A date the admin changed or removed keeps the admin's word (see services)."""
    have = set(db.session.execute(select(CalendarDay.day)).scalars())
    added = [CalendarDay(day=d, kind=k, name=n, source="shipped") for d, k, n in shipped_days() if d not in have]
    db.session.add_all(added)
    db.session.commit()
    return len(added)


def exceptions_between(first: date, last: date) -> dict[date, str]:
    """{date: kind} of the exceptions from `first` to `last`, both included."""
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.kind)
                              .where(CalendarDay.day >= first, CalendarDay.day <= last,
                                     CalendarDay.kind.in_(KINDS)))
    return {day: kind for day, kind in rows}


def is_working_day(day: date, exceptions: dict[date, str] | None = None) -> bool:
    if exceptions is None:
        exceptions = exceptions_between(day, day)
    kind = exceptions.get(day)
    if kind in KINDS:  # anything else (a removed row) falls back to the Monday-Friday week
        return kind == "workday"
    return day.weekday() < 5


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (`start` itself is not counted)."""
    if not 0 < count <= MAX_WORKING_DAYS:
        raise ValueError(count)
    # Two years cover 366 working days with room for every holiday in between.
    exceptions = exceptions_between(start, start + timedelta(days=2 * MAX_WORKING_DAYS + 60))
    day, left = start, count
    while left:
        day += timedelta(days=1)
        if is_working_day(day, exceptions):
            left -= 1
    return day


def end_of_working_day(start_local: datetime, count: int) -> datetime:
    """24:00 (local) of the `count`-th working day after the day of `start_local`, an aware
    datetime in the portal's timezone (CONTRACT "Procedure runs", due_working_days)."""
    last = add_working_days(start_local.date(), count)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=start_local.tzinfo)


# --- the admin's corrections (CONTRACT "Company calendar") ------------------------------------

def year_days(year: int) -> list[CalendarDay]:
    """The exceptions of `year`, in date order (removed ones left out)."""
    _check_year(year)
    return db.session.execute(select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31),
        CalendarDay.kind.in_(KINDS)).order_by(CalendarDay.day)).scalars().all()


def _check_year(year) -> None:
    if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationFailed(_("The year must be between %(low)d and %(high)d.", low=YEAR_MIN, high=YEAR_MAX),
                               code="bad_year", fields={"year": f"{YEAR_MIN}-{YEAR_MAX}"})


def calendar_date(value) -> date:
    """A calendar date from a path or a form: YYYY-MM-DD that exists (2026-02-30 does not),
    within the calendar's years; 422 otherwise."""
    day = parse_date(value)
    if day is None or not YEAR_MIN <= day.year <= YEAR_MAX:
        raise ValidationFailed(_("Not a calendar date: use an existing date YYYY-MM-DD between the years "
                                 "%(low)d and %(high)d.", low=YEAR_MIN, high=YEAR_MAX),
                               code="bad_date", fields={"date": "an existing date YYYY-MM-DD"})
    return day


def day_state(row: CalendarDay | None) -> dict | None:
    """What the trail keeps of a date's row; None when the date is not an exception."""
    if row is None or row.kind not in KINDS:
        return None
    return {"date": row.day.isoformat(), "kind": row.kind, "name": row.name, "source": row.source}


def trail_id(day: date) -> int:
    """A date as the trail's integer object id: 2026-10-01 is 20261001."""
    return day.year * 10000 + day.month * 100 + day.day


def _valid_entry(day, kind, name) -> tuple[date, str, str]:
    day = calendar_date(day)
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "one of " + ", ".join(KINDS)
    if name is None:
        name = ""
    if not isinstance(name, str):
        errors["name"] = "must be a string"
    else:
        name = name.strip()
        if has_illegal_chars(name) or any(c in name for c in "\r\n\t"):
            errors["name"] = "contains control characters"
        elif len(name) > NAME_MAX:
            errors["name"] = f"at most {NAME_MAX} characters"
    if errors:
        raise ValidationFailed(_("Invalid calendar day."), fields=errors)
    if not is_exception(day, kind):
        raise ValidationFailed(_("%(day)s is already a %(kind)s by the Monday-Friday rule; only exceptions are "
                                 "stored (remove the exception instead).", day=day.isoformat(), kind=KIND_LABELS[kind]),
                               code="not_an_exception", fields={"kind": "the plain Monday-Friday rule"})
    return day, kind, name


def set_day(actor, day, kind: str, name: str | None) -> CalendarDay:
    """Make `day` a holiday or a working day (admin). Only exceptions to the Monday-Friday
    week are stored, so a weekday as workday or a weekend day as holiday is refused."""
    _require_admin(actor)
    day, kind, name = _valid_entry(day, kind, name)
    row = db.session.get(CalendarDay, day, with_for_update=True)
    before = day_state(row)
    if before is not None and (before["kind"], before["name"], before["source"]) == (kind, name, "admin"):
        return row  # nothing to change, nothing to trail
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.kind, row.name, row.source, row.updated_at = kind, name, "admin", clock.now()
    trail.record(actor, "calendar.set", "calendar", trail_id(day), before, day_state(row))
    _commit_day()
    return row


def remove_day(actor, day) -> dict:
    """Take an exception out (admin): the date follows the Monday-Friday week again. The row
    stays as "removed", so `portal init` never ships the date back. Returns what was removed
    (day_state)."""
    _require_admin(actor)
    day = calendar_date(day)
    row = db.session.get(CalendarDay, day, with_for_update=True)
    if row is None or row.kind not in KINDS:
        raise NotFound(_("%(day)s is not an exception in the company calendar.", day=day.isoformat()))
    before = day_state(row)
    row.kind, row.source, row.updated_at = REMOVED, "admin", clock.now()
    trail.record(actor, "calendar.remove", "calendar", trail_id(day), before, None)
    _commit_day()
    return before


def _require_admin(actor) -> None:
    if actor is None or not actor.is_active or actor.role not in ADMINISTER:
        raise NotAllowed(_("Only an administrator may change the company calendar."))


def _commit_day() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # another admin inserted the same date a moment before
        db.session.rollback()
        raise Conflict(_("The date was changed at the same time; reload and try again."),
                       code="concurrent_change") from None
