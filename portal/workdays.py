"""The company calendar: Monday to Friday, minus public holidays, plus make-up working days (调休).

The exceptions to the Monday-Friday week live in the database (one row per date), so every
web process and the jobs runner count the same days and the admin can correct them. `portal
init` fills in the years the `chinese_calendar` package knows (the State Council's notices,
2004 to its latest release); a row the admin changed is never overwritten by a later init.

Why chinese_calendar and not `holidays`: `holidays.China` lists the days off but not the
weekend days that become working days, and a working-day clock across 国庆 needs both.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import UTCDateTime, utcnow_column_default
from portal.extensions import db

KINDS = ("holiday", "workday")
SOURCES = ("shipped", "admin")
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
                              .where(CalendarDay.day >= first, CalendarDay.day <= last))
    return {day: kind for day, kind in rows}


def is_working_day(day: date, exceptions: dict[date, str] | None = None) -> bool:
    if exceptions is None:
        exceptions = exceptions_between(day, day)
    kind = exceptions.get(day)
    if kind is not None:
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
