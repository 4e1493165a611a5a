"""The index adapter: versioned folders, outbox replay after crashes, lock contention
between processes, the atomic rebuild swap and the health check."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.search import index as search_index
from portal.search import indexer
from portal.search.models import SearchOutbox
from portal.search.outbox import enqueue


def pending() -> int:
    db.session.rollback()
    return len(db.session.execute(select(SearchOutbox.id).where(SearchOutbox.done_at.is_(None))).all())


def keys() -> list[str]:
    searcher = search_index.get_searcher()
    return sorted(fields["key"] for fields in searcher.all_stored_fields())


class Crash(BaseException):
    """The indexer process dying (not an Exception any handler would swallow)."""


def test_open_index_creates_a_versioned_folder(app):
    ix = search_index.open_index()
    root = search_index.search_root()
    assert (root / "CURRENT").read_text() == os.path.basename(ix.storage.folder)
    meta = search_index.read_meta(ix.storage.folder)
    assert meta["analyzer_version"] == search_index.ANALYZER_VERSION and meta["complete"]
    assert search_index.needs_rebuild() is False


def test_an_analyzer_change_asks_for_a_rebuild(app, doc):
    doc("文件控制程序", "内容。")
    folder = search_index.open_index().storage.folder
    meta = search_index.read_meta(folder) | {"analyzer_version": "old"}
    with open(os.path.join(folder, search_index.META), "w") as fh:
        json.dump(meta, fh)
    assert search_index.needs_rebuild() and not indexer.health()["ok"]
    assert indexer.ensure_current() is True
    assert not search_index.needs_rebuild() and indexer.health()["ok"]


def test_a_lost_index_folder_asks_for_a_rebuild(app, doc):
    doc("文件控制程序", "内容。")
    search_index.close_searchers()
    root = search_index.search_root()
    (root / "CURRENT").unlink()
    assert search_index.needs_rebuild()  # re-created empty, but rows were already done
    assert indexer.health()["index"] == 0
    indexer.reindex()
    assert indexer.health()["ok"]


def test_cached_searchers_see_updates_and_deletions(doc, drain):
    rev = doc("文件控制程序", "第一版内容。")
    assert search_index.get_searcher().doc_count() == 1
    enqueue("revision", rev.id)
    db.session.commit()
    drain()
    assert search_index.get_searcher().doc_count() == 1  # replaced, not duplicated


def test_health_counts_database_index_and_pending(f, doc, drain):
    rev = doc("文件控制程序", "内容。")
    assert indexer.health() | {"ok": None} == {
        "database": 1, "index": 1, "pending_outbox": 0, "ok": None,
        "analyzer_version": search_index.ANALYZER_VERSION, "rebuild_needed": False}
    f.draft(rev.document, body="<p>新草稿</p>", reason="修订")
    report = indexer.health()
    assert (report["database"], report["index"], report["ok"]) == (2, 1, False)
    assert report["pending_outbox"] >= 1
    drain()
    assert indexer.health()["ok"]


def test_crash_before_the_index_commit_loses_nothing(f, doc, drain, monkeypatch):
    rev = doc("文件控制程序", "内容。")
    f.draft(rev.document, body="<p>第二版草稿</p>", reason="修订")
    real = indexer.index_objects

    def dying(*args):
        raise Crash()

    monkeypatch.setattr(indexer, "index_objects", dying)
    with pytest.raises(Crash):
        drain()
    assert pending() >= 1 and len(keys()) == 1
    monkeypatch.setattr(indexer, "index_objects", real)
    assert drain() >= 1
    assert pending() == 0 and len(keys()) == 2


def test_crash_after_the_index_commit_replays_without_duplicates(f, doc, drain, monkeypatch):
    rev = doc("文件控制程序", "内容。")
    f.draft(rev.document, body="<p>第二版草稿</p>", reason="修订")
    monkeypatch.setattr(indexer, "update", lambda *a: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        drain()  # Whoosh has committed, the rows are not marked done
    assert pending() >= 1 and len(keys()) == 2
    monkeypatch.undo()
    db.session.execute(update(SearchOutbox).values(done_at=None))  # replay everything
    db.session.commit()
    drain()
    assert pending() == 0 and keys() == sorted(set(keys())) and len(keys()) == 2
    assert indexer.health()["ok"]


def test_a_busy_index_leaves_rows_queued_without_error(doc, drain):
    rev = doc("文件控制程序", "内容。")
    enqueue("revision", rev.id)
    db.session.commit()
    with search_index.writer():  # another indexer holds the lock
        assert indexer.drain_outbox(wait=0.3) == 0
        assert indexer.drain_quietly(wait=0.3) == 0
    assert pending() == 1
    assert drain() == 1 and pending() == 0


def test_deleted_objects_leave_the_index(doc, drain):
    rev = doc("文件控制程序", "内容。")
    enqueue("revision", 10**6)  # never existed: a delete by key, no error
    enqueue("objective", 1)     # no builder (objectives are not searched): stays queued, never lost
    db.session.commit()
    drain()
    assert keys() == [f"revision:{rev.id}"]
    assert pending() == 1 and not indexer.health()["ok"]


WORKER = textwrap.dedent("""
    import sys
    from portal import create_app
    from portal.config import TestingConfig
    url, instance, tag = sys.argv[1:4]
    app = create_app(TestingConfig(url, instance))
    with app.app_context():
        from portal.search import index, indexer
        for i in range(15):
            with index.writer(wait=120) as w:
                w.update_document(key=f"probe:{tag}:{i}", kind="probe", title=f"probe {tag} {i}")
            indexer.drain_outbox(batch=7, wait=120)
        index.close_searchers()
""")


def test_two_processes_write_and_drain_concurrently(app, doc, tmp_path):
    revs = [doc(f"程序{i}", f"内容{i}") for i in range(3)]
    for _ in range(40):
        for rev in revs:
            enqueue("revision", rev.id)
    db.session.commit()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    url, instance = app.config["SQLALCHEMY_DATABASE_URI"], app.config["INSTANCE_PATH"]
    procs = [subprocess.Popen([sys.executable, "-W", "error", str(script), url, instance, tag],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for tag in "ab"]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err.decode()[-3000:]
    probes = [k for k in keys() if k.startswith("probe:")]
    assert len(probes) == 30
    assert {f"revision:{r.id}" for r in revs} <= set(keys())
    assert pending() == 0


def test_reindex_swaps_atomically_and_keeps_answering(f, doc, drain, controller):
    from portal.documents import services as documents
    from portal.search.query import search

    rev = doc("文件控制程序", "旧索引里的内容。", code="QP-RX")
    staff = f.user("staff")
    old_folder = search_index.open_index().storage.folder
    seen = []

    def progress(done, total):
        # Mid-build: the old index still answers, and a change drained now reaches
        # the old folder only; the catch-up must carry it into the new one.
        assert search_index.open_index().storage.folder == old_folder
        assert search(staff, "旧索引")["total"] == 1
        if not seen:
            documents.update_document(controller, rev.document, {"title": "改名后的程序"})
            drain()
        seen.append((done, total))

    assert indexer.reindex(progress=progress) == 1
    assert seen and seen[-1] == (1, 1)
    assert search_index.open_index().storage.folder != old_folder
    assert search(staff, "改名后")["total"] == 1
    report = indexer.health()
    assert (report["database"], report["index"], report["ok"]) == (1, 1, True)
    indexer.reindex()
    assert not os.path.exists(old_folder)  # two generations back is removed


def test_reindex_waits_for_the_writer_lock_of_the_live_index(doc, monkeypatch):
    doc("文件控制程序", "内容。")
    root = search_index.search_root()
    before = sorted(p.name for p in root.glob("ix-*"))
    monkeypatch.setattr(indexer, "REINDEX_WAIT", 0.3)
    with search_index.writer():  # a drainer is writing: the swap must wait for it
        with pytest.raises(search_index.IndexBusy):
            indexer.reindex()
    assert sorted(p.name for p in root.glob("ix-*")) == before  # the unfinished folder is gone
    assert indexer.ensure_current() is False
    assert indexer.reindex() == 1


def test_a_failing_object_holds_back_only_its_row_and_leaves_no_duplicates(doc, drain, monkeypatch):
    from portal.search import builders
    revs = [doc(f"程序{i}", f"内容{i}") for i in range(4)]
    model, prefix, build, options = builders.BUILDERS["revision"]
    broken = revs[2].id

    def fragile(rev):
        if rev.id == broken:
            raise ValueError("cannot build")
        return build(rev)

    monkeypatch.setitem(indexer.BUILDERS, "revision", (model, prefix, fragile, options))
    for rev in revs:
        enqueue("revision", rev.id)
    db.session.commit()
    drain()
    assert pending() == 1
    assert len(keys()) == len(set(keys())) == 4  # the broken one keeps its earlier entry
    monkeypatch.undo()
    drain()
    assert pending() == 0 and len(keys()) == 4 and indexer.health()["ok"]
