"""The migration that added record_value, a run's lateness and a step's copy of its run
(procedure, department, cancelled) fills them for the rows already there exactly as the models
fill them for new rows: the world's rows (services and direct ORM writes) are taken back to
the schema before it and forward again."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from portal.extensions import db
from portal.procedures.models import ProcedureRun, RunStep
from portal.records import services as records
from portal.records.models import RecordValue

BEFORE = "ffbc537015c6"


def derived() -> dict:
    values = db.session.execute(select(RecordValue)).scalars()
    return {
        "values": sorted((v.record_id, v.field, v.form_id, v.status, v.created_at, v.department_id, v.number,
                          v.text, v.flag) for v in values),
        "late": sorted(db.session.execute(select(ProcedureRun.id, ProcedureRun.late)).all()),
        "run": sorted(db.session.execute(select(RunStep.id, RunStep.document_id, RunStep.run_department_id,
                                                RunStep.run_cancelled)).all()),
    }


def test_the_backfill_gives_what_the_models_give(app, world):
    for data in ({"score": 87.5, "note": "长" * 201, "ok": False}, {"first_fix": "是", "note": "短"}):
        records.close_record(world.staff, records.issue_record(world.staff, world.form, {"data": data}))
    expected = derived()
    assert len(expected["values"]) > 30 and {late for _, late in expected["late"]} == {True, False, None}
    db.session.remove()  # no open transaction may hold the tables the migration alters
    directory = app.extensions["migrate"].directory
    try:
        downgrade(directory=directory, revision=BEFORE)
    finally:
        upgrade(directory=directory)
    assert derived() == expected
