"""`portal reindex` and `portal init` and the search index (CONTRACT.md "Command line"),
run in-process on the test's database and instance folder."""
import shutil

import pytest
from sqlalchemy import select, update

from portal import clock
from portal.extensions import db
from portal.search import index as search_index
from portal.search import indexer
from portal.search.models import SearchOutbox
from portal.search.query import search


def assert_ok(result) -> None:
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)


@pytest.fixture
def content(f, doc, form, record, new_effective, controller):
    """Revisions (one superseded, one draft) and records: five index documents."""
    rev = doc("客户投诉处理程序", "规定客户投诉的受理。", code="QP-TS01")
    new_effective(rev.document, "新版：客户投诉的受理和答复。")
    form_doc = form(code="QR-TS02")
    record(form_doc, complaint="安装延误")
    f.draft(form_doc, body="<p>草稿</p>", reason="增加字段")
    db.session.rollback()
    indexer.drain_outbox()
    return rev


def test_reindex_rebuilds_and_health_is_ok(app, f, content, cli):
    report = indexer.health()
    assert report["ok"] and report["database"] == report["index"] == 5
    result = cli("reindex")
    assert_ok(result)
    assert "5" in result.output
    report = indexer.health()
    assert report["ok"], report
    assert report["database"] == report["index"] == 5 and report["pending_outbox"] == 0
    assert not report["rebuild_needed"]
    staff = f.user("staff")
    assert search(staff, "投诉")["total"] == 3  # the effective procedure, the form, its record


def test_reindex_repairs_a_lost_index(app, f, content, cli):
    search_index.close_searchers()
    root = search_index.search_root()
    for folder in root.glob("ix-*"):
        shutil.rmtree(folder)
    (root / "CURRENT").unlink(missing_ok=True)
    assert not indexer.health()["ok"]
    assert_ok(cli("reindex"))
    report = indexer.health()
    assert report["ok"] and report["database"] == report["index"] == 5, report
    assert search(f.user("staff"), "投诉")["total"] == 3


def test_reindex_repairs_an_index_that_missed_changes(app, f, content, controller, cli):
    """Changes whose outbox rows were lost (marked done without indexing): reindex fixes it."""
    from portal.records import services as records

    records.issue_record(controller, _form(), {"data": {"customer": "某公司", "complaint": "漏索引的记录"}})
    db.session.execute(update(SearchOutbox).values(done_at=clock.now()))
    db.session.commit()
    assert search(f.user("staff"), "漏索引")["total"] == 0
    assert not indexer.health()["ok"]
    assert_ok(cli("reindex"))
    report = indexer.health()
    assert report["ok"] and report["database"] == report["index"] == 6, report
    assert search(f.user("staff"), "漏索引")["total"] == 1


def _form():
    from portal.documents.models import Document

    db.session.rollback()
    return db.session.execute(select(Document).where(Document.code == "QR-TS02")).scalar_one()


def test_reindex_with_changes_still_queued_leaves_health_ok(app, f, content, controller, cli):
    """No indexer ran since the last changes: after a full rebuild, nothing is left to do."""
    from portal.records import services as records

    records.issue_record(controller, _form(), {"data": {"customer": "某公司", "complaint": "排队中的记录"}})
    db.session.rollback()
    assert indexer.health()["pending_outbox"] >= 1
    assert_ok(cli("reindex"))
    assert search(f.user("staff"), "排队中")["total"] == 1
    report = indexer.health()
    assert report["database"] == report["index"] == 6, report
    assert report["ok"], report


def test_init_leaves_an_index_that_opens(app, f, content, cli, tmp_path):
    assert_ok(cli("init"))
    ix = search_index.open_index()
    assert ix.doc_count() == 5
    report = indexer.health()
    assert report["ok"] and not report["rebuild_needed"], report
    assert_ok(cli("init"))  # idempotent
    assert indexer.health()["ok"]


def test_init_in_a_new_instance_folder_builds_the_index(app, f, content, cli, tmp_path):
    """A new instance folder for an existing database: init builds its index from the database."""
    fresh = str(tmp_path / "other-instance")
    result = cli("init", env={"PORTAL_INSTANCE": fresh})
    assert_ok(result)
    search_index.close_searchers()
    ix = search_index.open_index(instance_path=fresh)
    assert ix.doc_count() == 5
    assert not search_index.needs_rebuild(instance_path=fresh)
    report = indexer.health(instance_path=fresh)
    assert report["ok"] and report["database"] == report["index"] == 5, report
    search_index.close_searchers()


def test_init_on_an_empty_database_creates_an_empty_index(app, cli, tmp_path):
    fresh = str(tmp_path / "empty-instance")
    assert_ok(cli("init", env={"PORTAL_INSTANCE": fresh}))
    assert (tmp_path / "empty-instance" / "search" / "CURRENT").exists()
    ix = search_index.open_index(instance_path=fresh)
    assert ix.doc_count() == 0
    assert indexer.health(instance_path=fresh)["ok"]
    search_index.close_searchers()
