"""The company calendar (CONTRACT "Company calendar"): shipped by `portal init`, read by
everyone, corrected by the admin with a trail entry for every change; removed shipped days
stay removed; working-day clocks skip holidays and count make-up working days (调休)."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from factories import CSRF_RE
from portal import workdays
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.trail.models import TrailEntry
from portal.workdays import CalendarDay


@pytest.fixture
def shipped(app):
    """The shipped calendar as `portal init` loads it (the PostgreSQL test setup empties every
    table between tests, the SQLite template keeps what init loaded: load_calendar is idempotent)."""
    workdays.load_calendar()


def calendar_trail(day: int) -> list[TrailEntry]:
    return db.session.execute(select(TrailEntry).where(
        TrailEntry.object_type == "calendar", TrailEntry.object_id == day).order_by(TrailEntry.seq)).scalars().all()


def put(api, day, body):
    return api.client.put(f"/api/v1/calendar/{day}", json=body, headers=api._headers())


def delete(api, day):
    return api.client.delete(f"/api/v1/calendar/{day}", headers=api._headers())


def test_init_ships_the_national_day_holidays_and_make_up_days(shipped, f):
    days = {d.day: d for d in workdays.year_days(2026)}
    assert (days[date(2026, 10, 1)].kind, days[date(2026, 10, 1)].name) == ("holiday", "国庆节")
    assert days[date(2026, 10, 10)].kind == "workday" and days[date(2026, 10, 10)].source == "shipped"
    # Only exceptions are stored: 2026-10-03 is a Saturday off anyway
    assert date(2026, 10, 3) not in days
    assert workdays.load_calendar() == 0  # a second init adds nothing


def test_working_days_skip_a_holiday_and_count_a_make_up_day(shipped):
    # From Wed 2026-09-30: 10-01..10-07 are off, Thu 10-08 (1), Fri 10-09 (2), Sat 10-10 调休 (3),
    # Sun 10-11 off, Mon 10-12 (4).
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert workdays.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    # Fri 09-18: Sat 09-19 off, Sun 09-20 调休 is the first working day
    assert workdays.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    tz = workdays_zone()
    assert workdays.end_of_working_day(datetime(2026, 9, 30, 15, tzinfo=tz), 3) == datetime(2026, 10, 11, tzinfo=tz)


def workdays_zone():
    from portal import clock

    return clock.zone()


def test_admin_sets_and_removes_days_over_the_api_with_trail_entries(shipped, f):
    admin = f.user("admin")
    api = f.api(admin)
    answer = put(api, "2026-12-31", {"kind": "holiday", "name": "年终盘点"})
    assert answer.status_code == 200
    assert answer.get_json() == {"date": "2026-12-31", "kind": "holiday", "name": "年终盘点", "source": "admin"}
    assert workdays.add_working_days(date(2026, 12, 30), 1) > date(2026, 12, 31)  # Thu 12-31 is off now
    year = api.get("/calendar?year=2026").get_json()
    assert year["year"] == 2026 and {"date": "2026-12-31", "kind": "holiday", "name": "年终盘点",
                                     "source": "admin"} in year["days"]
    [entry] = calendar_trail(20261231)
    assert (entry.actor, entry.action, entry.before) == (admin.username, "calendar.set", None)
    assert entry.after["kind"] == "holiday"

    changed = put(api, "2026-10-01", {"kind": "holiday", "name": "国庆节（公司）"})
    assert changed.status_code == 200 and changed.get_json()["source"] == "admin"
    [entry] = calendar_trail(20261001)
    assert entry.before["name"] == "国庆节" and entry.before["source"] == "shipped"

    removed = delete(api, "2026-10-10")
    assert removed.status_code == 200
    assert removed.get_json() == {"date": "2026-10-10", "kind": "workday", "name": removed.get_json()["name"],
                                  "source": "shipped", "removed": True}
    [entry] = calendar_trail(20261010)
    assert (entry.action, entry.before["kind"], entry.after) == ("calendar.remove", "workday", None)
    assert "2026-10-10" not in {d["date"] for d in api.get("/calendar?year=2026").get_json()["days"]}
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 12)  # Sat 10-10 is off again
    assert delete(api, "2026-10-10").status_code == 404  # removed already
    assert delete(api, "2026-10-14").status_code == 404  # never an exception


def test_a_removed_shipped_day_stays_removed_after_init_again(shipped, f, cli):
    admin = f.user("admin")
    workdays.remove_day(admin, "2026-10-01")
    assert workdays.load_calendar() == 0
    assert date(2026, 10, 1) not in {d.day for d in workdays.year_days(2026)}
    assert workdays.exceptions_between(date(2026, 10, 1), date(2026, 10, 1)) == {}
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert date(2026, 10, 1) not in {d.day for d in workdays.year_days(2026)}
    # the admin may put it back; the row is reused, never a second one
    workdays.set_day(admin, "2026-10-01", "holiday", "国庆节")
    assert [d.kind for d in workdays.year_days(2026) if d.day == date(2026, 10, 1)] == ["holiday"]
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)
                             .where(CalendarDay.day == date(2026, 10, 1))) == 1


def test_the_plain_monday_to_friday_rule_is_not_stored(shipped, f):
    api = f.api(f.user("admin"))
    weekday = put(api, "2026-10-14", {"kind": "workday", "name": ""})
    assert weekday.status_code == 422 and weekday.get_json()["error"]["code"] == "not_an_exception"
    weekend = put(api, "2026-10-17", {"kind": "holiday"})
    assert weekend.status_code == 422
    assert weekend.get_json()["error"]["message"] == ("按周一至周五的规则，2026-10-17 本来就是休息日；"
                                                      "日历只保存例外（如需恢复，请删除该例外）。")
    # a shipped weekday holiday turned back into a working day is a removal, not a PUT
    assert put(api, "2026-10-01", {"kind": "workday"}).status_code == 422
    assert calendar_trail(20261014) == calendar_trail(20261017) == calendar_trail(20261001) == []


@pytest.mark.parametrize("day", ["2026-02-30", "2026-1-1x", "2026-13-01", "99999-01-01", "0001-01-01",
                                 "2026-W01-1", "２０２６-01-01", "1899-12-31", "2201-01-01"])
def test_bad_dates_are_refused(shipped, f, day):
    api = f.api(f.user("admin"))
    answer = put(api, day, {"kind": "holiday", "name": "x"})
    assert answer.status_code == 422, day
    assert answer.get_json()["error"]["fields"] == {"date": "an existing date YYYY-MM-DD"}
    assert delete(api, day).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(TrailEntry)
                             .where(TrailEntry.object_type == "calendar")) == 0


@pytest.mark.parametrize("body, field", [
    ({"name": "x"}, "kind"), ({"kind": "removed"}, "kind"), ({"kind": "Holiday"}, "kind"),
    ({"kind": ["holiday"]}, "kind"), ({"kind": "holiday", "name": 5}, "name"),
    ({"kind": "holiday", "name": "x" * 101}, "name"), ({"kind": "holiday", "name": "a\x07b"}, "name"),
    ({"kind": "holiday", "name": "a\nb"}, "name")])
def test_bad_bodies_are_refused(shipped, f, body, field):
    api = f.api(f.user("admin"))
    answer = put(api, "2026-12-31", body)
    assert answer.status_code == 422 and field in answer.get_json()["error"]["fields"]
    assert calendar_trail(20261231) == []
    assert put(api, "2026-12-31", None).status_code == 400  # no JSON object at all


@pytest.mark.parametrize("year", ["99999", "1899", "2201", "-1", "abc", "2026.0", "٢٠٢٦"])
def test_bad_years_are_400(shipped, f, year):
    answer = f.api(f.user("staff")).get(f"/calendar?year={year}")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_parameter"


def test_the_year_defaults_to_this_year(shipped, f, frozen):
    frozen(datetime(2025, 12, 31, 17))  # 2026-01-01 01:00 in Shanghai
    answer = f.api(f.user("staff")).get("/calendar").get_json()
    assert answer["year"] == 2026 and {"date": "2026-01-01", "kind": "holiday"}.items() <= answer["days"][0].items()


@pytest.mark.parametrize("role", ["staff", "controller", "approver", "auditor", "external_reviewer"])
def test_only_the_admin_changes_the_calendar(shipped, f, role):
    user = f.user(role)
    api = f.api(user)
    assert api.get("/calendar?year=2026").status_code == 200
    assert put(api, "2026-12-31", {"kind": "holiday", "name": "x"}).status_code == 403
    assert delete(api, "2026-10-01").status_code == 403
    with pytest.raises(NotAllowed):
        workdays.set_day(user, "2026-12-31", "holiday", "x")
    with pytest.raises(NotAllowed):
        workdays.remove_day(user, "2026-10-01")
    assert date(2026, 10, 1) in {d.day for d in workdays.year_days(2026)}
    assert calendar_trail(20261231) == calendar_trail(20261001) == []


def test_services_refuse_unknown_dates_and_an_unchanged_day_writes_no_entry(shipped, f):
    admin = f.user("admin")
    with pytest.raises(NotFound):
        workdays.remove_day(admin, date(2026, 10, 14))
    with pytest.raises(ValidationFailed):
        workdays.year_days(99999)
    workdays.set_day(admin, date(2026, 12, 31), "holiday", " 年终 ")
    workdays.set_day(admin, date(2026, 12, 31), "holiday", "年终")
    assert len(calendar_trail(20261231)) == 1


def _form_post(client, page, url, data):
    token = CSRF_RE.search(client.get(page).get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **data})


def test_admin_page_adds_and_removes_days(shipped, f, client):
    f.login(client, f.user("admin"))
    page = client.get("/calendar?year=2026").get_data(as_text=True)
    assert "国庆节" in page and "2026-10-10" in page and 'href="/calendar"' in client.get("/").get_data(as_text=True)
    saved = _form_post(client, "/calendar?year=2026", "/calendar", {"date": "2026-12-31", "kind": "holiday",
                                                                     "name": "年终盘点"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/calendar?year=2026")
    assert "年终盘点" in client.get("/calendar?year=2026").get_data(as_text=True)
    removed = _form_post(client, "/calendar?year=2026", "/calendar/2026-10-10/remove", {})
    assert removed.status_code == 302
    assert date(2026, 10, 10) not in {d.day for d in workdays.year_days(2026)}
    refused = _form_post(client, "/calendar?year=2026", "/calendar", {"date": "2026-02-30", "kind": "holiday"})
    assert refused.status_code == 302 and calendar_trail(20260230) == []
    assert client.get("/calendar?year=99999").status_code == 422


def test_staff_read_the_page_without_forms_and_cannot_post(shipped, f, client):
    f.login(client, f.user("staff"))
    page = client.get("/calendar?year=2026")
    assert page.status_code == 200 and "国庆节" in page.get_data(as_text=True)
    assert "/remove" not in page.get_data(as_text=True)
    _form_post(client, "/calendar?year=2026", "/calendar/2026-10-01/remove", {})
    assert date(2026, 10, 1) in {d.day for d in workdays.year_days(2026)}
    assert calendar_trail(20261001) == []


def test_the_page_needs_a_signed_in_user(client):
    assert client.get("/calendar").status_code == 302
