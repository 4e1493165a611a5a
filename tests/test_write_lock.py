"""Write transactions are short: a slow write (a long body being sanitised) holds no
write lock while it works, so other users' writes and the jobs round go through at once,
and a real conflict with it is a 409, not "database is locked" after the busy wait."""
import threading

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal import clock
from portal.accounts.models import Department
from portal.documents import services as documents
from portal.documents import workflow
from portal.extensions import db
from portal.jobs import run_jobs_once
from portal.notifications.services import notify
from factories import Api

SLOW = "慢速正文"  # only the slow request's body holds this
WAIT = 60  # seconds: a guard against hanging, never reached when the code is right


@pytest.fixture
def slow_sanitise(monkeypatch):
    """Sanitising a body that contains SLOW blocks until the test releases it."""
    entered, release = threading.Event(), threading.Event()
    real = documents.sanitize_html

    def sanitise(html):
        if SLOW in html:
            entered.set()
            assert release.wait(WAIT), "the test never released the slow write"
        return real(html)

    monkeypatch.setattr(documents, "sanitize_html", sanitise)
    yield entered, release
    release.set()


def in_thread(app, token: str, method: str, path: str, body: dict) -> tuple[threading.Thread, dict]:
    """Send one API request from another thread (its own client and app context)."""
    answer = {}

    def run():
        response = getattr(Api(app.test_client(), token), method)(path, json=body)
        answer.update(status=response.status_code, json=response.get_json())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, answer


def released_form(f, controller):
    form = f.document(controller, doc_type="form", title="产品维修记录表")
    rev = documents.start_revision(controller, form, {
        "body_html": "<p>表</p>", "change_summary": "首版发行",
        "fields": [{"name": "customer", "label": "客户名称", "type": "text"}]})
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    return form


def test_other_writes_and_the_jobs_go_through_while_a_slow_write_works(app, f, slow_sanitise):
    entered, release = slow_sanitise
    controller = f.user("controller")
    author = f.user("staff", department=controller.department_code)
    draft = f.draft(f.document(controller), author=author)
    form = released_form(f, controller)
    reader = f.user("staff")
    notify([reader], "test", "请阅读")
    db.session.commit()
    reader_api = f.api(reader)
    note_id = reader_api.get("/notifications").get_json()["items"][0]["id"]
    controller_api = f.api(controller)
    db.session.rollback()  # the test's own snapshot is no part of it
    slow, answer = in_thread(app, f.token(author), "patch", f"/revisions/{draft.id}",
                             {"body_html": f"<p>{SLOW}</p>"})
    assert entered.wait(WAIT)

    issued = controller_api.post(f"/documents/{form.id}/records", json={"data": {"customer": "某公司"}})
    assert issued.status_code == 201, issued.get_json()
    assert reader_api.post(f"/notifications/{note_id}/read").status_code == 200
    done = run_jobs_once(app)
    assert set(done) == {"activated", "review_reminders", "escalations", "action_reminders", "action_escalations",
                         "notifications"}  # no job failed
    assert not answer, "the slow write finished before the others: nothing was proved"

    release.set()
    slow.join(WAIT)
    assert answer["status"] == 200, answer
    assert SLOW in answer["json"]["body_html"]


def test_a_real_conflict_with_a_slow_write_is_409(app, f, slow_sanitise):
    entered, release = slow_sanitise
    controller = f.user("controller")
    doc = f.document(controller)
    f.effective(doc)
    controller_api = f.api(controller)
    db.session.rollback()
    first, answer = in_thread(app, f.token(controller), "post", f"/documents/{doc.id}/revisions",
                              {"body_html": f"<p>{SLOW}</p>", "change_summary": "改版",
                               "change_reason": "慢"})
    assert entered.wait(WAIT)

    other = controller_api.post(f"/documents/{doc.id}/revisions", json={
        "body_html": "<p>快</p>", "change_summary": "改版", "change_reason": "快"})
    assert other.status_code == 201, other.get_json()

    release.set()
    first.join(WAIT)
    assert answer["status"] == 409, answer
    assert answer["json"]["error"]["code"] == "open_revision_exists"
    db.session.rollback()
    assert [r.state for r in doc.revisions].count("draft") == 1


def test_a_read_transaction_that_starts_writing_after_another_commit_succeeds(app, f):
    """WAL: a read transaction cannot upgrade once another connection committed
    (SQLITE_BUSY_SNAPSHOT, "database is locked" at once); the write must not depend on it."""
    f.department("R1")
    db.session.commit()
    db.session.get(Department, 1)  # this session's transaction now holds a snapshot
    with Session(db.engine) as other:  # another connection commits meanwhile
        other.add(Department(code="R2", name="另一部门"))
        other.commit()
    f.department("R3")  # and this session writes on: no stale snapshot to upgrade
    assert {d.code for d in db.session.query(Department)} >= {"R1", "R2", "R3"}


@pytest.fixture
def statements(app):
    """Every BEGIN, COMMIT and ROLLBACK on the engine, and markers the test adds."""
    log = []
    engine = db.engine

    def on_sql(_conn, _cursor, statement, *_args):
        if statement.split()[0].upper() in ("BEGIN", "COMMIT"):
            log.append(" ".join(statement.split()[:2]).upper())

    listeners = [("before_cursor_execute", on_sql),
                 ("commit", lambda _conn: log.append("COMMIT")),
                 ("rollback", lambda _conn: log.append("ROLLBACK"))]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    yield log
    for name, fn in listeners:
        event.remove(engine, name, fn)


def test_no_sanitising_and_no_rendering_inside_a_write_transaction(app, f, statements, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite write lock")
    import portal.database

    controller = f.user("controller")
    author = f.user("staff", department=controller.department_code)
    draft = f.draft(f.document(controller), author=author)
    api = f.api(author)
    real_sanitise, real_lock = documents.sanitize_html, portal.database._take_write_lock
    monkeypatch.setattr(documents, "sanitize_html",
                        lambda html: statements.append("SANITISE") or real_sanitise(html))
    monkeypatch.setattr(portal.database, "_take_write_lock",
                        lambda *a: statements.append("WRITE LOCK") or real_lock(*a))
    db.session.rollback()
    statements.clear()

    assert api.patch(f"/revisions/{draft.id}", json={"body_html": "<p>新正文</p>"}).status_code == 200

    log = statements
    starts = [i for i, entry in enumerate(log) if entry in ("BEGIN IMMEDIATE", "WRITE LOCK")]
    ends = [next(i for i in range(start, len(log)) if log[i] in ("COMMIT", "ROLLBACK"))
            for start in starts]
    assert all("SANITISE" not in log[start:end] for start, end in zip(starts, ends)), log
    saved = starts.index(log.index("WRITE LOCK"))
    assert log.index("SANITISE") < starts[saved], log  # the edit's write came after the work
    assert starts[-1] == starts[saved], log  # and the answer was rendered without the lock
    assert "BEGIN" in log[ends[saved]:], log
