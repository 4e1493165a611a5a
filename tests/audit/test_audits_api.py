"""Internal audits through the JSON API: planning, the state machine, the 检查表, findings,
corrective actions, who may do what, the trail and the search outbox
(CONTRACT.md "Internal audits and corrective actions", "Audit trail")."""
import io

import docx
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.search.models import SearchOutbox
from portal.trail.models import TrailEntry


def trail_actions(object_type: str, object_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.execute(select(TrailEntry.action).where(
        TrailEntry.object_type == object_type, TrailEntry.object_id == object_id).order_by(TrailEntry.seq)).scalars())


def outbox(kind: str) -> list[int]:
    db.session.rollback()
    return list(db.session.execute(select(SearchOutbox.object_id).where(SearchOutbox.kind == kind)
                                   .order_by(SearchOutbox.id)).scalars())


# --- planning ------------------------------------------------------------------------------

def test_plan_an_audit(api, planned, lead, second_auditor):
    audit = planned()
    assert audit["state"] == "planned" and audit["number"].startswith("IA-")
    assert audit["departments"] == ["SC", "SH"] and audit["lead_auditor"] == lead.username
    assert audit["team"] == [second_auditor.username]
    assert audit["planned_start"] == "2026-03-10" and audit["planned_end"] == "2026-03-12"
    fetched = api.get(f"/audits/{audit['id']}").get_json()
    assert fetched["number"] == audit["number"] and fetched["checklist"] == [] and fetched["findings"] == []
    assert trail_actions("audit", audit["id"]) == ["audit.create"]


def test_audit_numbers_are_continuous(planned):
    numbers = [planned()["number"] for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3]


def test_list_is_paged_and_filtered_by_state(api, planned):
    _, second, _ = planned(), planned(), planned()
    api.post(f"/audits/{second['id']}/start")
    body = api.get("/audits", query_string={"per_page": 2}).get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (3, 1, 2, 2)
    body = api.get("/audits", query_string={"state": "in_progress"}).get_json()
    assert [a["id"] for a in body["items"]] == [second["id"]]
    assert api.get("/audits", query_string={"year": 2026}).get_json()["total"] == 3
    assert api.get("/audits", query_string={"year": 2025}).get_json()["total"] == 0


@pytest.mark.parametrize("query", ["state=bogus", "page=0", "per_page=x", "year=abc"])
def test_bad_list_parameters_are_400(api, query):
    response = api.get(f"/audits?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_parameter"


# --- the state machine ---------------------------------------------------------------------

def test_full_cycle_with_trail_in_order(api, f, running, action, owner, second_auditor):
    act = action()
    owner_api = f.api(owner)
    done = owner_api.post(f"/actions/{act['id']}/complete", json={"note": "已收回作废版本并修订流程"})
    assert done.status_code == 200 and done.get_json()["state"] == "completed"
    verified = f.api(second_auditor).post(f"/actions/{act['id']}/verify",
                                          json={"effective": True, "note": "抽查五处均为现行版本"})
    assert verified.status_code == 200
    body = verified.get_json()
    assert body["state"] == "closed" and body["verification"]["effective"] is True
    assert body["verification"]["by"] == second_auditor.username and body["verification"]["note"]
    reported = api.post(f"/audits/{running['id']}/report", json={"summary": "审核概述", "conclusion": "基本有效"})
    assert reported.status_code == 200 and reported.get_json()["state"] == "reported"
    assert reported.get_json()["conclusion"] == "基本有效"
    closed = api.post(f"/audits/{running['id']}/close")
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert trail_actions("audit", running["id"]) == ["audit.create", "audit.start", "audit.report", "audit.close"]
    assert trail_actions("finding", act["finding_id"]) == ["finding.create"]
    assert trail_actions("action", act["id"]) == ["action.create", "action.complete", "action.verify"]
    trail = api.get("/trail", query_string={"object_type": "action", "object_id": act["id"]}).get_json()
    assert [e["after"]["state"] for e in trail["items"]] == ["open", "completed", "closed"]


@pytest.mark.parametrize("step", ["report", "close"])
def test_a_planned_audit_cannot_skip_ahead(api, planned, step):
    audit = planned()
    response = api.post(f"/audits/{audit['id']}/{step}")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "invalid_transition"
    assert api.get(f"/audits/{audit['id']}").get_json()["state"] == "planned"
    assert trail_actions("audit", audit["id"]) == ["audit.create"]


def test_no_state_change_twice_or_backwards(api, running):
    assert api.post(f"/audits/{running['id']}/start").status_code == 409
    assert api.post(f"/audits/{running['id']}/close").status_code == 409
    assert api.post(f"/audits/{running['id']}/report").status_code == 200
    assert api.post(f"/audits/{running['id']}/start").status_code == 409
    assert api.post(f"/audits/{running['id']}/report").status_code == 409
    assert api.get(f"/audits/{running['id']}").get_json()["state"] == "reported"


def test_closing_needs_an_action_on_every_nonconformity(api, running, finding, action):
    major = finding(classification="major")
    minor = finding(classification="minor")
    finding(classification="observation")
    finding(classification="ofi")
    action(on=major)
    assert api.post(f"/audits/{running['id']}/report").status_code == 200
    refused = api.post(f"/audits/{running['id']}/close")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "finding_without_action"
    assert minor["number"] in refused.get_json()["error"]["message"]
    assert api.get(f"/audits/{running['id']}").get_json()["state"] == "reported"
    action(on=minor)  # actions may still be assigned once the audit is reported
    assert api.post(f"/audits/{running['id']}/close").status_code == 200


def test_findings_only_while_in_progress(api, planned, finding, running):
    audit = planned()
    data = {"classification": "minor", "clause": "ISO 9001:2015 7.5.3", "department": "SC", "statement": "x"}
    assert api.post(f"/audits/{audit['id']}/findings", json=data).status_code == 409
    api.post(f"/audits/{running['id']}/report")
    late = api.post(f"/audits/{running['id']}/findings", json=data)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "audit_not_in_progress"
    assert api.get(f"/audits/{running['id']}").get_json()["findings"] == []


# --- checklist ------------------------------------------------------------------------------

def test_checklist_prepared_before_and_filled_during_the_audit(api, planned, lead):
    audit = planned()
    item = api.post(f"/audits/{audit['id']}/checklist",
                    json={"clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": "现场文件是否为现行版本？"})
    assert item.status_code == 201
    item = item.get_json()
    url = f"/audits/{audit['id']}/checklist/{item['id']}"
    early = api.patch(url, json={"result": "conforming"})
    assert early.status_code == 409
    api.post(f"/audits/{audit['id']}/start")
    recorded = api.patch(url, json={"result": "nonconforming", "notes": "资料柜中有 A/0 版"})
    assert recorded.status_code == 200
    assert recorded.get_json()["result"] == "nonconforming" and recorded.get_json()["auditor"] == lead.username
    again = api.post(url, json={"result": "conforming", "notes": "复查"})  # POST works as well as PATCH
    assert again.status_code == 200 and again.get_json()["result"] == "conforming"
    shown = api.get(f"/audits/{audit['id']}").get_json()["checklist"]
    assert [(i["question"], i["result"], i["notes"]) for i in shown] == [("现场文件是否为现行版本？", "conforming", "复查")]
    assert trail_actions("audit", audit["id"]) == ["audit.create", "audit.checklist_add", "audit.start",
                                                   "audit.checklist_result", "audit.checklist_result"]


def test_checklist_is_final_once_reported(api, running):
    api.post(f"/audits/{running['id']}/report")
    response = api.post(f"/audits/{running['id']}/checklist",
                        json={"clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": "?"})
    assert response.status_code == 409


def test_checklist_item_of_another_audit_is_404(api, planned):
    one, other = planned(), planned()
    item = api.post(f"/audits/{one['id']}/checklist",
                    json={"clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": "?"}).get_json()
    assert api.patch(f"/audits/{other['id']}/checklist/{item['id']}", json={"result": "conforming"}).status_code == 404


# --- findings and evidence -----------------------------------------------------------------

def test_finding_with_evidence_and_outbox(api, f, running, finding):
    doc = f.document()
    rev = f.effective(doc)
    made = finding(evidence=[{"kind": "document", "id": doc.id}, {"kind": "revision", "id": rev.id}])
    assert made["number"] == f"{running['number']}-01"
    assert [(e["kind"], e["id"]) for e in made["evidence"]] == [("document", doc.id), ("revision", rev.id)]
    assert made["evidence"][0]["ref"] == doc.code
    assert api.get(f"/findings/{made['id']}").get_json()["statement"] == made["statement"]
    assert finding()["number"] == f"{running['number']}-02"
    assert made["id"] in outbox("finding")


def test_finding_evidence_must_exist(api, running):
    response = api.post(f"/audits/{running['id']}/findings", json={
        "classification": "minor", "clause": "ISO 9001:2015 7.5.3", "department": "SC", "statement": "x",
        "evidence": [{"kind": "record", "id": 999999}]})
    assert response.status_code == 422 and "evidence" in response.get_json()["error"]["fields"]


# --- corrective actions ----------------------------------------------------------------------

def test_action_open_and_enqueued(api, action, owner):
    act = action()
    assert act["state"] == "open" and act["owner"] == owner.username and act["number"].startswith("CA-")
    assert act["due_date"] == "2099-04-30" and act["verification"] is None
    assert api.get(f"/actions/{act['id']}").get_json()["plan"] == act["plan"]
    assert act["id"] in outbox("action")
    listed = api.get("/actions", query_string={"owner": owner.username, "state": "open"}).get_json()
    assert [a["id"] for a in listed["items"]] == [act["id"]]


def test_only_the_owner_completes_and_only_when_open(api, f, action, owner):
    act = action()
    refused = api.post(f"/actions/{act['id']}/complete", json={"note": "我来完成"})
    assert refused.status_code == 403
    assert api.get(f"/actions/{act['id']}").get_json()["state"] == "open"
    owner_api = f.api(owner)
    assert owner_api.post(f"/actions/{act['id']}/complete", json={"note": "完成"}).status_code == 200
    twice = owner_api.post(f"/actions/{act['id']}/complete", json={"note": "再次"})
    assert twice.status_code == 409
    assert trail_actions("action", act["id"]) == ["action.create", "action.complete"]


def test_not_effective_sends_the_action_back_to_open(api, f, action, owner):
    act = action()
    owner_api = f.api(owner)
    owner_api.post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    back = api.post(f"/actions/{act['id']}/verify", json={"effective": False, "note": "现场仍有作废版本"})
    assert back.status_code == 200 and back.get_json()["state"] == "open"
    assert back.get_json()["verification"]["effective"] is False
    assert owner_api.post(f"/actions/{act['id']}/complete", json={"note": "二次整改"}).status_code == 200
    assert api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "有效"}).get_json()["state"] == "closed"


def test_verification_rules(api, f, action, owner, depts):
    act = action()
    early = api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "x"})
    assert early.status_code == 409
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    by_staff = f.api(f.user("staff")).post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "x"})
    assert by_staff.status_code == 403
    by_owner = f.api(owner).post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "x"})
    assert by_owner.status_code == 403
    assert api.get(f"/actions/{act['id']}").get_json()["state"] == "completed"


def test_an_auditor_who_owns_the_action_cannot_verify_it(api, f, finding, depts):
    owning_auditor = f.user("auditor", department="SC")  # of the finding's department, so its owner
    act = api.post(f"/findings/{finding()['id']}/actions", json={
        "owner": owning_auditor.username, "due_date": "2099-01-01", "plan": "修订程序"}).get_json()
    auditor_api = f.api(owning_auditor)
    assert auditor_api.post(f"/actions/{act['id']}/complete",
                            json={"note": "完成", "root_cause": "程序未规定"}).status_code == 200
    assert auditor_api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "x"}).status_code == 403
    controller = f.user("controller")
    assert f.api(controller).post(f"/actions/{act['id']}/verify",
                                  json={"effective": True, "note": "有效"}).status_code == 200


# --- roles ------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["staff", "approver"])
def test_only_auditors_controllers_and_admins_plan_and_run(f, plan_payload, planned, role):
    other = f.api(f.user(role))
    assert other.post("/audits", json=plan_payload()).status_code == 403
    audit = planned()
    assert other.post(f"/audits/{audit['id']}/start").status_code == 403
    assert other.get(f"/audits/{audit['id']}").get_json()["state"] == "planned"


@pytest.mark.parametrize("role", ["controller", "admin"])
def test_controllers_and_admins_may_plan(f, plan_payload, role):
    assert f.api(f.user(role)).post("/audits", json=plan_payload()).status_code == 201


def test_external_reviewer_is_read_only_and_sees_reports_only(api, f, planned, running, action):
    act = action()
    reviewer = f.api(f.user("external_reviewer"))
    hidden = planned()
    assert reviewer.get(f"/audits/{hidden['id']}").status_code == 404
    assert reviewer.get(f"/audits/{running['id']}").status_code == 404
    assert reviewer.get(f"/findings/{act['finding_id']}").status_code == 404
    assert reviewer.get("/audits").get_json()["total"] == 0
    # a corrective action names its finding: the reviewer sees it with the report, not before
    assert reviewer.get(f"/actions/{act['id']}").status_code == 404
    assert reviewer.get("/actions").get_json()["total"] == 0
    api.post(f"/audits/{running['id']}/report")
    assert reviewer.get(f"/actions/{act['id']}").status_code == 200
    assert [a["id"] for a in reviewer.get("/actions").get_json()["items"]] == [act["id"]]
    assert reviewer.get(f"/audits/{running['id']}").status_code == 200
    assert [a["id"] for a in reviewer.get("/audits").get_json()["items"]] == [running["id"]]
    assert reviewer.get(f"/audits/{running['id']}/report.docx").status_code == 200
    for path in ("/audits", f"/audits/{running['id']}/close", f"/actions/{act['id']}/complete",
                 f"/findings/{act['finding_id']}/actions"):
        response = reviewer.post(path, json={})
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "read_only"
    assert api.get(f"/audits/{running['id']}").get_json()["state"] == "reported"


@pytest.mark.parametrize("path", ["/audits/999999", "/findings/999999", "/actions/999999",
                                  "/audits/999999/report.docx", "/audits/99999999999999999999"])
def test_unknown_ids_are_404(api, path):
    response = api.get(path)
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize("path", ["/audits/999999/start", "/audits/999999/findings", "/audits/999999/checklist",
                                  "/findings/999999/actions", "/actions/999999/complete", "/actions/999999/verify"])
def test_unknown_ids_on_actions_are_404(api, path):
    assert api.post(path, json={}).status_code == 404


def test_unauthenticated_is_401(client):
    assert client.get("/api/v1/audits").status_code == 401
    assert client.post("/api/v1/audits", json={}).status_code == 401


# --- report and programme ---------------------------------------------------------------------

def test_report_docx_carries_the_audit_in_chinese(api, running, finding, action):
    act = action(on=finding(statement="资料柜中存放作废版本"))
    api.post(f"/audits/{running['id']}/checklist",
             json={"clause": "ISO 9001:2015 8.5.1", "department": "SH", "question": "服务过程是否受控？"})
    api.post(f"/audits/{running['id']}/report", json={"conclusion": "体系运行基本有效"})
    response = api.get(f"/audits/{running['id']}/report.docx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    document = docx.Document(io.BytesIO(response.data))
    text = "\n".join([p.text for p in document.paragraphs] +
                     [c.text for t in document.tables for r in t.rows for c in r.cells])
    for expected in ("内部审核报告", running["number"], running["title"], "检查表", "服务过程是否受控？",
                     "资料柜中存放作废版本", "一般不符合", act["number"], "体系运行基本有效", "已报告"):
        assert expected in text, expected


def test_audit_programme_shows_coverage(api, f, planned, running, finding):
    """Audited only where a checklist result or a finding covers the cell; a reported audit
    that never checked a cell leaves it not covered (portal/audit/coverage.py)."""
    f.department("YF", "研发部")
    other = planned(departments=["SH"], clauses=["ISO 9001:2015 9.2"])
    item = api.post(f"/audits/{running['id']}/checklist", json={
        "clause": "ISO 9001:2015 8.5.1", "department": "SH", "question": "服务过程是否受控？"}).get_json()
    api.patch(f"/audits/{running['id']}/checklist/{item['id']}", json={"result": "conforming"})
    finding()  # SC × 7.5.3
    api.post(f"/audits/{running['id']}/report")
    body = api.get("/audit-programme/2026").get_json()
    cells = {(c["department"], c["clause"]): c for c in body["cells"]}
    assert cells[("SC", "ISO 9001:2015 7.5.3")]["status"] == "audited"
    assert cells[("SC", "ISO 9001:2015 7.5.3")]["audits"] == [running["number"]]
    assert cells[("SH", "ISO 9001:2015 8.5.1")]["status"] == "audited"
    assert cells[("SH", "ISO 9001:2015 7.5.3")]["status"] == "not_covered"  # reported, never checked
    assert cells[("SH", "ISO 9001:2015 9.2")]["status"] == "planned"
    assert cells[("SH", "ISO 9001:2015 9.2")]["audits"] == [other["number"]]
    assert cells[("SC", "ISO 9001:2015 9.2")]["status"] == "not_covered"
    assert cells[("YF", "ISO 9001:2015 7.5.3")]["status"] == "not_covered"
    assert set(body["clauses"]) == {"ISO 9001:2015 7.5.3", "ISO 9001:2015 8.5.1", "ISO 9001:2015 9.2"}
    assert body["summary"]["audited"] == 2
    assert api.get("/audit-programme/2025").get_json()["cells"] == []
    assert api.get("/audit-programme/0").status_code == 404


def test_an_audit_is_numbered_in_the_year_it_is_planned_for(planned):
    """Planned in December for January, it belongs to next year's programme and numbering."""
    this_year = planned(planned_start="2026-12-01", planned_end="2026-12-03")
    next_year = planned(planned_start="2027-01-11", planned_end="2027-01-13")
    assert this_year["number"] == "IA-2026-001" and next_year["number"] == "IA-2027-001"
