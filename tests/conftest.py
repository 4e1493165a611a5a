"""Fixtures: an app on a fresh database per test (SQLite by default, PostgreSQL when
PORTAL_TEST_DATABASE_URL is set), a browser client, a CLI runner and an API helper."""
import os
import shutil
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from portal import clock, create_app
from portal.config import TestingConfig
from portal.extensions import db

def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database beside the one named
    (`<name>_gw0`, …), created empty here: the per-test cleanup empties a whole database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    if os.environ.get("PORTAL_TEST_DATABASE_WORKER") == worker:
        # conftest imported again (`from conftest import …` under importlib import mode):
        # the URL is already this worker's, and dropping it would empty the live database
        return url
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    os.environ["PORTAL_TEST_DATABASE_URL"], os.environ["PORTAL_TEST_DATABASE_WORKER"] = url, worker
    return url


PG_URL = _worker_database(os.environ.get("PORTAL_TEST_DATABASE_URL"))


def _migrate(url: str, instance: str) -> None:
    from portal.cli import init_database

    app = create_app(TestingConfig(url, instance))
    with app.app_context():
        init_database()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrated once per session: a SQLite file to copy, or the PostgreSQL schema."""
    instance = str(tmp_path_factory.mktemp("template"))
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        _migrate(PG_URL, instance)
        return PG_URL
    path = os.path.join(instance, "template.db")
    _migrate(f"sqlite:///{path}", instance)
    return path


def _fresh_database(template: str, tmp_path) -> str:
    if PG_URL:
        _empty_postgres()
        return PG_URL
    target = tmp_path / "portal.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


_pg_engine = None


_CALENDAR_STATE = text("SELECT count(*), max(updated_at) FROM calendar_day")
_shipped_calendar: tuple | None = None  # (state, rows) as `portal init` left them


def _empty_postgres() -> None:
    """Delete every row but the migrations', the clause catalogue's and the shipped company
    calendar's (as the SQLite template copy keeps them). DELETE with foreign keys switched off
    for the transaction is ten times faster than TRUNCATE on small tables."""
    global _pg_engine, _shipped_calendar
    _pg_engine = _pg_engine or create_engine(PG_URL, poolclass=NullPool)
    with _pg_engine.begin() as conn:
        if _shipped_calendar is None:
            _shipped_calendar = (tuple(conn.execute(_CALENDAR_STATE).one()),
                                 [dict(r._mapping) for r in conn.execute(text("SELECT * FROM calendar_day"))])
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename NOT IN ('alembic_version', 'clause', 'calendar_day')"))]
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        state, rows = _shipped_calendar
        if tuple(conn.execute(_CALENDAR_STATE).one()) != state:  # a test changed the calendar
            conn.execute(text("DELETE FROM calendar_day"))
            if rows:
                conn.execute(text("INSERT INTO calendar_day (day, kind, name, source, updated_at) "
                                  "VALUES (:day, :kind, :name, :source, :updated_at)"), rows)


@pytest.fixture
def app(database_template, tmp_path):
    url = _fresh_database(database_template, tmp_path)
    application = create_app(TestingConfig(url, str(tmp_path / "instance")))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    clock.freeze(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def cli_env(app):
    """Environment that points the command line at this test's database and instance."""
    return {"PORTAL_INSTANCE": app.config["INSTANCE_PATH"],
            "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}


@pytest.fixture
def cli(cli_env, monkeypatch):
    """Run `portal ARGS...` in-process; the apps it builds are disposed afterwards.

    The test's session is rolled back around each run (no stale snapshot held while
    the CLI writes) and this thread's search searchers are closed (the CLI may swap
    or rebuild the index)."""
    import portal.cli
    from portal.search.index import close_searchers

    built = []
    real_app = portal.cli._app

    def tracked_app():
        built.append(real_app())
        return built[-1]

    monkeypatch.setattr(portal.cli, "_app", tracked_app)

    def run(*args, env=None):
        db.session.rollback()
        close_searchers()
        result = CliRunner().invoke(portal.cli.main, list(args), env={**cli_env, **(env or {})})
        db.session.rollback()
        return result

    yield run
    for application in built:
        with application.app_context():
            close_searchers()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def frozen(app):
    """Pin the portal's clock; call frozen(datetime) to move it."""
    def move(at: datetime):
        clock.freeze(at if at.tzinfo else at.replace(tzinfo=timezone.utc))
    yield move
    clock.freeze(None)


@pytest.fixture
def f(app):
    """Object factories (tests/factories.py) bound to the current app."""
    from factories import Factories

    return Factories(app)
