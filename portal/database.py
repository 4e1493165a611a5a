"""Column types and engine set-up shared by every domain."""
import contextvars
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SAWarning
from sqlalchemy.types import TypeDecorator

# Set for commands and jobs that write: on SQLite each of their transactions starts with
# BEGIN IMMEDIATE (the write lock from the first read). Web requests leave it unset: their
# transactions start as plain reads and take the write lock only where they begin to
# write (see configure_sqlite), so no request holds it while it parses, sanitises or renders.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
_WRITING = "portal_writing"  # Connection.info: this connection's transaction holds the write lock
_WRITE_SQL = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "SAVEPOINT")


class UTCDateTime(TypeDecorator):
    """Timestamps stored as UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use portal.clock.now()")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


JSONList = JSON().with_variant(JSON(none_as_null=True), "postgresql")


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout and explicit BEGIN on SQLite connections."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own
        # transaction handling would defer it past our SELECTs).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        writing = write_intent.get()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
        conn.info[_WRITING] = writing

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn, cursor, statement, _parameters, context, _executemany):
        if not conn.info.get(_WRITING, True) and _is_write(statement, context):
            _take_write_lock(conn, cursor)


def _is_write(statement: str, context) -> bool:
    """DML or DDL, or a read the caller will write on (SELECT … FOR UPDATE, which SQLite
    does not print but PostgreSQL uses as its row lock)."""
    compiled = getattr(context, "compiled", None)
    if compiled is not None and getattr(compiled.statement, "_for_update_arg", None) is not None:
        return True
    return statement.lstrip().upper().startswith(_WRITE_SQL)


def _take_write_lock(conn, cursor) -> None:
    """Turn a read transaction into a writing one the safe way round.

    In WAL mode a read transaction that starts writing must upgrade its snapshot, and
    fails at once ("database is locked", SQLITE_BUSY_SNAPSHOT, no waiting) if another
    connection committed since it began. So the read transaction, which has written
    nothing, ends, and a new one starts with BEGIN IMMEDIATE: it queues for the write
    lock (busy_timeout) and then reads the newest data. What was read before is as
    fresh as on PostgreSQL under READ COMMITTED, which the services are written for:
    rows they decide on are re-read FOR UPDATE, and that re-read lands here too."""
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")
    conn.info[_WRITING] = True


def utcnow_column_default() -> datetime:
    from portal import clock

    return clock.now()


@contextmanager
def quiet_index_reflection():
    """For migrations: SQLite's batch copy of a table reflects the tables it refers to; the
    user table's expression index (uq_user_username_lower) cannot be reflected, is not
    copied, and must not fail a migration where warnings are errors (the test suite)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index",
                                SAWarning)
        yield
