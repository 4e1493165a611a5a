"""Calendar periods (months, quarters, years) in the portal's time zone, and their UTC bounds.

A period is an ordinal per frequency (month: year*12 + month-1, quarter: year*4 + quarter-1,
year: the year), so ranges are plain integer ranges and labels are derived, never parsed twice."""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask_babel import gettext as _

from portal import clock
from portal.errors import ValidationFailed

MAX_PERIODS = 120
MIN_YEAR, MAX_YEAR = 1970, 9998  # the end of the last period must still be a datetime
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})-[Qq]([0-9])")
_YEAR = re.compile(r"([0-9]{4})")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


@dataclass(frozen=True)
class Period:
    frequency: str
    ordinal: int

    @property
    def label(self) -> str:
        if self.frequency == "month":
            return f"{self.ordinal // 12:04d}-{self.ordinal % 12 + 1:02d}"
        if self.frequency == "quarter":
            return f"{self.ordinal // 4:04d}-Q{self.ordinal % 4 + 1}"
        return f"{self.ordinal:04d}"

    @property
    def first_day(self) -> date:
        """The local date the period starts on."""
        if self.frequency == "month":
            return date(self.ordinal // 12, self.ordinal % 12 + 1, 1)
        if self.frequency == "quarter":
            return date(self.ordinal // 4, 3 * (self.ordinal % 4) + 1, 1)
        return date(self.ordinal, 1, 1)

    @property
    def start(self) -> datetime:
        """The UTC instant the period starts (local midnight of its first day)."""
        return local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """The UTC instant the next period starts (exclusive end)."""
        return Period(self.frequency, self.ordinal + 1).start


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=clock.zone()).astimezone(timezone.utc)


def containing(frequency: str, day: date) -> Period:
    """The period of `frequency` that holds the local date `day`."""
    if frequency == "month":
        return Period(frequency, day.year * 12 + day.month - 1)
    if frequency == "quarter":
        return Period(frequency, day.year * 4 + (day.month - 1) // 3)
    return Period(frequency, day.year)


def current(frequency: str) -> Period:
    return containing(frequency, clock.today())


def _span(text) -> tuple[date, date] | None:
    """The local dates [first, last] a period text or a date covers; None when it is none.
    Any of YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY is taken whatever the objective's frequency,
    so a monthly range can be asked of a quarterly objective (its quarters that overlap)."""
    if isinstance(text, date):
        return text, text
    if not isinstance(text, str):
        return None
    text = text.strip()
    try:
        if m := _DAY.fullmatch(text):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return day, day
        if m := _MONTH.fullmatch(text):
            year, month = int(m[1]), int(m[2])
            first = date(year, month, 1)
            return first, first + _month_length(year, month)
        if m := _QUARTER.fullmatch(text):
            year, quarter = int(m[1]), int(m[2])
            if not 1 <= quarter <= 4:
                return None
            first = date(year, 3 * quarter - 2, 1)
            last_month = 3 * quarter
            return first, date(year, last_month, 1) + _month_length(year, last_month)
        if m := _YEAR.fullmatch(text):
            year = int(m[1])
            return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None
    return None


def _month_length(year: int, month: int) -> timedelta:
    """Days to add to the 1st of the month to reach its last day."""
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - date(year, month, 1) - timedelta(days=1)


def period_range(frequency: str, first, last) -> list[Period]:
    """The periods of `frequency` from the one holding `first` to the one holding `last`;
    422 with per-field messages for a malformed period, an inverted or too long range."""
    errors = {}
    spans = {}
    for name, value in (("from", first), ("to", last)):
        span = _span(value)
        if span is None:
            errors[name] = _("a period YYYY-MM, YYYY-Qn or YYYY (or a date YYYY-MM-DD)")
        elif not MIN_YEAR <= span[0].year <= MAX_YEAR:
            errors[name] = _("a year between %(low)d and %(high)d", low=MIN_YEAR, high=MAX_YEAR)
        else:
            spans[name] = span
    if not errors:
        start = containing(frequency, spans["from"][0])
        end = containing(frequency, spans["to"][1])
        if end.ordinal < start.ordinal:
            errors["to"] = _("must not be before from")
        elif end.ordinal - start.ordinal + 1 > MAX_PERIODS:
            errors["to"] = _("at most %(limit)d periods at a time", limit=MAX_PERIODS)
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ValidationFailed(_("Invalid period range: %(detail)s", detail=detail), code="bad_period",
                               fields=errors)
    return [Period(frequency, n) for n in range(start.ordinal, end.ordinal + 1)]


def last_periods(frequency: str, count: int = 12) -> list[Period]:
    """The `count` periods up to and including the current one."""
    now = current(frequency)
    return [Period(frequency, n) for n in range(now.ordinal - count + 1, now.ordinal + 1)]
