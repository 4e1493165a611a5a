"""The inputs of a management review (管理评审输入, ISO 9001 9.3.2), computed from the data
of its period, never typed in.

The inputs are a management summary of the whole system, so they are computed over all data,
whoever asks. They hold counts, and the codes or numbers of the objects behind them (audits,
forms, the previous review's outputs) as evidence references; `as_seen_by` replaces the
references a reader may not see (a confidential form's code, an audit not yet reported to a
certification-body reviewer) with `restricted`, keeping the counts. The SHA-256 of a held
review is over the stored inputs, so it can be recomputed by whoever sees all of them.

The period is taken as the objectives take theirs: from local midnight of `period_from` to
local midnight after `period_to` (UTC instants). Counts of state (open actions, overdue
reviews) are as of the moment of computation: the day of the meeting, once held.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select

from portal import clock
from portal.audit.models import CLASSIFICATIONS, Audit, CorrectiveAction, Finding
from portal.audit.queries import REPORTED, can_view_audit
from portal.change_requests.models import ChangeRequest
from portal.documents.models import Document, PeriodicReview, Revision
from portal.documents.queries import can_view_document
from portal.extensions import db
from portal.management_review.models import ManagementReview
from portal.management_review.queries import can_view_review, previous_review
from portal.objectives.models import Objective
from portal.objectives.periods import local_midnight
from portal.objectives.services import values_for_periods
from portal.procedures.models import ProcedureRun, RunStep
from portal.records.models import Record

# A form keeps complaints (or satisfaction surveys) when its title or code holds one of these.
COMPLAINT_WORDS = ("投诉", "客诉", "complaint")
SATISFACTION_WORDS = ("满意", "satisfaction")
FINISHED_RUN = ("closed", "cancelled")


@dataclass(frozen=True)
class Window:
    """The review period in the shape the objectives' computation reads a period in
    (`values_for_periods` uses only `start`, `end` and `label`)."""

    start: datetime
    end: datetime
    label: str


def window(period_from: date, period_to: date) -> Window:
    return Window(local_midnight(period_from), local_midnight(date.fromordinal(period_to.toordinal() + 1)),
                  f"{period_from.isoformat()}..{period_to.isoformat()}")


def canonical_json(inputs: dict) -> str:
    return json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_of(inputs: dict) -> str:
    return hashlib.sha256(canonical_json(inputs).encode("utf-8")).hexdigest()


def compute(review: ManagementReview) -> dict:
    """Every input of the review, as plain JSON values (the frozen form is exactly this)."""
    span, today = window(review.period_from, review.period_to), clock.today()
    audits = _audits(review.period_from, review.period_to)
    previous = previous_review(review)
    return {
        "period": {"from": review.period_from.isoformat(), "to": review.period_to.isoformat()},
        "computed_at": clock.now().isoformat(timespec="seconds"), "as_of": today.isoformat(),
        "audits": audits,
        "findings": {c: sum(a["findings"][c] for a in audits) for c in CLASSIFICATIONS},
        "audits_not_reported": _audits_not_reported(review.period_from, review.period_to),
        "actions": _actions(span, today),
        "objectives": _objectives(span),
        "complaints": _complaints(span),
        "satisfaction": _satisfaction(span),
        "documents": _documents(span, today),
        "previous_review": ({"id": previous.id, "number": previous.number,
                             "meeting_date": previous.meeting_date.isoformat()} if previous else None),
        "previous_outputs": [_output(o, today) for o in previous.outputs] if previous else [],
    }


def _audits(first: date, last: date) -> list[dict]:
    """Audits of the period (by planned start) whose results exist: reported or closed."""
    audits = db.session.execute(
        select(Audit).where(Audit.planned_start >= first, Audit.planned_start <= last, Audit.state.in_(REPORTED))
        .order_by(Audit.planned_start, Audit.number)).scalars().all()
    counts = {(audit_id, cls): n for audit_id, cls, n in db.session.execute(
        select(Finding.audit_id, Finding.classification, func.count(Finding.id))
        .where(Finding.audit_id.in_([a.id for a in audits]))
        .group_by(Finding.audit_id, Finding.classification))}
    return [{"id": a.id, "number": a.number, "title": a.title, "state": a.state,
             "planned_start": a.planned_start.isoformat(),
             "findings": {c: counts.get((a.id, c), 0) for c in CLASSIFICATIONS}} for a in audits]


def _audits_not_reported(first: date, last: date) -> int:
    return db.session.execute(select(func.count(Audit.id)).where(
        Audit.planned_start >= first, Audit.planned_start <= last, Audit.state.not_in(REPORTED))).scalar()


def _actions(span: Window, today: date) -> dict:
    """Corrective actions alive during the period (raised before its end, not closed before
    its start), by their state now; `not_effective`: found not effective at a verification."""
    action = CorrectiveAction
    alive = [action.created_at < span.end, or_(action.closed_at.is_(None), action.closed_at >= span.start)]

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(select(
        func.count(action.id), count(action.state == "open"), count(action.state == "completed"),
        count(action.state == "closed"), count((action.state == "open") & (action.due_date < today)),
        count(or_(action.verified_effective.is_(False), action.reopened_count > 0)),
        count(action.created_at >= span.start)).where(*alive)).one()
    names = ("total", "open", "completed", "closed", "overdue", "not_effective", "raised")
    return {name: int(value) for name, value in zip(names, row)}


def _objectives(span: Window) -> list[dict]:
    """One value per active objective over exactly the review period: the objectives' own
    computation (`values_for_periods`) asked for a single period that is the review window,
    so a monthly and a quarterly objective are both measured on what happened in the period,
    numerators and denominators summed over it (a yearly one is not cut to its calendar year)."""
    out = []
    for obj in db.session.execute(select(Objective).where(Objective.active.is_(True))
                                  .order_by(Objective.id)).scalars():
        row = values_for_periods(obj, [span])[0]
        out.append({"id": obj.id, "name": obj.name, "unit": obj.unit, "comparison": obj.comparison,
                    "target": obj.target, "value": row["value"], "met": row["met"],
                    "numerator": row["numerator"], "denominator": row["denominator"]})
    return out


def _forms_marked(words) -> list[Document]:
    marks = [func.lower(column).contains(word.lower()) for word in words
             for column in (Document.title, Document.code)]
    return list(db.session.execute(select(Document).where(Document.doc_type == "form", or_(*marks))
                                   .order_by(Document.code)).scalars())


def _issued_in(span: Window):
    return [Record.created_at >= span.start, Record.created_at < span.end, Record.status != "voided"]


def _form_counts(forms: list[Document], counts: dict) -> list[dict]:
    return [{"id": form.id, "code": form.code, "title": form.title, "count": counts.get(form.id, 0)}
            for form in forms]


def _complaints(span: Window) -> dict:
    """Complaint records issued in the period (voided ones never count). A complaint is closed
    when its record is closed and, if a step of a procedure run issued it, that run has ended.
    It was handled on time when the clock that timed it says so: for a record issued by a run,
    the run's (no step completed after its due time, the rule of the on-time objectives); for
    one filled in outside any run, the record's own word (no 逾期 box checked, no reply date
    after the promised one)."""
    forms = _forms_marked(COMPLAINT_WORDS)
    rows = db.session.execute(
        select(Record.id, Record.form_id, Record.status, Record.data, ProcedureRun.id, ProcedureRun.state)
        .outerjoin(RunStep, RunStep.record_id == Record.id)
        .outerjoin(ProcedureRun, ProcedureRun.id == RunStep.run_id)
        .where(Record.form_id.in_([f.id for f in forms]), *_issued_in(span))).all()
    run_ids = {row[4] for row in rows if row[4] is not None}
    late_runs = set(db.session.execute(select(RunStep.run_id).where(
        RunStep.run_id.in_(run_ids), RunStep.completed_at > RunStep.due_at)).scalars()) if run_ids else set()
    seen, counts, closed, on_time = set(), {}, 0, 0
    for record_id, form_id, status, data, run_id, run_state in rows:
        if record_id in seen:
            continue
        seen.add(record_id)
        counts[form_id] = counts.get(form_id, 0) + 1
        if status in ("closed", "disposed") and (run_id is None or run_state in FINISHED_RUN):
            closed += 1
            on_time += not (run_id in late_runs if run_id is not None else _says_late(data or {}))
    total = len(seen)
    return {"forms": _form_counts(forms, counts), "total": total, "closed": closed, "on_time": on_time,
            "on_time_share": round(100 * on_time / total, 1) if total else None}


def _says_late(data: dict) -> bool:
    """The 客户投诉处理报告单's own word: its 逾期 box, or a reply after the promised date."""
    promised, replied = data.get("promised_reply_date"), data.get("reply_date")
    late_reply = isinstance(promised, str) and isinstance(replied, str) and replied > promised
    return data.get("overdue") is True or late_reply


def _satisfaction(span: Window) -> dict:
    """Customer satisfaction surveys issued in the period (their scores are measured by the
    satisfaction objectives)."""
    forms = _forms_marked(SATISFACTION_WORDS)
    counts = dict(db.session.execute(select(Record.form_id, func.count(Record.id)).where(
        Record.form_id.in_([f.id for f in forms]), *_issued_in(span)).group_by(Record.form_id)).all())
    return {"forms": _form_counts(forms, counts), "total": sum(counts.values())}


def _documents(span: Window, today: date) -> dict:
    def count(query):
        return db.session.execute(query).scalar() or 0

    return {
        "released": count(select(func.count(Revision.id)).where(
            Revision.released_at >= span.start, Revision.released_at < span.end)),
        "overdue_reviews": count(select(func.count(Document.id)).where(
            Document.status == "effective", Document.next_review_due < today)),
        "reviews_done": count(select(func.count(PeriodicReview.id)).where(
            PeriodicReview.signed_at >= span.start, PeriodicReview.signed_at < span.end)),
        "change_requests": count(select(func.count(ChangeRequest.id)).where(
            ChangeRequest.created_at >= span.start, ChangeRequest.created_at < span.end)),
        "change_requests_implemented": count(select(func.count(ChangeRequest.id)).where(
            ChangeRequest.implemented_at >= span.start, ChangeRequest.implemented_at < span.end)),
    }


def _output(output, today: date) -> dict:
    return {"id": output.id, "decision": output.decision, "owner": output.owner.username,
            "owner_name": output.owner.display_name, "due_date": output.due_date.isoformat(),
            "state": output.state, "overdue": output.state == "open" and output.due_date < today,
            "completed_at": output.completed_at.isoformat(timespec="seconds") if output.completed_at else None}


# --- what one reader sees ------------------------------------------------------------------

RESTRICTED_AUDIT = {"id": None, "number": None, "title": None, "restricted": True}
RESTRICTED_FORM = {"id": None, "code": None, "title": None, "restricted": True}


def as_seen_by(user, inputs: dict | None) -> dict | None:
    """`inputs` with the references `user` may not see replaced by `restricted` (the counts
    stay: they are the summary). The stored inputs are never changed."""
    if not inputs:
        return inputs
    out = dict(inputs)
    out["audits"] = [a if _sees(user, Audit, a.get("id"), can_view_audit) else {**a, **RESTRICTED_AUDIT}
                     for a in inputs.get("audits") or []]
    for key in ("complaints", "satisfaction"):
        block = inputs.get(key)
        if isinstance(block, dict):
            out[key] = {**block, "forms": [
                f if _sees(user, Document, f.get("id"), can_view_document) else {**f, **RESTRICTED_FORM}
                for f in block.get("forms") or []]}
    previous = inputs.get("previous_review")
    if previous and not _sees(user, ManagementReview, previous.get("id"), can_view_review):
        out["previous_review"] = {**previous, "id": None, "number": None, "restricted": True}
        out["previous_outputs"] = [{**o, "id": None, "decision": None, "restricted": True}
                                   for o in inputs.get("previous_outputs") or []]
    return out


def _sees(user, model, object_id, rule) -> bool:
    obj = db.session.get(model, object_id) if isinstance(object_id, int) and not isinstance(object_id, bool) else None
    return obj is not None and rule(user, obj)
