"""Management review rules (管理评审, QP0101): the plan, the meeting that freezes the inputs,
the outputs tracked to completion, and the chair's approval with the conclusion.

planned → held (hold: inputs frozen with their SHA-256) → closed (approve: the chair, with
password). Outputs are decided in the meeting: recorded while held, completed by their owners
whenever they are done, before or after the approval."""
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _

from portal import clock, numbering
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.accounts.permissions import require_writer
from portal.audit.access import lock_row
from portal.documents.workflow import add_months
from portal.errors import InvalidState, NotAllowed
from portal.extensions import db
from portal.management_review import inputs as review_inputs
from portal.management_review.models import ManagementReview, ReviewOutput
from portal.management_review.queries import is_overdue, may_organise
from portal.notifications.services import notify
from portal.search.outbox import enqueue
from portal.trail import services as trail
from portal.validation import Fields

NUMBER_PATTERN = "MR-{yyyy}-{seq:2}"
# Organised by the 管理者代表 (an approver) or the document controller; chaired by top management.
ORGANISERS = ("admin", "controller", "approver")
TEXT_MAX = 4000
MAX_MEMBERS = 50
MAX_PERIOD_DAYS = 3 * 366
EARLIEST = date(1970, 1, 1)
YEARS_AHEAD = 5
RETENTION_MONTHS = 36  # kept three years, like the QR0101-03 管理评审报告 (QP0101 5.6)
CONCLUSION_KEYS = ("suitable", "adequate", "effective")


def review_state(review: ManagementReview) -> dict:
    return {"number": review.number, "title": review.title, "state": review.state,
            "period_from": review.period_from, "period_to": review.period_to,
            "meeting_date": review.meeting_date, "chair": review.chair.username,
            "members": [u.username for u in review.members]}


def _link(review: ManagementReview) -> str:
    return f"/management-reviews/{review.id}"


def _latest_day() -> date:
    return clock.today() + timedelta(days=366 * YEARS_AHEAD)


def _in_range(f: Fields, name: str, day: date | None) -> date | None:
    if day is not None and not EARLIEST <= day <= _latest_day():
        f.fail(name, _("a date from %(first)s to %(last)s", first=EARLIEST.isoformat(),
                       last=_latest_day().isoformat()))
        return None
    return day


def _person(f: Fields, field: str, username) -> User | None:
    """An active account that takes part (never the read-only reviewer); None with a reason."""
    if not isinstance(username, str) or not username.strip():
        return None
    user = accounts.find_user(username.strip())
    if user is None:
        f.fail(field, _("unknown user %(name)s", name=username.strip()[:64]))
    elif not user.is_active or user.is_read_only:
        f.fail(field, _("%(name)s cannot take part in a management review", name=user.username))
    else:
        return user
    return None


# --- planning ----------------------------------------------------------------------------

def require_planner(actor) -> None:
    """The refusal of create_review, also checked before its form is shown."""
    require_writer(actor)
    if actor.role not in ORGANISERS:
        raise NotAllowed(_("Only a document controller or an approver may plan a management review."))


def create_review(actor, payload: dict) -> ManagementReview:
    """Plan a review: its period, meeting date, chair and members (a controller or an approver)."""
    require_planner(actor)
    f = Fields(payload)
    title = f.text("title", 300, required=True)
    first = _in_range(f, "period_from", f.day("period_from", required=True))
    last = _in_range(f, "period_to", f.day("period_to", required=True))
    meeting = _in_range(f, "meeting_date", f.day("meeting_date", required=True))
    if first and last and last < first:
        f.fail("period_to", _("before period_from"))
    elif first and last and (last - first).days >= MAX_PERIOD_DAYS:
        f.fail("period_to", _("a period of at most three years"))
    if first and meeting and meeting < first:
        f.fail("meeting_date", _("before period_from"))
    chair = _person(f, "chair", f.text("chair", 64, required=True))
    names = f.string_list("members", MAX_MEMBERS, 64, default=[]) or []
    members = [u for u in (_person(f, "members", name) for name in dict.fromkeys(names)) if u]
    f.done(_("Invalid management review."))
    number = numbering.next_number("management_review", NUMBER_PATTERN, "", None,
                                   datetime.combine(meeting, time(12), tzinfo=clock.zone()))
    review = ManagementReview(number=number, title=title, period_from=first, period_to=last,
                              meeting_date=meeting, chair=chair, state="planned",
                              members=list({u.id: u for u in members}.values()),
                              created_by=actor, created_at=clock.now())
    db.session.add(review)
    db.session.flush()
    trail.record(actor, "management_review.create", "management_review", review.id, None, review_state(review))
    notify([chair, *members], "management_review",
           _("Management review %(number)s %(title)s: meeting on %(day)s, period %(first)s to %(last)s.",
             number=number, title=title, day=meeting.isoformat(), first=first.isoformat(), last=last.isoformat()),
           _link(review))
    enqueue("management_review", review.id)
    db.session.commit()
    return review


def _require_organiser(actor, review: ManagementReview, what: str) -> None:
    require_writer(actor)
    if not may_organise(actor, review):
        raise NotAllowed(_("Only the chair, the organiser or a document controller may %(what)s.", what=what))


# --- the meeting ---------------------------------------------------------------------------

def hold_review(actor, review: ManagementReview) -> ManagementReview:
    """The meeting is held: the inputs are frozen as they are now, with their SHA-256."""
    _require_organiser(actor, review, _("hold the review"))
    lock_row(review)
    if review.state != "planned":
        raise InvalidState(_("Management review %(number)s is %(state)s; only a planned review is held.",
                             number=review.number, state=review.state), code="not_planned")
    frozen = review_inputs.compute(review)
    review.inputs, review.inputs_sha256 = frozen, review_inputs.sha256_of(frozen)
    review.state, review.held_at, review.held_by = "held", clock.now(), actor
    trail.record(actor, "management_review.hold", "management_review", review.id, {"state": "planned"},
                 {"state": "held", "inputs_sha256": review.inputs_sha256})
    enqueue("management_review", review.id)
    db.session.commit()
    return review


def add_output(actor, review: ManagementReview, payload: dict) -> ReviewOutput:
    """Record a decision of the meeting (评审输出) with its owner and due date."""
    _require_organiser(actor, review, _("record review outputs"))
    lock_row(review)
    if review.state != "held":
        message = (_("Outputs are decided in the meeting: hold the review first.") if review.state == "planned"
                   else _("Management review %(number)s is closed; its outputs are final.", number=review.number))
        raise InvalidState(message, code="review_not_held")
    f = Fields(payload)
    decision = f.text("decision", TEXT_MAX, required=True)
    owner = _person(f, "owner", f.text("owner", 64, required=True))
    due = _in_range(f, "due_date", f.day("due_date", required=True))
    if due and due < clock.today():
        f.fail("due_date", _("in the past"))
    f.done(_("Invalid review output."))
    output = ReviewOutput(review=review, decision=decision, owner=owner, due_date=due, state="open",
                          created_by=actor, created_at=clock.now())
    db.session.add(output)
    db.session.flush()
    trail.record(actor, "management_review.output_add", "management_review", review.id, None,
                 {"output_id": output.id, "decision": decision, "owner": owner.username, "due_date": due})
    notify([owner], "review_output",
           _("Management review %(number)s assigns you: %(decision)s (due %(due)s).",
             number=review.number, decision=decision[:200], due=due.isoformat()), _link(review))
    enqueue("management_review", review.id)
    db.session.commit()
    return output


def complete_output(actor, output: ReviewOutput, payload: dict) -> ReviewOutput:
    """The owner reports an output done, with what was done."""
    require_writer(actor)
    if actor.id != output.owner_id:
        raise NotAllowed(_("Only the owner of a review output may complete it."))
    lock_row(output)
    if output.state != "open":
        raise InvalidState(_("This review output is already completed."), code="output_not_open")
    f = Fields(payload)
    note = f.text("note", TEXT_MAX, required=True)
    f.done(_("Describe what was done."))
    late = is_overdue(output)
    output.state, output.completion_note, output.completed_at = "completed", note, clock.now()
    review = output.review
    trail.record(actor, "management_review.output_complete", "management_review", review.id,
                 {"output_id": output.id, "state": "open"},
                 {"output_id": output.id, "state": "completed", "note": note, "late": late})
    notify(_others(actor, [review.created_by, review.chair]), "review_output",
           _("Review output of %(number)s completed by %(name)s: %(decision)s",
             number=review.number, name=actor.display_name, decision=output.decision[:200]), _link(review))
    enqueue("management_review", review.id)
    db.session.commit()
    return output


# --- approval -----------------------------------------------------------------------------

def _conclusion(f: Fields) -> dict | None:
    raw = f.data.get("conclusion")
    if raw is None:
        f.fail("conclusion", _("required"))
        return None
    if not isinstance(raw, dict) or set(raw) != set(CONCLUSION_KEYS) \
            or not all(isinstance(raw[k], bool) for k in CONCLUSION_KEYS):
        f.fail("conclusion", _("an object {suitable, adequate, effective} of true or false"))
        return None
    return {k: raw[k] for k in CONCLUSION_KEYS}


def approve_review(actor, review: ManagementReview, payload: dict) -> ManagementReview:
    """The chair approves with password: the conclusion on suitability, adequacy and
    effectiveness and a summary; the review closes and is kept three years."""
    require_writer(actor)
    if actor.id != review.chair_id:
        raise NotAllowed(_("Only the chair of the review may approve it."))
    _require_held(review)
    f = Fields(payload)
    conclusion = _conclusion(f)
    summary = f.text("summary", TEXT_MAX, required=True)
    password = f.data.get("password")
    if not isinstance(password, str) or not password:
        f.fail("password", _("required"))
    f.done(_("Invalid approval."))
    if not accounts.verify_password(actor, password):
        raise NotAllowed(_("Wrong password."), code="wrong_password")
    lock_row(review)
    _require_held(review)
    today = clock.today()
    review.conclusion, review.summary, review.state = conclusion, summary, "closed"
    review.approved_at, review.retain_until = clock.now(), add_months(today, RETENTION_MONTHS)
    trail.record(actor, "management_review.approve", "management_review", review.id, {"state": "held"},
                 {"state": "closed", "conclusion": conclusion, "retain_until": review.retain_until}, summary)
    people = [review.created_by, *review.members, *(o.owner for o in review.outputs)]
    notify(_others(actor, people), "management_review",
           _("Management review %(number)s approved by %(name)s.", number=review.number,
             name=actor.display_name), _link(review))
    enqueue("management_review", review.id)
    db.session.commit()
    return review


def _others(actor, people: list) -> list:
    return [u for u in people if u.id != actor.id]


def _require_held(review: ManagementReview) -> None:
    if review.state != "held":
        raise InvalidState(_("Management review %(number)s is %(state)s; only a held review is approved.",
                             number=review.number, state=review.state), code="not_held")


def may_create(user) -> bool:
    return user is not None and not user.is_read_only and user.role in ORGANISERS
