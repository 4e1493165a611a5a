"""The demo (`portal demo`) shows the distribution features with realistic data: copies out,
a superseded revision with a recall outstanding, an overdue periodic review and an
external document."""
from datetime import date, timedelta

import pytest

from portal import clock
from portal.accounts import services as accounts


@pytest.fixture
def demo(app, f):
    from portal.demo.loader import load_demo

    load_demo()
    return f.api(accounts.user_by_username("wenkong"))


def all_items(api, path: str) -> list[dict]:
    items, page = [], 1
    while True:
        sep = "&" if "?" in path else "?"
        body = api.get(f"{path}{sep}page={page}&per_page=100").get_json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def test_the_demo_has_copies_out(demo):
    copies = all_items(demo, "/copies")
    live = [c for c in copies if c["status"] in ("issued", "acknowledged") and c["revision_state"] == "effective"]
    assert live, "no controlled copies of a revision in force"
    assert {c["status"] for c in live} == {"issued", "acknowledged"}  # some still to acknowledge
    assert any(c["holder_type"] == "department" for c in live) and any(c["holder_type"] == "user" for c in live)
    assert any(c["recall_outcome"] for c in copies), "no recall recorded"
    assert any(c["recall_witness"] for c in copies if c["recall_outcome"])


def test_the_demo_has_a_superseded_revision_with_a_recall_outstanding(demo):
    outstanding = demo.get("/copies?outstanding_recall=1").get_json()
    assert outstanding["total"] >= 1 and outstanding["items"]
    assert any(c["revision_state"] == "superseded" and c["recall_due"] for c in outstanding["items"])
    first = outstanding["items"][0]
    doc = demo.get(f"/documents/{first['document_id']}").get_json()
    # the holder of the superseded copy also holds a copy of the revision in force
    handed = [c for c in all_items(demo, f"/copies?document_id={doc['id']}")
              if c["holder"] == first["holder"] and c["revision_id"] == doc["current_revision"]["id"]]
    assert handed


def test_the_demo_has_an_overdue_review(demo):
    due = demo.get("/reviews/due?days=0").get_json()["items"]
    today = clock.today()
    overdue = [d for d in due if d["next_review_due"] and date.fromisoformat(d["next_review_due"]) < today]
    assert overdue, [(d["code"], d["next_review_due"]) for d in due]
    reviewed = [d for d in all_items(demo, "/documents")
                if demo.get(f"/documents/{d['id']}/reviews").get_json()["total"]]
    assert reviewed, "no periodic review recorded in the demo"


def test_the_demo_lists_an_external_document(demo):
    external = demo.get("/external-documents").get_json()["items"]
    assert external
    ext = external[0]
    assert ext["doc_type"] == "external" and ext["external_source"] and ext["received_on"]
    assert ext["status"] == "effective"
    assert [c for c in all_items(demo, f"/copies?document_id={ext['id']}")]  # distributed like the others


def test_demo_dates_are_relative_to_the_day_it_is_loaded(demo):
    """The loader replays history under a frozen clock; the reviewer's 30-day tour and the open
    drafts must still count from the real day of loading, not from the replayed past."""
    from portal.documents.models import Revision
    from portal.extensions import db

    today = clock.today()
    assert accounts.user_by_username("cb_auditor").expires_on == today + timedelta(days=30)
    open_revs = db.session.query(Revision).filter(Revision.state.in_(("draft", "in_review"))).all()
    assert open_revs
    created = [clock.local(r.created_at).date() for r in open_revs]
    assert all(today - timedelta(days=30) <= day <= today for day in created), created
