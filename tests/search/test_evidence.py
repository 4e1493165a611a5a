"""POST/GET /api/v1/evidence (CONTRACT.md "Search"): a frozen search kept as audit
evidence, unchanged whatever happens to the documents later, with a hash that shows
tampering, a trail entry, and bad input that changes nothing."""
import re

import pytest
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.search import indexer
from portal.search.models import Evidence
from portal.trail.models import TrailEntry

EVIDENCE_FIELDS = {"id", "q", "hits", "result_hash", "created_by", "created_at", "parsed_query",
                   "index_generation", "analyzer_version"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def drain(app):
    """Drain after ending the test session's transaction (f.api() requests share it)."""

    def run(**kw):
        db.session.rollback()
        return indexer.drain_outbox(**kw)

    return run


def count(model) -> int:
    db.session.rollback()
    total = db.session.execute(select(func.count()).select_from(model)).scalar()
    db.session.rollback()
    return total


def trail_entries(action: str) -> list[TrailEntry]:
    db.session.rollback()
    return db.session.execute(select(TrailEntry).where(TrailEntry.action == action)
                              .order_by(TrailEntry.seq)).scalars().all()


def assert_error(resp, status) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    error = resp.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"] and error["message"]
    return error


def freeze(api, status=201, **payload) -> dict:
    resp = api.post("/evidence", json=payload)
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp.get_json()


@pytest.fixture
def scene(f, doc, form, record, controller):
    """An effective procedure and a record that both mention 投诉, plus a staff auditor."""
    rev = doc("客户投诉处理程序", "规定客户投诉的受理、调查和答复。", code="QP-TS01")
    form_doc = form(code="QR-TS02", title="客户回访单")
    rec = record(form_doc, complaint="客户投诉安装延误")
    other = doc("文件控制程序", "文件的编制。", code="QP-WJ01")
    return {"rev": rev, "form": form_doc, "record": rec, "other": other}


# --- creating and reading ----------------------------------------------------------------

def test_freeze_answers_201_with_the_contract_shape(f, scene):
    auditor = f.user("auditor")
    item = freeze(f.api(auditor), q="投诉", note="条款 9.1.2 抽样")
    assert EVIDENCE_FIELDS <= set(item)
    assert isinstance(item["id"], int) and item["q"] == "投诉"
    assert item["created_by"] == auditor.username
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z|[+-]\d{2}:\d{2})$",
                    item["created_at"]), item["created_at"]
    assert SHA256.match(item["result_hash"])
    assert isinstance(item["parsed_query"], str) and item["parsed_query"]
    assert isinstance(item["analyzer_version"], str) and item["analyzer_version"]
    assert item["index_generation"] is None or isinstance(item["index_generation"], int)
    rev, rec, form_doc = scene["rev"], scene["record"], scene["form"]
    hits = item["hits"]
    assert all({"kind", "id", "ref"} <= set(h) for h in hits), hits
    by_ref = {h["ref"]: h for h in hits}
    assert set(by_ref) == {"QP-TS01", "QR-TS02", rec.number}
    doc_hit = by_ref["QP-TS01"]
    assert (doc_hit["kind"], doc_hit["id"], doc_hit["revision_id"]) == ("document", rev.document.id, rev.id)
    assert (by_ref[rec.number]["kind"], by_ref[rec.number]["id"]) == ("record", rec.id)
    assert by_ref["QR-TS02"]["revision_id"] == form_doc.revisions[0].id
    assert item.get("note") == "条款 9.1.2 抽样"
    assert item.get("intact") is True


def test_get_returns_the_item_exactly_as_created(f, scene):
    api = f.api(f.user("auditor"))
    item = freeze(api, q="投诉", filters={"kind": "record"}, note="记录抽样")
    resp = api.get(f"/evidence/{item['id']}")
    assert resp.status_code == 200
    assert resp.get_json() == item
    assert [h["id"] for h in item["hits"]] == [scene["record"].id]
    assert item.get("filters") == {"kind": "record"}
    listed = api.get("/evidence").get_json()
    assert listed["total"] == 1 and [e["id"] for e in listed["items"]] == [item["id"]]


def test_the_frozen_result_survives_supersede_and_void(f, scene, new_effective, controller, drain, frozen):
    api = f.api(f.user("auditor"))
    item = freeze(api, q="投诉", note="审核证据")
    before = api.get(f"/evidence/{item['id']}").get_json()
    # The documents change: a new revision supersedes the frozen one, the record is voided.
    new = new_effective(scene["rev"].document, "新版：客户投诉在24小时内答复。")
    resp = f.api(controller).post(f"/records/{scene['record'].id}/void", json={"reason": "重复登记"})
    assert resp.status_code == 200, resp.get_json()
    drain()
    now = api.get("/search", query_string={"q": "投诉"}).get_json()
    assert ("document", new.id) in {(h["kind"], h["id"]) for h in now["hits"]}
    assert ("document", scene["rev"].id) not in {(h["kind"], h["id"]) for h in now["hits"]}
    after = api.get(f"/evidence/{item['id']}").get_json()
    assert after == before == item
    assert after["hits"] == item["hits"] and after["result_hash"] == item["result_hash"]
    assert after["intact"] is True
    frozen_doc = next(h for h in after["hits"] if h["ref"] == "QP-TS01")
    assert frozen_doc["revision_id"] == scene["rev"].id
    assert frozen_doc.get("state", "effective") == "effective"
    frozen_rec = next(h for h in after["hits"] if h["kind"] == "record")
    assert frozen_rec.get("state", "open") == "open"
    # The same search frozen now is different evidence with a different hash.
    again = freeze(api, q="投诉", note="复核")
    assert again["result_hash"] != item["result_hash"]
    assert again["id"] != item["id"]


def test_editing_the_stored_hits_breaks_intact(f, scene):
    api = f.api(f.user("auditor"))
    item = freeze(api, q="投诉", note="原始")
    other = freeze(api, q="文件", note="对照")
    tampered = [dict(h) for h in item["hits"]][::-1]  # same hits, another order
    db.session.execute(update(Evidence).where(Evidence.id == item["id"]).values(hits=tampered))
    db.session.commit()
    db.session.expire_all()
    shown = api.get(f"/evidence/{item['id']}").get_json()
    assert shown["intact"] is False and shown["result_hash"] == item["result_hash"]
    assert api.get(f"/evidence/{other['id']}").get_json()["intact"] is True
    # A removed hit is caught too, and so is an edited query.
    db.session.execute(update(Evidence).where(Evidence.id == other["id"]).values(q="文件 控制"))
    db.session.commit()
    db.session.expire_all()
    assert api.get(f"/evidence/{other['id']}").get_json()["intact"] is False


def test_editing_the_hits_with_raw_sql_breaks_intact(f, scene):
    from sqlalchemy import text

    api = f.api(f.user("auditor"))
    item = freeze(api, q="投诉", note="原始")
    db.session.rollback()
    raw = db.session.execute(text("SELECT hits FROM evidence WHERE id = :id"), {"id": item["id"]}).scalar()
    raw = raw if isinstance(raw, str) else __import__("json").dumps(raw, ensure_ascii=False)
    assert scene["record"].number in raw
    edited = raw.replace(scene["record"].number, "QR-TS02-199901-9999")
    cast = "CAST(:h AS JSON)" if db.engine.dialect.name == "postgresql" else ":h"
    db.session.execute(text(f"UPDATE evidence SET hits = {cast} WHERE id = :id"), {"h": edited, "id": item["id"]})
    db.session.commit()
    db.session.expire_all()
    shown = api.get(f"/evidence/{item['id']}").get_json()
    assert shown["intact"] is False
    assert "QR-TS02-199901-9999" in [h["ref"] for h in shown["hits"]]


def test_freezing_writes_a_trail_entry(f, scene):
    auditor = f.user("auditor")
    item = freeze(f.api(auditor), q="投诉", note="审核证据")
    entries = trail_entries("evidence.freeze")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.object_type, entry.object_id) == (auditor.username, "evidence", item["id"])
    assert (entry.after or {}).get("result_hash") == item["result_hash"]


def test_freezing_respects_the_callers_permissions(f, doc, controller, drain):
    rev = doc("采购控制程序", "供应商评价准则。", code="QP-CG")
    f.draft(rev.document, body="<p>供应商评价准则（草案）。</p>", reason="修订")
    doc("保密供应商名单", "供应商保密名单。", code="QP-SEC", confidentiality="confidential")
    drain()
    outsider = f.user("staff")
    item = freeze(f.api(outsider), q="供应商", filters={"state": "any"}, note="x")
    assert [h["ref"] for h in item["hits"]] == ["QP-CG"]
    assert item.get("total", 1) == 1
    hidden = freeze(f.api(outsider), q="草案", filters={"state": "any"}, note="x")
    assert hidden["hits"] == [] and hidden.get("total", 0) == 0
    # Someone else's evidence is not readable by an unrelated staff user.
    assert_error(f.api(f.user("staff")).get(f"/evidence/{item['id']}"), (403, 404))
    assert f.api(f.user("auditor")).get(f"/evidence/{item['id']}").status_code == 200


def test_finding_id_and_filters_are_kept(f, scene, frozen):
    api = f.api(f.user("auditor"))
    item = freeze(api, q="投诉", filters={"kind": "document", "department": scene["rev"].document.department.code},
                  note="附在发现项上")
    assert {h["kind"] for h in item["hits"]} == {"document"}
    assert api.get(f"/evidence/{item['id']}").get_json()["filters"] == item["filters"]


def test_external_reviewer_cannot_freeze(f, scene):
    reviewer = f.user("external_reviewer")
    before = count(Evidence)
    assert_error(f.api(reviewer).post("/evidence", json={"q": "投诉", "note": "x"}), 403)
    assert count(Evidence) == before


# --- bad input changes nothing -----------------------------------------------------------

BAD = [
    ({"note": "no q"}, 422),
    ({"q": "", "note": "empty q"}, 422),
    ({"q": None, "note": "null q"}, 422),
    ({"q": 5, "note": "number q"}, 422),
    ({"q": ["投诉"], "note": "list q"}, 422),
    ({"q": "投诉", "filters": ["kind", "record"], "note": "x"}, 422),
    ({"q": "投诉", "filters": "kind=record", "note": "x"}, 422),
    ({"q": "投诉", "filters": 7, "note": "x"}, 422),
    ({"q": "投诉", "filters": {"color": "red"}, "note": "x"}, (400, 422)),
    ({"q": "投诉", "filters": {"audience": "all"}, "note": "x"}, (400, 422)),
    ({"q": "投诉", "filters": {"page": "2"}, "note": "x"}, (400, 422)),
    ({"q": "投诉", "filters": {"kind": "bogus"}, "note": "x"}, (400, 422)),
    ({"q": "投诉", "filters": {"kind": ["record"]}, "note": "x"}, (400, 422)),
    ({"q": "投诉", "filters": {"as_of": "2026-02-30"}, "note": "x"}, (400, 422)),
    ({"q": "投诉", "filters": {"state": "bogus"}, "note": "x"}, (400, 422)),
    ({"q": "投诉", "note": 5}, 422),
    ({"q": "投诉", "note": "x", "finding_id": "abc"}, 422),
    ({"q": "投诉", "note": "x", "finding_id": -1}, 422),
    ({"q": "投" * 10_000, "note": "x"}, (400, 422)),
]


@pytest.mark.parametrize("payload,status", BAD)
def test_bad_evidence_input_changes_nothing(f, scene, payload, status):
    api = f.api(f.user("auditor"))
    evidence, trail = count(Evidence), count(TrailEntry)
    assert_error(api.post("/evidence", json=payload), status)
    assert (count(Evidence), count(TrailEntry)) == (evidence, trail)


@pytest.mark.parametrize("body,content_type", [
    ("not json", "application/json"), ('["q", "投诉"]', "application/json"), ('{"q": "投诉"', "application/json"),
    ("q=投诉", "application/x-www-form-urlencoded"), ("", "application/json"),
    ('{"q": "\\ud800", "note": "x"}', "application/json"), (b'{"q": "\xff\xfe", "note": "x"}', "application/json"),
])
def test_malformed_evidence_bodies_are_400(f, scene, body, content_type):
    api = f.api(f.user("auditor"))
    evidence, trail = count(Evidence), count(TrailEntry)
    data = body if isinstance(body, bytes) else body.encode()
    resp = api.client.post("/api/v1/evidence", data=data, content_type=content_type,
                           headers={"Authorization": f"Bearer {api.token}"})
    assert_error(resp, (400, 415, 422))
    assert (count(Evidence), count(TrailEntry)) == (evidence, trail)


def test_unknown_evidence_is_404(f, scene):
    api = f.api(f.user("auditor"))
    assert_error(api.get("/evidence/999999"), 404)
    assert_error(api.get(f"/evidence/{2**63}"), 404)


def test_evidence_never_shows_an_external_reviewer_what_search_hides(f, doc, controller, drain):
    """Evidence frozen by a controller may list drafts and confidential documents; an
    external reviewer (never drafts or confidential documents) must not read them there."""
    public = doc("客户投诉处理程序", "投诉的受理。", code="QP-TS01")
    doc("保密投诉名单", "投诉名单。", code="QP-SEC", confidentiality="confidential")
    f.draft(public.document, body="<p>投诉草案：新增赔偿标准。</p>", reason="修订")
    drain()
    item = freeze(f.api(controller), q="投诉", filters={"state": "any"}, note="全量")
    assert {h["ref"] for h in item["hits"]} == {"QP-TS01", "QP-SEC"}
    assert any(h.get("revision_id") != public.id for h in item["hits"] if h["ref"] == "QP-TS01")  # the draft
    reviewer = f.api(f.user("external_reviewer"))
    assert [h["ref"] for h in reviewer.get("/search", query_string={"q": "投诉", "state": "any"})
            .get_json()["hits"]] == ["QP-TS01"]
    resp = reviewer.get(f"/evidence/{item['id']}")
    if resp.status_code == 200:
        body = resp.get_data(as_text=True)
        shown = resp.get_json()["hits"]
        assert "QP-SEC" not in body and "保密投诉名单" not in body, shown
        assert all(h.get("state") in (None, "effective") for h in shown), shown
    else:
        assert_error(resp, (403, 404))
    listed = reviewer.get("/evidence").get_json()
    assert "QP-SEC" not in str(listed) and "保密投诉名单" not in str(listed)
