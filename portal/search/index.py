"""The search index adapter: the only module that opens, writes or swaps the Whoosh index.

Layout under ``<instance>/search/``: index folders ``ix-<stamp>-<random>/`` (each with
``portal-index.json`` recording the analyzer and schema versions) and ``CURRENT``, a
file naming the live folder. A rebuild fills a fresh folder and swaps by replacing
``CURRENT`` with os.replace — atomic on POSIX and Windows, unlike renaming a
non-empty directory over another.

Writes use one plain ``SegmentWriter`` with a lock timeout, retried with backoff:
AsyncWriter loses documents when its process dies and BufferedWriter holds the
lock until closed. Outbox rows are marked done only after the Whoosh commit, so a
crash at any point means a replay, never a loss; keys are unique, so a replay never
duplicates. Segments are merged by size tiers (merge.py), and written as separate
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
import shutil
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from whoosh import index as windex
from whoosh.index import LockError
from whoosh.searching import Searcher
from whoosh.util.filelock import FileLock, try_for

from portal import clock
from portal.database import write_intent
from portal.errors import DomainError
from portal.extensions import db
from portal.search.analyzer import ANALYZER_VERSION
from portal.search.builders import BUILDERS, expand
from portal.search.merge import tiered_merge
from portal.search.models import SearchOutbox
from portal.search.schema import SCHEMA_VERSION, build_schema

log = logging.getLogger(__name__)
POINTER, META = "CURRENT", "portal-index.json"
WRITELOCK_FILE = "MAIN_WRITELOCK"
WRITE_WAIT = 30.0       # seconds a drain waits for the writer lock before leaving rows queued
REINDEX_WAIT = 300.0
# A backlog is drained through one writer per COMMIT_ROWS rows (or COMMIT_SECONDS,
# whichever comes first, so searches see progress): fewer, larger segments, and
# no merging on the way (merge.py).
COMMIT_ROWS = 10_000
COMMIT_SECONDS = 120.0
LOAD_CHUNK = 500
# Rows marked done this long before a rebuild started are replayed into the new folder
# too (idempotent), covering clock differences between processes.
CATCH_UP_MARGIN = timedelta(minutes=5)
_local = threading.local()
_create_guard = threading.Lock()


class IndexBusy(DomainError):
    """The writer lock stayed taken; the outbox rows stay queued for the next drain."""

    status = 503
    code = "search_index_busy"


def search_root(instance_path=None) -> Path:
    """``<instance>/search``; the instance folder defaults to the app's INSTANCE_PATH."""
    return Path(instance_path or current_app.config["INSTANCE_PATH"]) / "search"


def _read_pointer(root: Path) -> str | None:
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name and (root / name).is_dir() else None


def _write_pointer(root: Path, name: str) -> None:
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


def _write_meta(folder: Path, complete: bool) -> None:
    meta = {"analyzer_version": ANALYZER_VERSION, "schema_version": SCHEMA_VERSION,
            "complete": complete}
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")


def _new_folder(root: Path, complete: bool) -> Path:
    folder = root / f"ix-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    windex.create_in(str(folder), build_schema())
    _write_meta(folder, complete)
    return folder


@contextmanager
def _file_lock(lock, wait: float):
    if not try_for(lock.acquire, timeout=wait, delay=0.05):
        raise IndexBusy("The search index is busy; try again shortly.")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _session(write: bool = False):
    """A session of its own: fresh reads, and never the caller's transaction."""
    token = write_intent.set(write)  # SQLite: readers must not take the write lock
    try:
        with Session(db.engine, expire_on_commit=False) as session:
            yield session
    finally:
        write_intent.reset(token)


def _database_count(session) -> int:
    return sum(session.scalar(select(func.count()).select_from(model)) for model, *_ in BUILDERS.values())


def _never_drained(session) -> bool:
    """True when no outbox row was ever done: the pending rows then cover every change
    since the database was created, so an empty new index will become complete."""
    return session.execute(select(SearchOutbox.id).where(SearchOutbox.done_at.is_not(None))
                           .limit(1)).first() is None


def open_index(instance_path=None):
    """The live Whoosh index, created (empty) if there is none yet."""
    root = search_root(instance_path)
    name = _read_pointer(root)
    if name is None:
        root.mkdir(parents=True, exist_ok=True)
        with _create_guard, _file_lock(FileLock(str(root / "create.lock")), WRITE_WAIT):
            name = _read_pointer(root)
            if name is None:
                with _session() as s:
                    name = _new_folder(root, complete=_never_drained(s)).name
                _write_pointer(root, name)
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
    if searcher is not None and name == _read_pointer(root) and searcher.up_to_date():
        return searcher
    # Not Searcher.refresh(): in whoosh-reloaded 2.7.5 it reuses segment readers with
    # their old deletion sets, so an updated document shows up twice.
    if searcher is not None:
        searcher.close()
    ix = open_index(instance_path)
    fresh = PortalSearcher(ix.reader(), fromindex=ix)
    fresh.portal_folder = str(ix.storage.folder)  # with the generation, the cache key
    cache[str(root)] = (Path(ix.storage.folder).name, fresh)
    return fresh


class PortalSearcher(Searcher):
    """A Searcher that also takes the frozensets of portal.search.cache as filters
    (Whoosh accepts only a set, a DocIdSet, Results or a Query)."""

    def _filter_to_comb(self, obj):
        if isinstance(obj, frozenset):
            return obj
        return super()._filter_to_comb(obj)


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
        if _read_pointer(root) == Path(ix.storage.folder).name:
            return w
        w.cancel()  # a rebuild swapped folders while we waited: write to the new one


def index_objects(session, w, targets, written: set) -> None:
    """Write (or delete, where gone) the index documents of (kind, id) targets with
    writer `w`, loading each kind's objects LOAD_CHUNK at a time (one query per
    relationship instead of five per object). Targets already in `written` are
    skipped and each one written is added: a writer does not see its own pending
    documents, so writing one twice would leave a duplicate."""
    by_kind: dict[str, list[int]] = {}
    for kind, object_id in targets:
        if kind not in BUILDERS:
            raise LookupError(f"no search builder for {kind!r}")
        if (kind, object_id) not in written:
            by_kind.setdefault(kind, []).append(object_id)
    for kind, ids in by_kind.items():
        model, prefix, build, options = BUILDERS[kind]
        for start in range(0, len(ids), LOAD_CHUNK):
            chunk = list(dict.fromkeys(ids[start:start + LOAD_CHUNK]))
            found = {obj.id: obj for obj in session.execute(
                select(model).where(model.id.in_(chunk)).options(*options())).scalars()}
            for object_id in chunk:
                if object_id in found:
                    w.update_document(**build(found[object_id]))
                else:
                    w.delete_by_term("key", f"{prefix}:{object_id}")
                written.add((kind, object_id))


def _apply_rows(session, w, rows) -> list[int]:
    """Index what the rows name; the ids of the rows fully applied.

    All at once first; if anything fails, row by row, so one bad object only
    holds back its own row (left undone, visible in health(), retried by every
    later drain).
    """
    written: set = set()
    try:
        index_objects(session, w, [t for _, kind, object_id in rows for t in expand(session, kind, object_id)],
                      written)
        return [row_id for row_id, _, _ in rows]
    except Exception:  # noqa: BLE001 - retried one by one below
        session.rollback()
    ok = []
    for row_id, kind, object_id in rows:
        try:
            index_objects(session, w, expand(session, kind, object_id), written)
            ok.append(row_id)
        except Exception:  # noqa: BLE001 - one bad object must not block the queue
            log.exception("search: cannot index %s %s", kind, object_id)
            session.rollback()
    return ok


def _drain_commit(batch: int, after: int, wait: float, instance_path):
    """One writer, one commit: pending rows read `batch` at a time until none is
    left, COMMIT_ROWS were read or COMMIT_SECONDS passed. Returns (rows marked
    done, last row id read, whether more may be pending)."""
    started, read, ok, more = time.monotonic(), 0, [], False
    with writer(instance_path, wait) as w:
        # Read only once the lock is held: this drain then sees every change committed
        # before it, so no later commit can be overwritten by older object state.
        with _session() as s:
            while True:
                rows = s.execute(
                    select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.object_id)
                    .where(SearchOutbox.done_at.is_(None), SearchOutbox.id > after)
                    .order_by(SearchOutbox.id).limit(batch)).all()
                ok += _apply_rows(s, w, rows)
                s.expunge_all()  # keep memory flat through a long backlog
                read, after, more = read + len(rows), (rows[-1].id if rows else after), len(rows) == batch
                if not more or read >= COMMIT_ROWS or time.monotonic() - started >= COMMIT_SECONDS:
                    break
        if not read:
            w.cancel()
    if ok:
        with _session(write=True) as s:
            s.execute(update(SearchOutbox).where(SearchOutbox.id.in_(ok), SearchOutbox.done_at.is_(None))
                      .values(done_at=clock.now()))
            s.commit()
    return len(ok), after, more


def _pending(after: int = 0) -> bool:
    with _session() as s:
        return s.execute(select(SearchOutbox.id).where(
            SearchOutbox.done_at.is_(None), SearchOutbox.id > after).limit(1)).first() is not None


def drain_outbox(batch: int = 500, wait: float = WRITE_WAIT, instance_path=None) -> int:
    """Index every pending outbox row; returns how many rows were marked done.

    Safe in several processes at once. If the writer lock stays busy past `wait`,
    it returns early and the rows stay queued for the next drain.
    """
    done, after = 0, 0
    while _pending(after):
        try:
            marked, after, more = _drain_commit(batch, after, wait, instance_path)
        except IndexBusy:
            log.warning("search: index busy, %d outbox rows drained, the rest stay queued", done)
            break
        done += marked
        if not more:
            break
    return done


def drain_quietly(wait: float = 2.0, instance_path=None) -> int:
    """drain_outbox for after a request's commit: never raises (the rows stay queued)."""
    try:
        return drain_outbox(wait=wait, instance_path=instance_path)
    except Exception:
        log.exception("search: inline drain failed; the outbox keeps the rows")
        return 0


def reindex(progress=None, instance_path=None) -> int:
    """Rebuild the whole index into a fresh folder and swap it in; returns the count.

    The old index keeps answering (and receiving drains) while the new one is built;
    the swap happens under the old index's writer lock after replaying outbox rows
    done since the build started. `progress(done, total)` is called as it goes.
    """
    root = search_root(instance_path)
    open_index(instance_path)
    since = clock.now() - CATCH_UP_MARGIN
    folder = _new_folder(root, complete=False)
    try:
        count = _build(folder, progress)
        old_name = _read_pointer(root)
        # The file Whoosh's own ix.lock("WRITELOCK") takes: holding it stops every drainer.
        old = FileLock(str(root / old_name / WRITELOCK_FILE)) if old_name else None
        with _file_lock(old, REINDEX_WAIT) if old else _nothing():
            _catch_up(folder, since)
            _write_meta(folder, complete=True)
            _write_pointer(root, folder.name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_old(root, keep={folder.name, old_name})
    return count


@contextmanager
def _nothing():
    yield


def _build(folder: Path, progress) -> int:
    ix = windex.open_dir(str(folder))
    w = ix.writer(limitmb=256, compound=False)
    done = 0
    try:
        with _session() as s:
            total = _database_count(s)
            for model, _, build, options in BUILDERS.values():
                ids = list(s.execute(select(model.id).order_by(model.id)).scalars())
                for start in range(0, len(ids), 500):
                    chunk = ids[start:start + 500]
                    for obj in s.execute(select(model).where(model.id.in_(chunk)).options(*options())).scalars():
                        w.add_document(**build(obj))
                        done += 1
                    s.expunge_all()  # keep memory flat on big databases
                    if progress:
                        progress(done, max(total, done))
    except BaseException:
        w.cancel()
        raise
    w.commit()
    return done


def _catch_up(folder: Path, since) -> None:
    """Replay recent and pending changes into the new index, then mark the pending ones done
    (every drainer is held off by the old index's lock, so nothing can slip between)."""
    with _session() as s:
        rows = s.execute(select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.object_id).where(
            or_(SearchOutbox.done_at.is_(None), SearchOutbox.done_at >= since))).all()
        if not rows:
            return
        w = windex.open_dir(str(folder)).writer(compound=False)
        try:
            ok = _apply_rows(s, w, rows)
        except BaseException:
            w.cancel()
            raise
        w.commit(mergetype=tiered_merge)
    if ok:
        with _session(write=True) as s:
            s.execute(update(SearchOutbox).where(SearchOutbox.id.in_(ok), SearchOutbox.done_at.is_(None))
                      .values(done_at=clock.now()))
            s.commit()


def _remove_old(root: Path, keep: set) -> None:
    """Delete index folders older than the one just replaced (readers may still use that)."""
    for path in root.glob("ix-*"):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
    for tmp in root.glob(f"{POINTER}.*.tmp"):
        tmp.unlink(missing_ok=True)


def ensure_current(progress=None, instance_path=None) -> bool:
    """Rebuild if needs_rebuild() (e.g. at `portal index-worker` start); True if it did."""
    if not needs_rebuild(instance_path):
        return False
    reindex(progress, instance_path)
    return True


def health(instance_path=None) -> dict:
    """Database and index counts, pending outbox rows; ok when they agree and nothing waits."""
    with _session() as s:
        database = _database_count(s)
        pending = s.scalar(select(func.count()).select_from(SearchOutbox)
                           .where(SearchOutbox.done_at.is_(None)))
    indexed = get_searcher(instance_path).doc_count()
    rebuild = needs_rebuild(instance_path)
    return {"database": database, "index": indexed, "pending_outbox": pending,
            "analyzer_version": ANALYZER_VERSION, "rebuild_needed": rebuild,
            "ok": database == indexed and pending == 0 and not rebuild}
