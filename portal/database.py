"""Column types and engine set-up shared by every domain."""
import contextvars
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

# Set for requests and commands that will write: on SQLite their transaction
# starts with BEGIN IMMEDIATE, so two writers queue instead of one failing
# with "database is locked" when it upgrades a stale read lock.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def utcnow_column_default() -> datetime:
    from portal import clock

    return clock.now()
