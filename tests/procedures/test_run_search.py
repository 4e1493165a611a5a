"""Runs are searchable as evidence (kind=run), through the same rule as GET /runs/{id}."""
import pytest

from portal.extensions import db
from portal.procedures.queries import can_view
from portal.procedures.models import ProcedureRun
from portal.search import index as search_index
from portal.search import indexer
from portal.search.query import search


@pytest.fixture(autouse=True)
def _close_searchers(app):
    yield
    search_index.close_searchers()


def hits(user, **query):
    return [(h["kind"], h["ref"]) for h in search(user, **query)["hits"]]


def test_a_run_is_found_by_its_subject_and_number(f, now, procedure, steps, staff, start):
    run = start(staff, procedure(steps), subject="冷库压缩机异响报修")
    indexer.drain_outbox()
    assert hits(staff, q="压缩机异响", kind="run") == [("run", run["number"])]
    assert hits(staff, q=run["number"]) == [("run", run["number"])]
    # a document search does not drown in runs, and runs do not drown documents
    assert hits(staff, q="压缩机异响", kind="document") == []


def test_search_follows_the_run_visibility_rule(f, now, procedure, steps, staff, start, controller):
    confidential = procedure(steps, confidentiality="confidential", department=staff.department_code)
    run = start(staff, confidential, subject="保密客户的投诉处理")
    indexer.drain_outbox()
    outsider = f.user("staff")
    auditor = f.user("auditor")
    reviewer = f.user("external_reviewer")
    db_run = db.session.get(ProcedureRun, run["id"])
    for user in (staff, controller, auditor, outsider, reviewer):
        found = hits(user, q="保密客户", kind="run") == [("run", run["number"])]
        assert found == can_view(user, db_run), user.role
    assert not can_view(outsider, db_run) and not can_view(reviewer, db_run)


def test_completing_and_cancelling_refresh_the_index(f, now, procedure, steps, staff, start, controller):
    run = start(staff, procedure(steps), subject="热水器漏水")
    indexer.drain_outbox()
    resp = f.api(controller).post(f"/runs/{run['id']}/cancel", json={"reason": "客户撤回，重复报修"})
    assert resp.status_code == 200, resp.get_json()
    indexer.drain_outbox()
    assert hits(staff, q="重复报修", kind="run", state="cancelled") == [("run", run["number"])]
