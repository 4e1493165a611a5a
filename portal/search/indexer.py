"""Filling the index: the outbox drain, the full rebuild and the health check.

Outbox rows are marked done only after the Whoosh commit, so a crash at any point
means a replay, never a loss; keys are unique, so a replay never duplicates.
"""
import logging
import shutil
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, or_, select, update
from whoosh import index as windex
from whoosh.util.filelock import FileLock

from portal import clock
from portal.search.analyzer import ANALYZER_VERSION
from portal.search.builders import BUILDERS, expand
from portal.search.index import (POINTER, WRITE_WAIT, WRITELOCK_FILE, IndexBusy, file_lock, get_searcher,
                                 needs_rebuild, new_folder, open_index, own_session, read_pointer,
                                 search_root, write_meta, write_pointer, writer)
from portal.search.merge import tiered_merge
from portal.search.models import SearchOutbox

log = logging.getLogger(__name__)
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


def _database_count(session) -> int:
    return sum(session.scalar(select(func.count()).select_from(model)) for model, *_ in BUILDERS.values())


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
        _, prefix, build, _ = BUILDERS[kind]
        for chunk, found in _chunks(session, kind, list(dict.fromkeys(ids))):
            for object_id in chunk:
                if object_id in found:
                    w.update_document(**build(found[object_id]))
                else:
                    w.delete_by_term("key", f"{prefix}:{object_id}")
                written.add((kind, object_id))


def _chunks(session, kind: str, ids: list[int]):
    """(ids, {id: object}) for `ids` LOAD_CHUNK at a time, loaded with the builder's
    relationship options (objects that no longer exist are missing from the dict)."""
    model, _, _, options = BUILDERS[kind]
    for start in range(0, len(ids), LOAD_CHUNK):
        chunk = ids[start:start + LOAD_CHUNK]
        yield chunk, {obj.id: obj for obj in session.execute(
            select(model).where(model.id.in_(chunk)).options(*options())).scalars()}


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
        with own_session() as s:
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
        with own_session(write=True) as s:
            s.execute(update(SearchOutbox).where(SearchOutbox.id.in_(ok), SearchOutbox.done_at.is_(None))
                      .values(done_at=clock.now()))
            s.commit()
    return len(ok), after, more


def _pending(after: int = 0) -> bool:
    with own_session() as s:
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
    folder = new_folder(root, complete=False)
    try:
        count = _build(folder, progress)
        old_name = read_pointer(root)
        # The file Whoosh's own ix.lock("WRITELOCK") takes: holding it stops every drainer.
        old = FileLock(str(root / old_name / WRITELOCK_FILE)) if old_name else None
        with file_lock(old, REINDEX_WAIT) if old else _nothing():
            _catch_up(folder, since)
            write_meta(folder, complete=True)
            write_pointer(root, folder.name)
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
        with own_session() as s:
            total = _database_count(s)
            for kind, (model, _, build, _) in BUILDERS.items():
                ids = list(s.execute(select(model.id).order_by(model.id)).scalars())
                for _, found in _chunks(s, kind, ids):
                    for obj in found.values():
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
    with own_session() as s:
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
        with own_session(write=True) as s:
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
    with own_session() as s:
        database = _database_count(s)
        pending = s.scalar(select(func.count()).select_from(SearchOutbox)
                           .where(SearchOutbox.done_at.is_(None)))
    indexed = get_searcher(instance_path).doc_count()
    rebuild = needs_rebuild(instance_path)
    return {"database": database, "index": indexed, "pending_outbox": pending,
            "analyzer_version": ANALYZER_VERSION, "rebuild_needed": rebuild,
            "ok": database == indexed and pending == 0 and not rebuild}
