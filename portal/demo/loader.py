"""`portal demo`: departments, users and documents from the seeds, taken through the real workflow."""
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from portal import clock
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.demo import catalog
from portal.documents import services, workflow
from portal.documents.models import Document
from portal.extensions import db

DEMO_PASSWORD = "Portal#2026"
CONTENT = Path(__file__).parent / "content"
# Days before the effective date on which each workflow step happened.
STEP_OFFSETS = {"create": -12, "submit": -9, "review": -6, "approve": -4, "release": -2}
# The day the demo is loaded on, read before the clock is frozen in the demo's past: open drafts
# and the reviewer's expiry are relative to it, not to whatever day a replayed step is frozen at.
_load_day: date | None = None


def load_demo() -> str:
    """Load the demo once; a second call leaves the data as it is."""
    from portal.demo.audit import audit_steps
    from portal.demo.change_requests import change_request_steps
    from portal.demo.programme import programme_steps
    from portal.demo.management_review import review_steps
    from portal.demo.runs import run_steps

    global _load_day
    if db.session.execute(select(User).where(User.username == "wenkong")).first():
        return "demo data already loaded"
    _load_day = clock.today()
    try:
        _load_accounts()
        steps = []
        for spec in catalog.DOCUMENTS:
            steps.extend(_document_steps(spec))
        steps.extend(_form_steps())
        steps.extend(distribution_steps())
        steps.extend(programme_steps())  # the auditors' qualifications come before any audit
        steps.extend(audit_steps())
        steps.extend(change_request_steps())
        steps.extend(run_steps(_load_day))
        steps.extend(review_steps(_load_day))  # after the audits and runs its inputs come from
        for _at, _order, step in sorted(steps, key=lambda s: (s[0], s[1])):
            step()
    finally:
        clock.freeze(None)
    from portal.records.models import Record

    records = db.session.query(Record).count()
    return (f"demo loaded: {len(catalog.DEPARTMENTS)} departments, {len(catalog.USERS)} users, "
            f"{len(catalog.DOCUMENTS)} documents, {len(_form_specs())} forms, {records} records, "
            f"two internal audits; "
            f"every demo user's password is {DEMO_PASSWORD}")


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour)).replace(tzinfo=clock.zone())


def _load_accounts() -> None:
    clock.freeze(_at(date(2023, 1, 3)))
    for code, name in catalog.DEPARTMENTS:
        accounts.create_department("demo", code, name)
    for spec in catalog.USERS:
        # The certification-body reviewer's tour is time-limited: 30 days from today.
        expires = _load_day + timedelta(days=30) if spec["role"] == "external_reviewer" else None
        accounts.create_user("demo", spec["username"], DEMO_PASSWORD, spec["role"],
                             spec["department"], spec["name"], expires)


def _user(username: str) -> User:
    return accounts.user_by_username(username)


def _document_steps(spec: dict) -> list:
    """Timed steps for one document: registration and each revision's workflow."""
    first = spec["revisions"][0]
    start = date.fromisoformat(first["effective_date"]) if first["effective_date"] else _load_day
    created_at = _at(start + timedelta(days=STEP_OFFSETS["create"] - 3))
    steps = [(created_at, 0, lambda: _register(spec, created_at))]
    for index, rev in enumerate(spec["revisions"]):
        steps.extend(_revision_steps(spec["code"], rev, index))
    return steps


def _register(spec: dict, at: datetime) -> None:
    clock.freeze(at)
    data = {k: spec[k] for k in ("code", "title", "doc_type", "department", "clauses",
                                 "confidentiality", "review_period_months")}
    services.create_document(_user("wenkong"), data)


def _doc(code: str) -> Document:
    return db.session.execute(select(Document).where(Document.code == code)).scalar_one()


def _create_step(code: str, rev: dict, at: datetime):
    def create():
        clock.freeze(at)
        body = rev.get("body") or (CONTENT / rev["file"]).read_text("utf-8")
        data = {"body_html": body, "change_summary": rev["change_summary"],
                "change_reason": rev["change_reason"], "change_level": rev["change_level"]}
        if rev.get("steps"):
            data["steps"] = _steps_with_form_ids(catalog.STEPS[rev["steps"]])
        services.start_revision(_user(rev["author"]), _doc(code), data)
    return create


def _steps_with_form_ids(steps: list[dict]) -> list[dict]:
    """Catalogue steps name their form by code; a revision names it by id."""
    out = []
    for step in steps:
        step = dict(step)
        if "form" in step:
            step["form_id"] = _doc(step.pop("form")).id
        out.append(step)
    return out


def _submit_step(code: str, rev: dict, at: datetime):
    def submit():
        clock.freeze(at)
        workflow.submit_revision(_user(rev["author"]), _current(code),
                                 {"reviewers": rev["reviewers"], "approver": rev["approver"]})
    return submit


def _sign_step(code: str, meaning: str, username: str, at: datetime):
    def sign():
        clock.freeze(at)
        workflow.sign_revision(_user(username), _current(code), {
            "meaning": meaning, "decision": "accept",
            "comment": "同意" if meaning == "review" else "批准发布", "password": DEMO_PASSWORD})
    return sign


def _release_step(code: str, effective: date, at: datetime):
    def release():
        clock.freeze(at)
        workflow.release_revision(_user("wenkong"), _current(code), {"effective_date": effective.isoformat()})
    return release


def _activate_step(effective: date):
    def activate():
        clock.freeze(_at(effective, 0))
        workflow.activate_due_revisions(effective)
    return activate


def _revision_steps(code: str, rev: dict, index: int, create: bool = True) -> list:
    """Timed steps taking one catalogue revision as far as its `state` (default: effective)."""
    effective = date.fromisoformat(rev["effective_date"]) if rev["effective_date"] else None
    anchor = effective or _load_day  # open drafts and reviews began in the last fortnight
    final = rev.get("state", "effective")

    def when(step, hour=9):
        return _at(anchor + timedelta(days=STEP_OFFSETS[step]), hour)

    order = index * 10
    steps = [(when("create"), order + 1, _create_step(code, rev, when("create")))] if create else []
    if final == "draft":
        return steps
    steps.append((when("submit"), order + 2, _submit_step(code, rev, when("submit"))))
    if final == "in_review":
        return steps
    for i, name in enumerate(rev["reviewers"]):
        steps.append((when("review", 10 + i), order + 3, _sign_step(code, "review", name, when("review", 10 + i))))
    steps.append((when("approve", 15), order + 4, _sign_step(code, "approve", rev["approver"], when("approve", 15))))
    steps.append((when("release"), order + 5, _release_step(code, effective, when("release"))))
    steps.append((_at(effective, 0), order + 6, _activate_step(effective)))
    return steps


def _current(code: str):
    """The document's open revision (the one being worked on)."""
    from portal.documents.models import OPEN_STATES

    return next(r for r in _doc(code).revisions if r.state in OPEN_STATES)


FORMS_EFFECTIVE = date(2023, 3, 1)
# Who fills in each owner department's forms in the demo.
FILLERS = {"SH": "zhangwei", "YX": "wangfang", "SC": "liuyang", "ZB": "wenkong", "XZ": "wenkong",
           "YF": "liuyang"}


def _form_specs():
    from portal.records.form_loader import read_form_templates

    try:
        return read_form_templates()
    except Exception:  # a deployment without the form_templates folder still gets a demo
        return []


def _form_steps() -> list:
    """Every shipped form: registered, approved, effective 2023-03-01; then sample records."""
    specs = _form_specs()
    if not specs:
        return []
    revision = {"change_level": "major", "author": "wenkong", "reviewers": ["zhaoguoqiang"],
                "approver": "chenjianhua", "effective_date": FORMS_EFFECTIVE.isoformat()}
    steps = [(_at(FORMS_EFFECTIVE + timedelta(days=STEP_OFFSETS["create"])), 0, lambda: _load_forms(specs))]
    for spec in specs:
        steps.extend(_revision_steps(spec.code, revision, 0, create=False))  # load_forms drafts them
        steps.extend(_sample_record_steps(spec))
    return steps


def _load_forms(specs) -> None:
    from portal.records.form_loader import load_forms

    clock.freeze(_at(FORMS_EFFECTIVE + timedelta(days=STEP_OFFSETS["create"])))
    load_forms(_user("wenkong"), specs)


def _sample_record_steps(spec) -> list:
    """Issue each sample: the oldest in 2023 (past retention), the rest in 2025–2026."""
    steps = []
    for i, sample in enumerate(spec.samples):
        day = date(2023, 4 + i, 10) if i == 0 else date(2025, 1 + (3 * i + len(spec.code)) % 12, 5 + i)
        steps.extend(_issue_steps(spec, sample, day, i))
    return steps


def _issue_steps(spec, sample: dict, day: date, index: int) -> list:
    """Issue one sample at 10:00 (voiding the third at once) and close some at 16:00, as two
    steps so that whatever else the demo does that day in between keeps its place in time."""
    from portal.records import services as records

    filler = FILLERS.get(spec.meta["department"], "wenkong")
    issued = {}

    def issue():
        clock.freeze(_at(day, 10))
        issued["record"] = records.issue_record(_user(filler), _doc(spec.code), {"data": sample})
        if index == 2:
            records.void_record(_user("wenkong"), issued["record"], {"reason": "填写错误，重新开具"})

    def close():
        clock.freeze(_at(day, 16))
        records.close_record(_user(filler), issued["record"])

    steps = [(_at(day, 10), 100 + index, issue)]
    if index == 0 or index % 2 == 1:
        steps.append((_at(day, 16), 100 + index, close))
    return steps


EXTERNAL = {"code": "GB/T 19001-2016", "title": "质量管理体系 要求", "doc_type": "external", "department": "ZB",
            "clauses": ["ISO 9001:2015 4.1"], "external_source": "国家市场监督管理总局 国家标准化管理委员会",
            "external_edition": "2016", "received_on": "2023-01-05",
            "applicability": "公司质量管理体系全部过程"}


def _holder_member(holder: str) -> User | None:
    """Who signs for a copy: the user, or the first demo user of the department (if any)."""
    for spec in catalog.USERS:
        if spec["username"] == holder or spec["department"] == holder:
            return _user(spec["username"])
    return None


def _copies_of(code: str, label: str):
    from portal.documents.distribution import copies_of

    rev = next(r for r in _doc(code).revisions if r.label == label)
    return copies_of(rev)


def _issue_to_distribution(code: str, holders: list[str], day: date):
    def step():
        from portal.documents import distribution, services as docs

        clock.freeze(_at(day, 9))
        doc = _doc(code)
        docs.update_document(_user("wenkong"), doc, {"distribution": holders})
        distribution.issue_copy(_user("wenkong"), doc.current_revision, {"distribution": True})
    return step


def _acknowledge(code: str, label: str, day: date, skip: tuple = ()):
    def step():
        from portal.documents.distribution import acknowledge_copy

        clock.freeze(_at(day, 11))
        for copy in _copies_of(code, label):
            member = _holder_member(copy.holder_key)
            if copy.status == "issued" and copy.holder_key not in skip and member is not None:
                acknowledge_copy(member, copy)
    return step


def _recall(code: str, label: str, day: date, keep_out: tuple = ()):
    def step():
        from portal.documents.distribution import recall_copy

        clock.freeze(_at(day, 14))
        for copy in _copies_of(code, label):
            if copy.status in ("issued", "acknowledged") and copy.holder_key not in keep_out:
                recall_copy(_user("wenkong"), copy, {"outcome": "destroyed" if copy.holder_user else "returned",
                                                     "witness": "赵国强"})
    return step


def _review(code: str, username: str, day: date, comment: str):
    def step():
        from portal.documents.review import record_review

        clock.freeze(_at(day, 15))
        record_review(_user(username), _doc(code), {"outcome": "keep", "comment": comment, "password": DEMO_PASSWORD})
    return step


def _review_forms(day: date):
    """The controller reviewed every form in the 2026 annual review (so only procedures show overdue)."""
    def step():
        from portal.documents.review import record_review

        clock.freeze(_at(day, 16))
        for spec in _form_specs():
            record_review(_user("wenkong"), _doc(spec.code),
                          {"outcome": "keep", "comment": "年度表单评审：格式适用", "password": DEMO_PASSWORD})
    return step


def _register_external(day: date):
    def step():
        clock.freeze(_at(day, 9))
        services.create_document(_user("wenkong"), EXTERNAL)
    return step


def distribution_steps() -> list:
    """Copies out, hand-overs at each new revision, recalls (one left outstanding), an
    external standard, and one periodic review so the others show as overdue."""
    d = date
    everyone = [code for code, _name in catalog.DEPARTMENTS]
    external_rev = {"file": None, "change_level": "major", "change_summary": "收文登记", "change_reason": None,
                    "author": "wenkong", "reviewers": ["zhaoguoqiang"], "approver": "chenjianhua",
                    "effective_date": "2023-02-01", "body": "<p>外来标准，原件存质保部，受控使用。</p>"}
    steps = [(_at(d(2023, 1, 6)), 0, _register_external(d(2023, 1, 6)))]
    steps += _revision_steps(EXTERNAL["code"], external_rev, 0)
    steps += [
        (_at(d(2023, 2, 2)), 500, _issue_to_distribution(EXTERNAL["code"], ["ZB", "SH"], d(2023, 2, 2))),
        (_at(d(2023, 2, 3)), 501, _acknowledge(EXTERNAL["code"], "A/0", d(2023, 2, 3))),
        (_at(d(2023, 3, 2)), 500, _issue_to_distribution("QM-01", everyone, d(2023, 3, 2))),
        (_at(d(2023, 3, 2), 10), 500, _issue_to_distribution("QP-SH01", ["SH", "zhangwei"], d(2023, 3, 2))),
        (_at(d(2023, 3, 3)), 501, _acknowledge("QM-01", "A/0", d(2023, 3, 3))),
        (_at(d(2023, 3, 3), 12), 501, _acknowledge("QP-SH01", "A/0", d(2023, 3, 3))),
        (_at(d(2024, 5, 8)), 501, _acknowledge("QP-SH01", "A/1", d(2024, 5, 8))),
        (_at(d(2024, 5, 10)), 502, _recall("QP-SH01", "A/0", d(2024, 5, 10))),
        (_at(d(2024, 6, 17)), 501, _acknowledge("QM-01", "A/1", d(2024, 6, 17))),
        (_at(d(2024, 6, 20)), 502, _recall("QM-01", "A/0", d(2024, 6, 20))),
        (_at(d(2025, 3, 5)), 503, _review("QP0101", "zhaoguoqiang", d(2025, 3, 5), "程序仍适宜，继续执行")),
        (_at(d(2026, 2, 26)), 503, _review_forms(d(2026, 2, 26))),
        (_at(d(2025, 9, 2)), 501, _acknowledge("QM-01", "B/0", d(2025, 9, 2), skip=("SC", "YF"))),
        (_at(d(2025, 9, 10)), 502, _recall("QM-01", "A/1", d(2025, 9, 10), keep_out=("SC",))),
    ]
    return steps
