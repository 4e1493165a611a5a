"""Objective values worked out by hand from the fixed runs and records of conftest.world.

Records (closed unless said; first_fix, score, department; local = UTC+8):
  Sep 30 23:59 local  否 50 A | Oct 5 是 90 A | Oct 20 否 70 A | Oct 25 是 100 B | Oct 28 是 10 A voided
  Nov 1 00:30 local (Oct 31 16:30 UTC) 是 80 A | Nov 10 否 60 B open | Dec 3 是 95 A
Runs (procedure with steps 0 and 1):
  r1 A closed Oct 10, on time | r2 A closed Oct 20, step 0 late | r3 B closed Nov 1 local, on time
  r4 A open, step 0 done Oct 15 on time | r5 cancelled, step 0 done late Oct 12 (never counts)"""
import pytest

from portal.objectives import services


def rows(obj, first, last, department=None):
    return {r["period"]: r for r in services.values(obj, first, last, department)}


def triple(row):
    return row["numerator"], row["denominator"], row["value"]


def test_count_by_month_leaves_out_voided_and_uses_local_month_boundaries(world, make):
    obj = make({"kind": "count", "form_id": world.form.id}, unit="count", target=2, name="服务单数")
    got = rows(obj, "2026-08", "2026-12")
    assert [got[p]["value"] for p in ("2026-08", "2026-09", "2026-10", "2026-11", "2026-12")] == [0, 1, 3, 2, 1]
    assert got["2026-10"]["met"] is True and got["2026-12"]["met"] is False
    assert list(got) == ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]


def test_field_ratio_counts_only_closed_records(world, make):
    obj = make({"kind": "field_ratio", "form_id": world.form.id, "field": "first_fix", "values": ["是"]},
               name="服务一次成功率", target=90)
    got = rows(obj, "2026-09", "2026-12")
    assert triple(got["2026-09"]) == (0, 1, 0)
    assert got["2026-10"]["numerator"] == 2 and got["2026-10"]["denominator"] == 3
    assert got["2026-10"]["value"] == pytest.approx(66.6667)
    assert triple(got["2026-11"]) == (1, 1, 100)  # the open record of 10 November is not measured
    assert triple(got["2026-12"]) == (1, 1, 100)
    assert [got[p]["met"] for p in got] == [False, False, True, True]


def test_field_ratio_of_a_checkbox(world, make):
    obj = make({"kind": "field_ratio", "form_id": world.form.id, "field": "ok", "values": [False]}, target=10,
               comparison="<=")
    got = rows(obj, "2026-10", "2026-10")
    assert triple(got["2026-10"]) == (1, 3, pytest.approx(33.3333))
    assert got["2026-10"]["met"] is False


def test_field_mean_is_sum_over_count(world, make):
    obj = make({"kind": "field_mean", "form_id": world.form.id, "field": "score"}, unit="score", target=85,
               name="客户满意度")
    got = rows(obj, "2026-08", "2026-12")
    assert triple(got["2026-08"]) == (0, 0, None) and got["2026-08"]["met"] is None
    assert triple(got["2026-10"]) == (260, 3, pytest.approx(86.6667))
    assert triple(got["2026-11"]) == (80, 1, 80)
    assert got["2026-10"]["met"] is True and got["2026-11"]["met"] is False


def test_on_time_whole_runs(world, make):
    obj = make({"kind": "on_time", "document_id": world.proc.id})
    got = rows(obj, "2026-09", "2026-11")
    assert triple(got["2026-09"]) == (0, 0, None)
    assert triple(got["2026-10"]) == (1, 2, 50)
    assert triple(got["2026-11"]) == (1, 1, 100)
    assert got["2026-10"]["met"] is False and got["2026-11"]["met"] is True


def test_on_time_of_one_step(world, make):
    first = make({"kind": "on_time", "document_id": world.proc.id, "step": 0})
    assert triple(rows(first, "2026-10", "2026-10")["2026-10"]) == (3, 4, 75)
    second = make({"kind": "on_time", "document_id": world.proc.id, "step": 1})
    got = rows(second, "2026-10", "2026-11")
    assert triple(got["2026-10"]) == (2, 2, 100) and triple(got["2026-11"]) == (1, 1, 100)


def test_department_narrows_records_and_runs(world, make):
    count = make({"kind": "count", "form_id": world.form.id}, unit="count", target=1)
    assert rows(count, "2026-10", "2026-10", "SH")["2026-10"]["value"] == 2
    assert rows(count, "2026-10", "2026-10", world.b)["2026-10"]["value"] == 1
    mean = make({"kind": "field_mean", "form_id": world.form.id, "field": "score"}, unit="score", target=1)
    assert triple(rows(mean, "2026-10", "2026-10", "SH")["2026-10"]) == (160, 2, 80)
    runs = make({"kind": "on_time", "document_id": world.proc.id})
    got = rows(runs, "2026-10", "2026-11", "ZL")
    assert triple(got["2026-10"]) == (0, 0, None) and triple(got["2026-11"]) == (1, 1, 100)
    assert got["2026-10"]["department"] == "ZL"


def test_the_objectives_department_is_the_default(world, make):
    obj = make({"kind": "count", "form_id": world.form.id}, unit="count", target=1, department="ZL")
    got = rows(obj, "2026-10", "2026-11")
    assert got["2026-10"]["value"] == 1 and got["2026-11"]["value"] == 1
    assert got["2026-10"]["department"] == "ZL"


def test_quarter_and_year(world, make):
    ratio = {"kind": "field_ratio", "form_id": world.form.id, "field": "first_fix", "values": ["是"]}
    quarterly = make(ratio, frequency="quarter", target=80)
    got = rows(quarterly, "2026-Q3", "2026-Q4")
    assert triple(got["2026-Q3"]) == (0, 1, 0)
    assert triple(got["2026-Q4"]) == (4, 5, 80) and got["2026-Q4"]["met"] is True
    # a month range is taken as the quarters that hold it
    assert list(rows(quarterly, "2026-08", "2026-10")) == ["2026-Q3", "2026-Q4"]
    yearly = make({"kind": "field_mean", "form_id": world.form.id, "field": "score"}, frequency="year",
                  unit="score", target=80)
    got = rows(yearly, "2025", "2026")
    assert triple(got["2025"]) == (0, 0, None)
    assert got["2026"]["numerator"] == 485 and got["2026"]["denominator"] == 6
    assert got["2026"]["value"] == pytest.approx(80.8333)
    count = make({"kind": "count", "form_id": world.form.id}, unit="count", target=1, frequency="year")
    assert rows(count, "2026", "2026")["2026"]["value"] == 7


@pytest.mark.parametrize("first, last, field", [
    ("2026-11", "2026-10", "to"), ("2026-13", "2026-12", "from"), ("2026-Q5", "2026-Q4", "from"),
    ("2026-10", "26-11", "to"), ("0000-01", "2026-01", "from"), ("2000-01", "2026-01", "to"),
    ("2026-10", None, "to"), ("2026-02-30", "2026-03", "from")])
def test_bad_period_ranges_are_422(world, make, first, last, field):
    from portal.errors import ValidationFailed

    obj = make({"kind": "count", "form_id": world.form.id}, unit="count", target=1)
    with pytest.raises(ValidationFailed) as exc:
        services.values(obj, first, last)
    assert field in exc.value.fields


def test_values_run_a_single_query(world, make, app):
    """Computed in the database: one grouped query however many periods."""
    from sqlalchemy import event

    from portal.extensions import db

    obj = make({"kind": "on_time", "document_id": world.proc.id})
    db.session.expire_all()
    obj = db.session.get(type(obj), obj.id)
    obj.department  # loaded before counting
    seen = []
    listener = lambda *a, **k: seen.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        services.values(obj, "2017-01", "2026-12")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len([s for s in seen if "procedure_run" in s]) == 1
