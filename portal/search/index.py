"""The search index's folders, searchers and writer; indexer.py fills it from the outbox.

Layout under ``<instance>/search/``: index folders ``ix-<stamp>-<random>/`` (each with
``portal-index.json`` recording the analyzer and schema versions) and ``CURRENT``, a
file naming the live folder. A rebuild fills a fresh folder and swaps by replacing
``CURRENT`` with os.replace — atomic on POSIX and Windows, unlike renaming a
non-empty directory over another.

Writes use one plain ``SegmentWriter`` with a lock timeout, retried with backoff:
AsyncWriter loses documents when its process dies and BufferedWriter holds the
lock until closed. Segments are merged by size tiers (merge.py), and written as separate
files, not Whoosh's compound file: whoosh-reloaded 2.7.5 reads a compound segment
through BytesIO(memoryview(mmap)), which copies the whole segment into every
searcher's memory (11.7 GB for 8 threads at 50,000 items); separate files are read
through the OS page cache, shared by every searcher and process.
"""
import json
import logging
import os
import random
import secrets
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from whoosh import index as windex
from whoosh.index import LockError
from whoosh.searching import Searcher
from whoosh.util.filelock import FileLock, try_for

from portal.database import write_intent
from portal.errors import DomainError
from portal.extensions import db
from portal.search.analyzer import ANALYZER_VERSION
from portal.search.merge import tiered_merge
from portal.search.models import SearchOutbox
from portal.search.schema import SCHEMA_VERSION, build_schema

log = logging.getLogger(__name__)
POINTER, META = "CURRENT", "portal-index.json"
WRITELOCK_FILE = "MAIN_WRITELOCK"
WRITE_WAIT = 30.0       # seconds a drain waits for the writer lock before leaving rows queued
_local = threading.local()
_create_guard = threading.Lock()


class IndexBusy(DomainError):
    """The writer lock stayed taken; the outbox rows stay queued for the next drain."""

    status = 503
    code = "search_index_busy"


def search_root(instance_path=None) -> Path:
    """``<instance>/search``; the instance folder defaults to the app's INSTANCE_PATH."""
    return Path(instance_path or current_app.config["INSTANCE_PATH"]) / "search"


def read_pointer(root: Path) -> str | None:
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name and (root / name).is_dir() else None


def write_pointer(root: Path, name: str) -> None:
    tmp = root / f"{POINTER}.{secrets.token_hex(4)}.tmp"
    tmp.write_text(name, encoding="utf-8")
    for _ in range(50):
        try:
            os.replace(tmp, root / POINTER)
            return
        except PermissionError:  # Windows: another process is reading CURRENT this instant
            time.sleep(0.02)
    os.replace(tmp, root / POINTER)


def read_meta(folder) -> dict:
    """The versions recorded in an index folder ({} if unreadable)."""
    try:
        return json.loads((Path(folder) / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_meta(folder: Path, complete: bool) -> None:
    meta = {"analyzer_version": ANALYZER_VERSION, "schema_version": SCHEMA_VERSION,
            "complete": complete}
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")


def new_folder(root: Path, complete: bool) -> Path:
    folder = root / f"ix-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    windex.create_in(str(folder), build_schema())
    write_meta(folder, complete)
    return folder


@contextmanager
def file_lock(lock, wait: float):
    if not try_for(lock.acquire, timeout=wait, delay=0.05):
        raise IndexBusy("The search index is busy; try again shortly.")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def own_session(write: bool = False):
    """A session of its own: fresh reads, and never the caller's transaction."""
    token = write_intent.set(write)  # SQLite: readers must not take the write lock
    try:
        with Session(db.engine, expire_on_commit=False) as session:
            yield session
    finally:
        write_intent.reset(token)


def _never_drained(session) -> bool:
    """True when no outbox row was ever done: the pending rows then cover every change
    since the database was created, so an empty new index will become complete."""
    return session.execute(select(SearchOutbox.id).where(SearchOutbox.done_at.is_not(None))
                           .limit(1)).first() is None


def open_index(instance_path=None):
    """The live Whoosh index, created (empty) if there is none yet."""
    root = search_root(instance_path)
    name = read_pointer(root)
    if name is None:
        root.mkdir(parents=True, exist_ok=True)
        with _create_guard, file_lock(FileLock(str(root / "create.lock")), WRITE_WAIT):
            name = read_pointer(root)
            if name is None:
                with own_session() as s:
                    name = new_folder(root, complete=_never_drained(s)).name
                write_pointer(root, name)
    return _open_dir(root / name)


def _open_dir(folder: Path, attempts: int = 5):
    """Open an index folder; a writer committing at that moment may delete the table of
    contents we were about to read, so look again for the newer one."""
    for attempt in range(attempts):
        try:
            return windex.open_dir(str(folder))
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


def needs_rebuild(instance_path=None) -> bool:
    """True when the live index was built by another analyzer/schema or not from the database."""
    try:
        meta = read_meta(open_index(instance_path).storage.folder)
    except Exception:  # an index the current code cannot open must be rebuilt
        log.exception("search: the index cannot be opened")
        return True
    return (meta.get("analyzer_version") != ANALYZER_VERSION
            or meta.get("schema_version") != SCHEMA_VERSION or not meta.get("complete"))


def get_searcher(instance_path=None):
    """This thread's searcher on the live index, refreshed when the index changed."""
    root = search_root(instance_path)
    cache = _local.__dict__.setdefault("searchers", {})
    for attempt in range(3):
        try:
            return _current_searcher(cache, root, instance_path)
        except OSError:  # a merge removed a segment between listing and opening it
            cache.pop(str(root), (None, None))
            if attempt == 2:
                raise
            time.sleep(0.05)


def _current_searcher(cache: dict, root: Path, instance_path):
    name, searcher = cache.get(str(root), (None, None))
    if searcher is not None and name == read_pointer(root) and searcher.up_to_date():
        return searcher
    # Not Searcher.refresh(): in whoosh-reloaded 2.7.5 it reuses segment readers with
    # their old deletion sets, so an updated document shows up twice.
    if searcher is not None:
        searcher.close()
    ix = open_index(instance_path)
    fresh = Searcher(ix.reader(), fromindex=ix)
    fresh.portal_folder = str(ix.storage.folder)  # with the generation, the cache key
    cache[str(root)] = (Path(ix.storage.folder).name, fresh)
    return fresh


def close_searchers() -> None:
    """Close this thread's cached searchers (tests, worker shutdown)."""
    for _, searcher in _local.__dict__.pop("searchers", {}).values():
        searcher.close()


@contextmanager
def writer(instance_path=None, wait: float = WRITE_WAIT):
    """A plain Whoosh writer on the live index: commits on success, cancels on error.

    LockError is retried with jittered backoff for up to `wait` seconds, then IndexBusy.
    """
    w = _acquire_writer(instance_path, wait)
    try:
        yield w
    except BaseException:
        if not w.is_closed:
            w.cancel()
        raise
    if not w.is_closed:
        w.commit(mergetype=tiered_merge)


def _acquire_writer(instance_path, wait: float):
    root, deadline, pause = search_root(instance_path), time.monotonic() + wait, 0.05
    while True:
        ix = open_index(instance_path)
        try:
            w = ix.writer(timeout=min(1.0, max(0.0, deadline - time.monotonic())), delay=0.05,
                          compound=False)
        except LockError:
            if time.monotonic() >= deadline:
                raise IndexBusy("The search index is busy; the change stays queued.") from None
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 1.0)
            continue
        if read_pointer(root) == Path(ix.storage.folder).name:
            return w
        w.cancel()  # a rebuild swapped folders while we waited: write to the new one
