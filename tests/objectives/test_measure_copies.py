"""The copies the objective measures read from covering indexes (a record's scalar values in
record_value, a step's procedure and run department, a closed run's lateness) follow their
sources through every change, so that the values stay those of the records and runs."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from factories import PASSWORD
from portal.extensions import db
from portal.procedures.models import ProcedureRun, RunStep
from portal.records import retention
from portal.records import services as records
from portal.objectives import services
from portal.records.models import MEASURED_TEXT_CHARS, RecordValue, value_rows


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def rows(obj, first, last):
    return {r["period"]: r for r in services.values(obj, first, last)}


def triple(row):
    return row["numerator"], row["denominator"], row["value"]


def stored(rec) -> dict:
    values = db.session.execute(select(RecordValue).where(RecordValue.record_id == rec.id)).scalars()
    return {v.field: (v.status, v.number, v.text, v.flag) for v in values}


def test_value_rows_keep_numbers_booleans_and_short_texts():
    data = {"n": 3, "x": 2.5, "yes": True, "no": False, "t": "是", "long": "长" * (MEASURED_TEXT_CHARS + 1),
            "edge": "长" * MEASURED_TEXT_CHARS, "table": [{"a": 1}]}
    got = {r["field"]: (r["number"], r["text"], r["flag"]) for r in value_rows(1, 2, "closed", None, None, data)}
    assert got == {"n": (3.0, None, None), "x": (2.5, None, None), "yes": (None, None, True),
                   "no": (None, None, False), "t": (None, "是", None), "edge": (None, "长" * MEASURED_TEXT_CHARS, None)}
    assert value_rows(1, 2, "disposed", None, None, None) == []


def test_record_values_follow_issue_correction_close_and_void(world, make):
    mean = make({"kind": "field_mean", "form_id": world.form.id, "field": "score"}, unit="score", target=80)
    ratio = make({"kind": "field_ratio", "form_id": world.form.id, "field": "first_fix", "values": ["是"]})
    assert triple(rows(mean, "2026-12", "2026-12")["2026-12"]) == (95, 1, 95)
    rec = records.issue_record(world.staff, world.form, {"data": {"first_fix": "否", "score": 50, "note": "初填",
                                                                  "ok": True}})
    assert stored(rec) == {"first_fix": ("open", None, "否", None), "score": ("open", 50.0, None, None),
                           "note": ("open", None, "初填", None), "ok": ("open", None, None, True)}
    assert triple(rows(mean, "2026-12", "2026-12")["2026-12"]) == (95, 1, 95)  # open: not measured yet
    records.correct_record(world.staff, rec, {"reason": "笔误", "data": {"score": 70, "first_fix": "是",
                                                                        "note": ""}})
    assert stored(rec) == {"first_fix": ("open", None, "是", None), "score": ("open", 70.0, None, None),
                           "ok": ("open", None, None, True)}
    records.close_record(world.staff, rec)
    assert {v[0] for v in stored(rec).values()} == {"closed"}
    assert triple(rows(mean, "2026-12", "2026-12")["2026-12"]) == (165, 2, 82.5)
    assert triple(rows(ratio, "2026-12", "2026-12")["2026-12"]) == (2, 2, 100)
    records.void_record(world.controller, rec, {"reason": "重复"})
    assert {v[0] for v in stored(rec).values()} == {"voided"}
    assert triple(rows(mean, "2026-12", "2026-12")["2026-12"]) == (95, 1, 95)
    assert triple(rows(ratio, "2026-12", "2026-12")["2026-12"]) == (1, 1, 100)


def test_disposal_removes_the_values(world, make, f, frozen):
    rec = world.records[-1]  # closed, 3 December 2026, kept three years
    assert stored(rec)
    frozen(utc(2030, 1, 10, 4))
    retention.request_disposal(world.controller, rec, {"method": "碎纸销毁"})
    retention.approve_disposal(f.user("approver"), rec, {"password": PASSWORD})
    assert rec.status == "disposed" and stored(rec) == {}
    count = make({"kind": "count", "form_id": world.form.id}, unit="count", target=1)
    assert rows(count, "2026-12", "2026-12")["2026-12"]["value"] == 1  # a disposed record still counts


def test_ratio_compares_as_the_json_type_of_the_values(world, make):
    records.close_record(world.staff, records.issue_record(world.staff, world.form, {"data": {"score": 95}}))
    numbers = make({"kind": "field_ratio", "form_id": world.form.id, "field": "score", "values": [95, 100.0]})
    assert triple(rows(numbers, "2026-10", "2026-12")["2026-10"]) == (1, 3, pytest.approx(33.3333))
    assert triple(rows(numbers, "2026-10", "2026-12")["2026-12"]) == (2, 2, 100)


def test_a_steps_procedure_and_a_runs_lateness_are_fixed_by_the_model(world):
    """Runs written straight through the ORM (as conftest.world does) carry them too."""
    runs = db.session.execute(select(ProcedureRun).order_by(ProcedureRun.id)).scalars().all()
    assert [r.late for r in runs] == [False, True, False, None, None]
    steps = db.session.execute(select(RunStep.document_id, RunStep.run_department_id, RunStep.run_cancelled,
                                      ProcedureRun.department_id, ProcedureRun.state)
                               .join(ProcedureRun, ProcedureRun.id == RunStep.run_id)).all()
    assert len(steps) == 10 and {s.document_id for s in steps} == {world.proc.id}
    assert all(s.run_department_id == s.department_id for s in steps)
    assert [s.run_cancelled for s in steps] == [s.state == "cancelled" for s in steps]
    assert any(s.run_cancelled for s in steps)


def test_lateness_is_decided_when_the_run_closes_and_cleared_when_cancelled(world, frozen):
    run = world.runs[3]  # open, step 0 done on time, step 1 due 30 October, pending
    run.state, run.cancelled_at = "cancelled", utc(2026, 12, 15)
    db.session.commit()
    assert run.late is None and all(s.run_cancelled for s in run.steps)
    run.state = "open"  # as if it had never been cancelled: then step 1 is completed late
    db.session.commit()
    assert not any(s.run_cancelled for s in run.steps)
    step = run.steps[1]
    step.state, step.completed_at = "done", step.due_at + timedelta(minutes=1)
    run.state, run.closed_at = "closed", step.completed_at
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ProcedureRun, run.id).late is True


def test_one_step_narrowed_to_the_runs_department(world, make):
    first = make({"kind": "on_time", "document_id": world.proc.id, "step": 0})
    by_dept = {code: services.values(first, "2026-10", "2026-10", code)[0] for code in ("SH", "ZL")}
    assert triple(by_dept["SH"]) == (2, 3, pytest.approx(66.6667))  # the cancelled run's late step left out
    assert triple(by_dept["ZL"]) == (1, 1, 100)
