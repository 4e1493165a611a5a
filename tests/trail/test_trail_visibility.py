"""Who reads which trail entries (trail/visibility.py): an entry is read by whoever may see its
object, with the same rule as every other channel; controllers and admins read it all.
Also: each domain's SQL rule (visible_to) equals its rule for one object (can_view_*)."""
import pytest
from sqlalchemy import select

from portal.audit import queries as audit_queries
from portal.audit.models import Audit, CorrectiveAction, Finding
from portal.documents import queries as doc_queries
from portal.documents.models import ControlledCopy, Document, Revision
from portal.extensions import db
from portal.records import queries as record_queries
from portal.records.models import Record
from portal.search.index import close_searchers
from portal.trail.models import TrailEntry
from portal.trail.visibility import can_view_object
from records.conftest import browser, kit, page  # noqa: F401  (shared fixtures)
from security.hidden_world import build


@pytest.fixture
def world(f, kit):  # noqa: F811
    yield build(f, kit.pdf())
    close_searchers()


def _readers(world):
    return [world.users[name] for name in ("controller", "secstaff", "lead", "reviewer", "outsider", "auditor")]


def _sql_ids(model, condition) -> set[int]:
    return set(db.session.execute(select(model.id).where(condition)).scalars())


def test_each_sql_rule_equals_its_rule_for_one_object(world):
    """visible_to(user) and can_view_*(user, obj) agree on every fixture object, for every
    kind of reader, and the trail's dispatcher agrees with both."""
    cases = [
        (Document, doc_queries.visible_to, doc_queries.can_view_document, "document"),
        (Revision, doc_queries.revisions_visible_to, doc_queries.can_view_revision, "revision"),
        (ControlledCopy, doc_queries.copies_visible_to,
         lambda u, c: doc_queries.can_view_document(u, c.revision.document), "copy"),
        (Record, record_queries.visible_to, record_queries.can_view_record, "record"),
        (Audit, audit_queries.audits_visible_to, audit_queries.can_view_audit, "audit"),
        (Finding, audit_queries.findings_visible_to, lambda u, x: audit_queries.can_view_audit(u, x.audit),
         "finding"),
        (CorrectiveAction, audit_queries.actions_visible_to,
         lambda u, a: audit_queries.can_view_audit(u, a.finding.audit), "action"),
    ]
    for user in _readers(world):
        for model, sql_rule, one_rule, kind in cases:
            objects = db.session.execute(select(model)).scalars().all()
            assert objects, model
            expected = {o.id for o in objects if one_rule(user, o)}
            assert _sql_ids(model, sql_rule(user)) == expected, (user.username, kind)
            assert {o.id for o in objects if can_view_object(user, kind, o.id)} == expected, (user.username, kind)


def _all_pages(api, url: str) -> tuple[list[dict], int]:
    items, page_no = [], 1
    while True:
        body = api.get(f"{url}{'&' if '?' in url else '?'}per_page=100&page={page_no}").get_json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items, body["total"]
        page_no += 1


def test_auditors_read_only_entries_of_what_they_may_see(f, world):
    """The whole trail for an auditor of another department: no entry of the confidential
    document, its revision or copy, the confidential form or its records, nor the draft; the
    total counts only those (paging stays honest). Controllers keep every entry."""
    o = world.objects
    auditor, ctl = world.users["auditor"], world.users["controller"]
    items, total = _all_pages(f.api(auditor), "/trail")
    assert total == len(items) == len({e["seq"] for e in items})
    hidden = {("document", o["conf"].id), ("revision", o["conf_rev"].id), ("document", o["cform"].id),
              ("record", o["conf_record"].id), ("revision", o["draft"].id)}
    assert not {(e["object_type"], e["object_id"]) for e in items} & hidden
    assert ("revision", o["pub_a1"].id) in {(e["object_type"], e["object_id"]) for e in items}
    everything, all_total = _all_pages(f.api(ctl), "/trail")
    assert all_total == db.session.query(TrailEntry).count() > total
    assert hidden <= {(e["object_type"], e["object_id"]) for e in everything}


def test_one_hidden_objects_trail_is_404_for_everyone_but_controllers(f, world):
    o = world.objects
    for name in ("auditor", "outsider", "reviewer"):
        api = f.api(world.users[name])
        for kind, obj in (("document", o["conf"]), ("record", o["conf_record"]), ("revision", o["draft"])):
            assert api.get(f"/trail?object_type={kind}&object_id={obj.id}").status_code == 404, (name, kind)
    ctl = f.api(world.users["controller"])
    items = ctl.get(f"/trail?object_type=record&object_id={o['conf_record'].id}").get_json()["items"]
    assert [e["action"] for e in items] == ["record.issue", "record.correct", "record.attach"]


def test_staff_read_the_trail_of_an_object_they_may_see(f, world):
    """One rule for every object type: a record visible to the outsider has a readable trail."""
    rec = world.objects["public_record"]
    body = f.api(world.users["outsider"]).get(f"/trail?object_type=record&object_id={rec.id}").get_json()
    assert [e["action"] for e in body["items"]] == ["record.issue"] and body["total"] == 1
    assert f.api(world.users["outsider"]).get("/trail").status_code == 403  # not the whole trail


def test_a_findings_trail_shows_hidden_evidence_as_restricted(f, world):
    """finding.create names its evidence; a reader who may not see the confidential document
    and record reads those references without their codes, as on the finding's page, and the
    search text of evidence they may not open is left out."""
    finding = world.objects["finding"]
    url = f"/trail?object_type=finding&object_id={finding.id}"
    for name in ("outsider", "reviewer", "auditor"):
        items = f.api(world.users[name]).get(url).get_json()["items"]
        create = next(e for e in items if e["action"] == "finding.create")
        refs = [e["ref"] for e in create["after"]["evidence"]]
        assert refs == [None, None, f"QP-PUB-01 {world.objects['pub_a1'].label}"], name
        linked = next(e for e in items if e["action"] == "finding.evidence")
        assert "q" not in linked["after"] and linked["hash"], name
    items = f.api(world.users["controller"]).get(url).get_json()["items"]
    create = next(e for e in items if e["action"] == "finding.create")
    assert [e["ref"] for e in create["after"]["evidence"]][0] == "MKCONFCODE-01"
    assert next(e for e in items if e["action"] == "finding.evidence")["after"]["q"] == "MKCONFTITLE"


def test_the_document_page_history_shows_only_visible_revisions(world, browser):  # noqa: F811
    """操作记录 on the document page: the rejected draft's summary, reason and rejection comment
    for its author and the controller, not for the external reviewer nor a stranger; the
    superseded A/0 for staff, not for the external reviewer (who sees only A/1, as in the API)."""
    url = f"/documents/{world.objects['pub'].id}"
    draft_words = ("MKDRAFTSUMMARY", "MKDRAFTREASON", "MKREJECTCOMMENT")
    created = {}
    for name in ("controller", "secstaff", "reviewer", "outsider", "auditor"):
        history = page(browser(world.users[name]), url).split('class="list trail"', 1)[1]
        shown = [w for w in draft_words if w in history]
        assert shown == (list(draft_words) if name in ("controller", "secstaff") else []), name
        created[name] = history.count("revision.create")
    assert created == {"controller": 3, "secstaff": 3, "reviewer": 1, "outsider": 2, "auditor": 2}
