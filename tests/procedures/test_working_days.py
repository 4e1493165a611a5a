"""Working-day clocks on the company calendar across 国庆 2026: 10-01/02/05/06/07 are holidays,
Saturday 10-10 a make-up working day (调休). Expected values worked out by hand."""
import pytest


@pytest.fixture(autouse=True)
def _calendar(calendar):
    """Every test here counts on the shipped calendar."""


@pytest.mark.parametrize("days, due", [
    (1, "2026-10-08T16:00:00+00:00"),  # Thu 10-01 .. Wed 10-07 off: first working day Thu 10-08, 24:00 local
    (2, "2026-10-09T16:00:00+00:00"),  # Fri 10-09
    (3, "2026-10-10T16:00:00+00:00"),  # Sat 10-10, the make-up working day
    (4, "2026-10-12T16:00:00+00:00"),  # Sun 10-11 off: Mon 10-12
])
def test_due_working_days_across_the_national_day_holiday(now, staff, procedure, start, days, due):
    run = start(staff, procedure([{"name": "处理", "due_working_days": days}]))
    assert run["steps"][0]["due_at"] == due


def test_a_start_late_in_the_local_evening_counts_from_that_local_day(frozen, staff, procedure, start):
    from datetime import datetime, timezone

    frozen(datetime(2026, 10, 9, 17, 0, tzinfo=timezone.utc))  # Sat 10-10 01:00 in Shanghai
    run = start(staff, procedure([{"name": "处理", "due_working_days": 1}]))
    assert run["steps"][0]["due_at"] == "2026-10-12T16:00:00+00:00"  # Mon 10-12 (Sun off)
