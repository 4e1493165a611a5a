"""One visibility rule: a change request is seen by whoever may see its document. The SQL
condition and the per-object check agree on every reader and request; search follows them."""
import pytest
from sqlalchemy import select

from pages import signed_in
from portal.change_requests import queries
from portal.change_requests.models import ChangeRequest
from portal.documents import workflow
from portal.extensions import db
from portal.search import index as search_index
from portal.search import indexer
from portal.search.query import search


@pytest.fixture(autouse=True)
def _close_searchers(app):
    yield
    search_index.close_searchers()


@pytest.fixture
def world(f, controller, approver, staff, procedure, raise_cr):
    """Requests on a public effective procedure, a confidential one, one never released and an
    obsolete one; and the readers."""
    secret = f.document(controller, code="QP-SEC-01", title="保密程序", department="ZB", confidentiality="confidential")
    f.effective(secret, controller=controller)
    never = f.document(controller, code="QP-NEW-01", title="新程序", department="ZB")
    f.draft(never, author=controller)
    old = f.document(controller, code="QP-OLD-01", title="旧程序", department="ZB")
    f.effective(old, controller=controller)
    raise_cr(staff, procedure, reason="公开程序的更改理由 甲")
    raise_cr(approver, secret, reason="保密程序的更改理由 乙")
    raise_cr(staff, never, reason="未发布程序的更改理由 丙")
    raise_cr(staff, old, reason="旧程序的更改理由 丁")
    workflow.obsolete_document(controller, old, {"reason": "合并"})
    readers = [controller, approver, staff, f.user("auditor"), f.user("external_reviewer"), f.user("admin"),
               f.user("staff", department="ZB")]
    return readers


def test_the_sql_rule_and_the_object_rule_agree(world):
    everything = db.session.execute(select(ChangeRequest)).scalars().all()
    assert len(everything) == 4
    for user in world:
        listed = set(db.session.execute(select(ChangeRequest.id).where(queries.visible_to(user))).scalars())
        assert listed == {cr.id for cr in everything if queries.can_view(user, cr)}, user.role


def test_who_sees_what(world, staff, controller):
    reviewer = next(u for u in world if u.role == "external_reviewer")
    visible = lambda user: {cr.document.code for cr in db.session.execute(  # noqa: E731
        queries.request_query(user)).scalars()}
    assert visible(controller) == {"QP1401", "QP-SEC-01", "QP-NEW-01", "QP-OLD-01"}
    assert visible(staff) == {"QP1401", "QP-NEW-01", "QP-OLD-01"}  # not the other department's secret
    assert visible(reviewer) == {"QP1401"}  # effective and not confidential only


def test_search_finds_requests_through_the_same_rule(world, controller):
    indexer.drain_outbox()
    everything = db.session.execute(select(ChangeRequest)).scalars().all()
    for user in world:
        found = {h["ref"] for h in search(user, q="更改理由", kind="change_request", per_page=100)["hits"]}
        assert found == {cr.number for cr in everything if queries.can_view(user, cr)}, user.role
    result = search(controller, q="保密程序的更改理由")
    assert [(h["kind"], h["title"]) for h in result["hits"]] == [("change_request", "QP-SEC-01 保密程序")]
    assert result["facets"]["kind"] == {"change_request": 1}


def test_deciding_refreshes_the_index_and_the_hit_links_to_the_request(f, procedure, staff, approver, raise_cr,
                                                                        decide):
    cr = raise_cr(staff, procedure, reason="投诉处理时限需要缩短")
    decide(approver, cr, "reject", comment="已在 QP-SH02 规定时限")
    indexer.drain_outbox()
    body = f.api(staff).get("/search?q=时限&kind=change_request&state=rejected").get_json()
    assert [(h["ref"], h["state"], h["url"]) for h in body["hits"]] == [
        (cr["number"], "rejected", f"/change-requests/{cr['id']}")]
    html = signed_in(f.app, staff).get("/search?q=时限&state=rejected").get_data(as_text=True)
    assert cr["number"] in html and f"/change-requests/{cr['id']}" in html


def test_a_confidential_documents_new_party_sees_its_requests_in_search(f, controller, approver, staff, raise_cr):
    secret = f.document(controller, code="QP-SEC-02", title="保密程序二", department="ZB",
                        confidentiality="confidential")
    f.effective(secret, controller=controller)
    raise_cr(approver, secret, reason="保密文件更改理由")
    indexer.drain_outbox()
    assert search(staff, q="保密文件更改理由")["total"] == 0
    f.draft(secret, author=staff, reason="参与修订")  # staff becomes a party: the document is theirs to see
    indexer.drain_outbox()
    assert [h["kind"] for h in search(staff, q="保密文件更改理由")["hits"]] == ["change_request"]
