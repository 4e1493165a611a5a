"""Who sees a review in each state (one rule: can_view_review and its SQL twin), what each
reader sees of its inputs, and search following the same rule."""
import io
import zipfile

import pytest

from factories import PASSWORD
from portal.documents import services as documents
from portal.documents import workflow
from portal import clock
from portal.extensions import db
from portal.management_review import inputs, queries, services
from portal.management_review.models import ManagementReview
from portal.search import index as search_index
from portal.search import indexer
from portal.search.query import search

READERS = ("controller", "chair", "organiser", "member", "owner", "outsider", "auditor", "other_approver",
           "reviewer")
# who sees a review before it is closed: its participants and the controllers
BEFORE_CLOSED = {"controller", "chair", "organiser", "member", "owner"}


@pytest.fixture(autouse=True)
def _close_searchers(app):
    yield
    search_index.close_searchers()


@pytest.fixture
def readers(people, f):
    return {**{name: getattr(people, name) for name in READERS if hasattr(people, name)},
            "owner": f.user("staff", username="liuyang2", department="YX", name="刘洋")}


def _visible_ids(user):
    return set(db.session.execute(queries.review_query(user).with_only_columns(ManagementReview.id)).scalars())


def _steps(review, people, owner):
    yield "planned"
    services.hold_review(people.organiser, review)
    services.add_output(people.organiser, review, {"decision": "完善投诉登记", "owner": owner.username,
                                                   "due_date": "2026-12-31"})
    yield "held"
    services.approve_review(people.chair, review, {"conclusion": {"suitable": True, "adequate": True,
                                                                  "effective": True},
                                                   "summary": "有效", "password": PASSWORD})
    yield "closed"


def test_each_reader_in_each_state(review, people, readers, f):
    for state in _steps(review, people, readers["owner"]):
        indexer.drain_outbox()
        for name, user in readers.items():
            expected = state == "closed" or (name in BEFORE_CLOSED and name != "reviewer")
            if name == "owner" and state == "planned":
                expected = False  # not a participant until an output is assigned
            assert queries.can_view_review(user, review) is expected, (state, name)
            assert (review.id in _visible_ids(user)) is expected, (state, name)
            found = [h["ref"] for h in search(user, q="年度管理评审", kind="management_review")["hits"]]
            assert found == ([review.number] if expected else []), (state, name)
            status = f.api(user).get(f"/management-reviews/{review.id}").status_code
            assert status == (200 if expected else 404), (state, name)


def test_search_hit_links_to_the_review(review, people):
    indexer.drain_outbox()
    result = search(people.controller, q=review.number)
    assert [(h["kind"], h["ref"]) for h in result["hits"]] == [("management_review", review.number)]
    assert result["facets"]["kind"] == {"management_review": 1}
    from portal.search.api import hit_url
    assert hit_url(result["hits"][0]) == f"/management-reviews/{review.id}"


def test_a_confidential_complaint_form_is_counted_but_not_named(people, review, f):
    ctl = people.controller
    form = documents.create_document(ctl, {"code": "MK-SECRET-01", "title": "保密客户投诉登记表", "doc_type": "form",
                                           "department": "ZB", "confidentiality": "confidential"})
    rev = documents.start_revision(ctl, form, {"body_html": "<p>表</p>", "change_summary": "首版发行",
                                               "fields": [{"name": "customer", "label": "客户", "type": "text"}]})
    f.approved(rev)
    workflow.release_revision(ctl, rev, {"effective_date": clock.today().isoformat()})
    frozen_review = services.hold_review(people.organiser, review)
    assert frozen_review.inputs["complaints"]["forms"][0]["code"] == "MK-SECRET-01"
    seen = inputs.as_seen_by(people.member, review.inputs)["complaints"]["forms"]
    assert seen == [{"id": None, "code": None, "title": None, "count": 0, "restricted": True}]
    assert inputs.as_seen_by(people.controller, review.inputs) == review.inputs
    for user in (people.member, people.chair):
        body = f.api(user).get(f"/management-reviews/{review.id}").get_data(as_text=True)
        assert "MK-SECRET" not in body and "保密客户" not in body
        report = f.api(user).get(f"/management-reviews/{review.id}/report.docx")
        with zipfile.ZipFile(io.BytesIO(report.get_data())) as archive:
            xml = archive.read("word/document.xml").decode("utf-8")
        assert "MK-SECRET" not in xml and "（受限）" in xml
    assert "MK-SECRET-01" in f.api(people.controller).get(f"/management-reviews/{review.id}").get_data(as_text=True)
