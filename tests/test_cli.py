"""The `portal` command line (CONTRACT.md "Command line"), run against the test's database."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from portal.accounts.models import Department, User
from portal.documents.models import Document, Revision, Signature
from portal.extensions import db
from portal.trail.models import TrailEntry

PG = bool(os.environ.get("PORTAL_TEST_DATABASE_URL"))


# --- helpers ---------------------------------------------------------------------------

def assert_ok(result) -> None:
    assert result.exit_code == 0, (result.exit_code, result.output, result.stderr, result.exception)


def assert_user_error(result) -> str:
    """Non-zero exit with exactly one line on stderr and no traceback; returns that line."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.output
    return lines[0]


def rows(model, *where) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def sql(statement: str) -> None:
    db.session.rollback()
    db.session.execute(text(statement))
    db.session.commit()


# --- init -------------------------------------------------------------------------------

def test_init_twice_is_idempotent(cli, tmp_path):
    """`portal init` creates the schema and clause catalogue; a second run changes nothing."""
    env = {}
    url = None
    if not PG:  # a brand-new SQLite file, so the first run really creates everything
        url = f"sqlite:///{tmp_path / 'fresh' / 'portal.db'}"
        (tmp_path / "fresh").mkdir()
        env = {"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path / "fresh")}

    def clause_count():
        if url is None:
            return db.session.execute(text("SELECT count(*) FROM clause")).scalar()
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM clause")).scalar()
        finally:
            engine.dispose()

    first = cli("init", env=env)
    assert_ok(first)
    after_first = clause_count()
    assert after_first > 0
    second = cli("init", env=env)
    assert_ok(second)
    assert clause_count() == after_first


# --- departments and users --------------------------------------------------------------

def test_create_department_and_duplicate(cli):
    """A duplicate department code ends non-zero with one line on stderr, no traceback."""
    assert_ok(cli("create-department", "SH", "售后服务部"))
    assert rows(Department, Department.code == "SH") == 1
    db.session.rollback()
    name = db.session.execute(select(Department.name).where(Department.code == "SH")).scalar_one()
    assert name == "售后服务部"
    line = assert_user_error(cli("create-department", "SH", "另一个部门"))
    assert "SH" in line
    assert rows(Department, Department.code == "SH") == 1


def test_create_department_with_bad_code(cli):
    """A department code that is not capitals/digits is refused in one line."""
    assert_user_error(cli("create-department", "售后", "售后服务部"))
    assert rows(Department) == 0


def test_create_user(cli):
    """create-user stores the account with its role, department, name and expiry."""
    assert_ok(cli("create-department", "ZB", "质量部"))
    assert_ok(cli("create-user", "wenkong", "--password", "Portal#2026", "--role", "controller",
                  "--department", "ZB", "--name", "王文控", "--expires", "2031-12-31"))
    db.session.rollback()
    user = db.session.execute(select(User).where(User.username == "wenkong")).scalar_one()
    assert (user.role, user.department_code, user.display_name) == ("controller", "ZB", "王文控")
    assert user.expires_on.isoformat() == "2031-12-31"


def test_create_user_with_unknown_department(cli):
    """An unknown --department is refused in one line and no account is created."""
    line = assert_user_error(cli("create-user", "lisi", "--password", "Portal#2026",
                                 "--role", "staff", "--department", "NOPE"))
    assert "NOPE" in line
    assert rows(User, User.username == "lisi") == 0


def test_create_user_with_bad_role(cli):
    """A role outside the contract's list is refused in one line."""
    line = assert_user_error(cli("create-user", "lisi", "--password", "Portal#2026", "--role", "boss"))
    assert "role" in line
    assert rows(User, User.username == "lisi") == 0


def test_create_user_duplicate_and_bad_expiry(cli):
    """A duplicate username or an --expires that is not a date are one-line errors."""
    assert_ok(cli("create-user", "lisi", "--password", "Portal#2026", "--role", "staff"))
    assert "lisi" in assert_user_error(cli("create-user", "lisi", "--password", "Portal#2026",
                                           "--role", "staff"))
    assert_user_error(cli("create-user", "wangwu", "--password", "Portal#2026", "--role", "staff",
                          "--expires", "31/12/2030"))
    assert rows(User) == 1


def test_errors_from_the_installed_script_are_one_line(cli, cli_env):
    """The real `portal` console script: exit 1, one stderr line, no traceback."""
    script = Path(sys.executable).with_name("portal")
    if not script.exists():
        script = shutil.which("portal")
    assert_ok(cli("create-department", "SH", "售后服务部"))
    env = {**os.environ, **cli_env}
    proc = subprocess.run([str(script), "create-department", "SH", "售后服务部"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


# --- tokens -----------------------------------------------------------------------------

def test_create_token_prints_a_working_token_last(cli, app):
    """create-token prints the token as the last stdout line; the API accepts it."""
    assert_ok(cli("create-department", "SH", "售后服务部"))
    assert_ok(cli("create-user", "zhangwei", "--password", "Portal#2026", "--role", "staff",
                  "--department", "SH"))
    result = cli("create-token", "zhangwei")
    assert_ok(result)
    token = result.stdout.strip().splitlines()[-1].strip()
    resp = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert resp.get_json()["username"] == "zhangwei"
    bad = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
    assert bad.status_code == 401


def test_each_token_is_new(cli):
    """Two create-token runs give two different tokens."""
    assert_ok(cli("create-user", "zhangwei", "--password", "Portal#2026", "--role", "staff"))
    first = cli("create-token", "zhangwei").stdout.strip().splitlines()[-1]
    second = cli("create-token", "zhangwei").stdout.strip().splitlines()[-1]
    assert first != second


def test_create_token_for_unknown_user(cli):
    """create-token for a username that does not exist is a one-line error."""
    assert "ghost" in assert_user_error(cli("create-token", "ghost"))


# --- verify-trail -----------------------------------------------------------------------

@pytest.fixture
def trail_entries(f):
    """A handful of trail entries from real actions; returns the highest seq."""
    doc = f.document()
    f.draft(doc)
    db.session.rollback()
    last = db.session.execute(select(func.max(TrailEntry.seq))).scalar()
    assert last >= 5
    return last


def test_verify_trail_intact(cli, trail_entries):
    """An untouched trail verifies with exit 0."""
    assert_ok(cli("verify-trail"))


def test_verify_trail_detects_an_edited_entry(cli, trail_entries):
    """A row edited by hand in SQL makes verify-trail fail, naming that entry."""
    sql("UPDATE trail_entry SET reason='x' WHERE seq=2")
    line = assert_user_error(cli("verify-trail"))
    assert re.search(r"\b2\b", line), line


def test_verify_trail_detects_a_deleted_entry(cli, trail_entries):
    """A row deleted from the middle makes verify-trail fail, naming the gap."""
    sql("DELETE FROM trail_entry WHERE seq=3")
    line = assert_user_error(cli("verify-trail"))
    assert re.search(r"\b3\b", line), line


def test_verify_trail_detects_a_deleted_last_entry(cli, trail_entries):
    """Removing the newest row is noticed too (the chain's head no longer matches)."""
    sql(f"DELETE FROM trail_entry WHERE seq={trail_entries}")
    line = assert_user_error(cli("verify-trail"))
    assert re.search(rf"\b{trail_entries}\b", line), line


def test_verify_trail_detects_an_edited_last_entry(cli, trail_entries):
    """Changing the newest row's content is noticed."""
    sql(f"UPDATE trail_entry SET actor='someone-else' WHERE seq={trail_entries}")
    line = assert_user_error(cli("verify-trail"))
    assert re.search(rf"\b{trail_entries}\b", line), line


# --- demo -------------------------------------------------------------------------------

def demo_state() -> dict:
    db.session.rollback()
    counts = {m.__name__: db.session.execute(select(func.count()).select_from(m)).scalar()
              for m in (Department, User, Document, Revision, Signature, TrailEntry)}
    states = db.session.execute(
        select(Document.code, Revision.label, Revision.state).join(Revision, Revision.document_id == Document.id)
        .order_by(Document.code, Revision.id)).all()
    db.session.rollback()
    return {"counts": counts, "states": [tuple(r) for r in states]}


def test_demo_loads_documents_and_second_run_changes_nothing(cli):
    """`portal demo --no-serve` loads the seeds through the workflow; running it again is a no-op."""
    assert_ok(cli("demo", "--no-serve"))
    state = demo_state()
    states = state["states"]
    db.session.rollback()
    manual = db.session.execute(select(Document).where(Document.code == "QM-01")).scalar_one()
    assert manual.status == "effective"
    assert (manual.current_revision.label, manual.current_revision.state) == ("B/0", "effective")
    assert ("QM-01", "A/0", "superseded") in states
    assert ("QP0501", "A/1", "in_review") in states
    assert ("QP-SH01", "B/0", "draft") in states
    assert state["counts"]["Document"] >= 3

    assert_ok(cli("demo", "--no-serve"))
    assert demo_state() == state
    assert_ok(cli("verify-trail"))
