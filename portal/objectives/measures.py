"""What an objective measures, in SQL: per period, a numerator and a denominator counted from
runs and records in the database (portal.objectives.services.values is the one reader).

One query per call whatever the number of periods: the periods' UTC bounds are a small
table of rows (a CTE), and each of its rows counts its own range. Each count is a range of
one covering index (ix_procedure_run_on_time, ix_run_step_on_time, ix_record_form_created,
ix_record_value_measure), so a year of monthly values reads the measured rows from indexes,
never a table row or a record's JSON: at 100,000 runs a JSON parse per record alone costs
more than the whole answer may. PostgreSQL counts a numerator and a denominator over the
same rows in one pass (LATERAL, FILTER); SQLite, which has no LATERAL, counts each in its own
correlated subquery, which there is still cheaper than sorting the year's rows to group them."""
from sqlalchemy import Integer, and_, func, literal, or_, select, true, union_all

from portal.database import UTCDateTime
from portal.extensions import db
from portal.procedures.models import ProcedureRun, RunStep
from portal.records.models import Record, RecordValue

# One instance of each type: a type's part of the cache key is worked out once per instance.
_INDEX, _INSTANT = Integer(), UTCDateTime()


def _aggregate(measure: dict, periods: list, dept_id) -> dict[int, tuple]:
    """{period index: (numerator, denominator)} for every period."""
    kind = measure["kind"]
    bounds = _bounds(periods)
    counts = (_on_time_query if kind == "on_time" else _records_query)(measure, bounds, dept_id)
    totals = {}
    for bucket, numerator, *rest in db.session.execute(_per_period(bounds, counts)):
        denominator = rest[0] if rest else numerator  # a count is its own denominator
        numerator = round(float(numerator or 0), 6) if kind == "field_mean" else int(numerator or 0)
        totals[int(bucket)] = (numerator, int(denominator or 0))
    return totals


def _per_period(bounds, counts: list):
    """(i, the counts' columns in order) per period; `counts` are selects correlated to the
    period's bounds, each of one or two aggregates over the same rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        query = select(bounds.c.i).select_from(bounds)
        for n, count in enumerate(counts):
            counted = count.lateral(f"counted_{n}")
            query = query.join(counted, true()).add_columns(*counted.c)
        return query
    return select(bounds.c.i, *[count.with_only_columns(column).scalar_subquery()
                                for count in counts for column in count.selected_columns])


def _bounds(periods: list):
    """The periods as rows (i, low, high): UTC instants of local midnights, high exclusive.
    Rows of bound parameters rather than a VALUES list: SQLAlchemy caches the compiled form
    of these (by the number of periods), and compiling afresh costs more than counting."""
    rows = [select(literal(i, _INDEX).label("i"), literal(p.start, _INSTANT).label("low"),
                   literal(p.end, _INSTANT).label("high")) for i, p in enumerate(periods)]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).cte("period")


def _within(column_, bounds):
    return and_(column_ >= bounds.c.low, column_ < bounds.c.high)


def _on_time_query(measure: dict, bounds, dept_id):
    """A whole run counts in the period it closed in and is on time when none of its steps
    was completed after its due time (a step without a clock is never late; `late` is fixed
    when the run closes); cancelled runs never close, so never count. A single step counts in
    the period it was completed in, on time when completed by its due_at; steps of cancelled
    runs are left out, as their runs (the step's run_cancelled, copied when the run is)."""
    if "step" in measure:
        step = RunStep
        where = [step.document_id == measure["document_id"], step.index == measure["step"], step.state == "done",
                 _within(step.completed_at, bounds), step.run_cancelled.is_(False)]
        if dept_id is not None:
            where.append(step.run_department_id == dept_id)
        on_time = or_(step.due_at.is_(None), step.completed_at <= step.due_at)
        return [select(func.count().filter(on_time), func.count()).where(*where)]
    run = ProcedureRun
    where = [run.document_id == measure["document_id"], run.state == "closed", _within(run.closed_at, bounds)]
    if dept_id is not None:
        where.append(run.department_id == dept_id)
    return [select(func.count().filter(run.late.is_(False)), func.count()).where(*where)]


def _records_query(measure: dict, bounds, dept_id):
    """Records of the form issued (created_at) in the period. A count takes every record not
    voided; a share or a mean only closed ones (voided and disposed records are neither). A
    share's denominator is every closed record; its numerator and a mean read the field's
    values from record_value."""
    kind = measure["kind"]
    issued = [Record.form_id == measure["form_id"], _within(Record.created_at, bounds)]
    if dept_id is not None:
        issued.append(Record.department_id == dept_id)
    if kind == "count":
        return [select(func.count()).where(*issued, Record.status != "voided")]
    value = RecordValue
    where = [value.form_id == measure["form_id"], value.field == measure["field"], value.status == "closed",
             _within(value.created_at, bounds)]
    if dept_id is not None:
        where.append(value.department_id == dept_id)
    if kind == "field_mean":
        return [select(func.sum(value.number), func.count(value.number)).where(*where)]
    return [select(func.count()).where(*where, _matches(measure["values"])),
            select(func.count()).where(*issued, Record.status == "closed")]


def _matches(wanted: list):
    """The field's value is one of `wanted`, compared as the JSON type the values have: true
    and false with JSON booleans, numbers with JSON numbers, texts with JSON strings."""
    if all(isinstance(v, bool) for v in wanted):
        return RecordValue.flag.in_(wanted)
    if all(isinstance(v, (int, float)) for v in wanted):
        return RecordValue.number.in_([float(v) for v in wanted])
    return RecordValue.text.in_([str(v) for v in wanted])
