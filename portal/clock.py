"""The portal's notion of now and today; tests move it with `freeze`."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

_frozen: datetime | None = None
_zone = ZoneInfo("Asia/Shanghai")


def configure(tz_name: str) -> None:
    """Set the local time zone in which 'today' and displayed times are computed."""
    global _zone
    _zone = ZoneInfo(tz_name)


def zone() -> ZoneInfo:
    """The portal's local time zone."""
    return _zone


def now() -> datetime:
    """Current time in UTC, timezone-aware."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def today() -> date:
    """Today's date in the portal's local time zone (effective dates are local)."""
    return now().astimezone(_zone).date()


def local(dt: datetime | None) -> datetime | None:
    """A stored UTC timestamp in local time, for display."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(_zone)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests only); None releases it."""
    global _frozen
    _frozen = at
