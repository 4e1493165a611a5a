"""Frozen searches as audit evidence: attached to a finding or a checklist item, shown on
the audit, in the trail; findings and corrective actions are themselves searchable."""
import html as htmllib
import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.search import indexer
from portal.search.models import Evidence
from portal.trail.models import TrailEntry

STATEMENT = "现场抽查发现客户投诉处理报告单未经部门经理签字确认。"


def evidence_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Evidence))


def drain() -> None:
    db.session.rollback()  # the test's own session must not hold SQLite's write lock
    indexer.drain_outbox()


def trail_actions(object_type: str, object_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.execute(select(TrailEntry.action).where(
        TrailEntry.object_type == object_type, TrailEntry.object_id == object_id)
        .order_by(TrailEntry.seq)).scalars())


@pytest.fixture
def checklist_item(api, running):
    response = api.post(f"/audits/{running['id']}/checklist",
                        json={"clause": "ISO 9001:2015 7.5.3", "department": "SC",
                              "question": "现场使用的文件是否为有效版本？"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_freezing_a_search_for_a_finding_attaches_it_and_the_audit_shows_it(api, f, running, finding,
                                                                             browser, lead):
    x = finding(statement=STATEMENT)
    drain()
    response = api.post("/evidence", json={"q": "未经部门经理签字", "note": "7.5.3 抽样", "finding_id": x["id"]})
    assert response.status_code == 201, response.get_json()
    frozen = response.get_json()
    assert frozen["finding_id"] == x["id"] and frozen["checklist_item_id"] is None
    assert [h["ref"] for h in frozen["hits"]] == [x["number"]]  # the finding itself is indexed
    assert api.get(f"/evidence/{frozen['id']}").get_json()["finding_id"] == x["id"]
    listed = api.get(f"/evidence?finding_id={x['id']}").get_json()
    assert [e["id"] for e in listed["items"]] == [frozen["id"]]
    assert "finding.evidence" in trail_actions("finding", x["id"])
    page = browser(lead).get(f"/audits/{running['id']}").get_data(as_text=True)
    assert f'/evidence/{frozen["id"]}' in page and "未经部门经理签字" in page


def test_a_checklist_item_takes_evidence_too(api, running, checklist_item):
    response = api.post("/evidence", json={"q": "文件", "checklist_item_id": checklist_item["id"]})
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["checklist_item_id"] == checklist_item["id"] and item["finding_id"] is None
    assert [e["id"] for e in api.get(f"/evidence?audit_id={running['id']}").get_json()["items"]] == [item["id"]]
    assert "audit.checklist_evidence" in trail_actions("audit", running["id"])


def test_basket_items_are_attached_later_once(api, finding, checklist_item):
    x = finding()
    item = api.post("/evidence", json={"q": "作业指导书"}).get_json()
    assert item["finding_id"] is None
    response = api.post(f"/evidence/{item['id']}/attach", json={"finding_id": x["id"]})
    assert response.status_code == 200 and response.get_json()["finding_id"] == x["id"]
    again = api.post(f"/evidence/{item['id']}/attach", json={"checklist_item_id": checklist_item["id"]})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_attached"
    shown = api.get(f"/evidence/{item['id']}").get_json()
    assert shown["finding_id"] == x["id"] and shown["checklist_item_id"] is None and shown["intact"]


@pytest.mark.parametrize("payload, field", [
    ({"finding_id": 10**9}, "finding_id"),
    ({"checklist_item_id": 10**9}, "checklist_item_id"),
    ({"finding_id": "abc"}, "finding_id"),
    ({"finding_id": 1.5}, "finding_id"),
    ({"finding_id": True}, "finding_id"),
    ({"finding_id": -3}, "finding_id"),
])
def test_bad_targets_are_422_and_freeze_nothing(api, finding, payload, field):
    finding()
    before = evidence_count()
    response = api.post("/evidence", json={"q": "文件", **payload})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert evidence_count() == before


def test_a_finding_and_a_checklist_item_at_once_is_422(api, finding, checklist_item):
    before = evidence_count()
    response = api.post("/evidence", json={"q": "文件", "finding_id": finding()["id"],
                                           "checklist_item_id": checklist_item["id"]})
    assert response.status_code == 422 and "checklist_item_id" in response.get_json()["error"]["fields"]
    assert evidence_count() == before


def test_attach_needs_a_target_and_a_json_object(api):
    item = api.post("/evidence", json={"q": "文件"}).get_json()
    assert api.post(f"/evidence/{item['id']}/attach", json={}).status_code == 422
    assert api.post(f"/evidence/{item['id']}/attach", data="{not json",
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post("/evidence/999999/attach", json={"finding_id": 1}).status_code == 404
    assert api.get(f"/evidence/{item['id']}").get_json()["finding_id"] is None


def test_only_auditors_controllers_and_admins_attach(f, finding, owner):
    x = finding()
    staff = f.api(owner)
    before = evidence_count()
    response = staff.post("/evidence", json={"q": "文件", "finding_id": x["id"]})
    assert response.status_code == 403
    assert evidence_count() == before
    item = staff.post("/evidence", json={"q": "文件"}).get_json()  # their own basket still works
    assert staff.post(f"/evidence/{item['id']}/attach", json={"finding_id": x["id"]}).status_code == 403
    reviewer = f.api(f.user("external_reviewer"))
    assert reviewer.post("/evidence", json={"q": "文件", "finding_id": x["id"]}).status_code == 403


def test_a_closed_audit_takes_no_more_evidence(api, running, finding, action):
    x = finding(classification="observation")
    minor = finding()
    action(on=minor)
    assert api.post(f"/audits/{running['id']}/report", json={"summary": "完成", "conclusion": "有效"}).status_code == 200
    assert api.post(f"/audits/{running['id']}/close").status_code == 200
    before = evidence_count()
    response = api.post("/evidence", json={"q": "文件", "finding_id": x["id"]})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "audit_closed"
    assert evidence_count() == before


def test_findings_and_actions_are_searchable_and_reviewers_see_them_once_reported(
        api, f, running, finding, action):
    x = finding(statement=STATEMENT)
    ca = action(on=x, plan="修订客户投诉处理流程，增加签字核对")
    drain()
    hits = api.get("/search", query_string={"q": "签字", "kind": "finding"}).get_json()["hits"]
    assert [(h["kind"], h["ref"], h["url"]) for h in hits] == [("finding", x["number"], f"/findings/{x['id']}")]
    hits = api.get("/search", query_string={"q": "签字核对", "kind": "action"}).get_json()["hits"]
    assert [(h["ref"], h["url"]) for h in hits] == [(ca["number"], f"/actions/{ca['id']}")]
    reviewer = f.api(f.user("external_reviewer"))
    seen = {h["kind"] for h in reviewer.get("/search", query_string={"q": "签字"}).get_json()["hits"]}
    assert seen == set()  # the audit is still running: neither its finding nor its action is shown yet
    assert api.post(f"/audits/{running['id']}/report", json={"summary": "完成", "conclusion": "有效"}).status_code == 200
    drain()
    seen = {h["kind"] for h in reviewer.get("/search", query_string={"q": "签字"}).get_json()["hits"]}
    assert seen == {"finding", "action"}


def test_freeze_and_attach_in_the_browser(finding, checklist_item, browser, kit, lead):
    x = finding(statement=STATEMENT)
    drain()
    web = browser(lead)
    page = kit.page(web, "/search?q=签字")
    assert f'value="finding:{x["id"]}"' in page and f'value="checklist:{checklist_item["id"]}"' in page
    data = kit.page_form(page, "/search/evidence")
    data["attach_to"] = f"finding:{x['id']}"
    response = web.post("/search/evidence", data=data)
    assert response.status_code in (302, 303)
    shown = kit.page(web, response.headers["Location"])
    assert x["number"] in shown and "#finding-" in shown  # "Supports" links to the finding
    # a second search from the basket, attached afterwards to the checklist item
    data = kit.page_form(kit.page(web, "/search?q=文件"), "/search/evidence")
    evidence_url = web.post("/search/evidence", data=data).headers["Location"]
    page = kit.page(web, evidence_url)
    form = kit.page_form(page, "/attach")
    form["attach_to"] = f"checklist:{checklist_item['id']}"
    action = htmllib.unescape(re.search(r'action="([^"]*/attach)"', page).group(1))
    assert web.post(action, data=form).status_code in (302, 303)
    assert "#item-" in kit.page(web, evidence_url)


def test_a_search_for_the_word_ranks_the_procedure_above_an_action_that_merely_is_one(
        api, f, running, finding, action):
    """An action's title is its finding and plan, not the label 纠正措施 that every action shares."""
    controller = f.user("controller")
    procedure = f.document(controller, code="QP1401", title="纠正和预防措施控制程序")
    f.effective(procedure, controller, body="<p>责任部门针对根本原因制定纠正措施，经质保部审核。</p>")
    x = finding(statement=STATEMENT)
    ca = action(on=x, plan="修订客户投诉处理流程，增加签字核对")
    drain()
    hits = api.get("/search", query_string={"q": "纠正措施"}).get_json()["hits"]
    assert [h["ref"] for h in hits][:1] == ["QP1401"]
    mine = next(h for h in api.get("/search", query_string={"q": "签字核对"}).get_json()["hits"]
                if h["kind"] == "action")
    assert mine["ref"] == ca["number"] and mine["title"].startswith(x["number"]) and "签字核对" in mine["title"]
