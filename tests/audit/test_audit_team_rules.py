"""Who may lead or join an audit: qualified, unexpired auditors for the audit's standards on its
first day, independent of the audited departments and of their documents unless a controller
justified it; ad-hoc audits carry their reason. Refusals create nothing."""
import io

import docx
import pytest
from sqlalchemy import func, select

from portal.audit.models import Audit
from portal.extensions import db
from portal.trail.models import TrailEntry


def _counts():
    db.session.rollback()
    return (db.session.execute(select(func.count()).select_from(Audit)).scalar(),
            db.session.execute(select(func.count()).select_from(TrailEntry)).scalar())


def _refused(response, status, field=None):
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    if field:
        assert field in error["fields"], error
    return error


# --- qualification ---------------------------------------------------------------------------------

def test_an_unregistered_auditor_neither_leads_nor_joins(api, f, depts, plan_payload):
    newbie = f.user("auditor", username="newbie", department=f.department("YF", "研发部").code, qualified=False)
    before = _counts()
    error = _refused(api.post("/audits", json=plan_payload(team=[newbie.username])), 422, "team")
    assert "newbie is not a registered auditor" in error["fields"]["team"]
    lead_api = f.api(newbie)
    before = _counts()
    _refused(lead_api.post("/audits", json=plan_payload(lead_auditor=newbie.username, team=[])), 422,
             "lead_auditor")
    assert _counts() == before


def test_qualified_until_counts_on_the_audits_first_day(api, f, depts, lead, plan_payload):
    f.qualify(lead, standards=["ISO 9001:2015"], qualified_until="2026-03-09")
    before = _counts()
    error = _refused(api.post("/audits", json=plan_payload()), 422, "lead_auditor")
    assert "until 2026-03-09" in error["fields"]["lead_auditor"]
    assert _counts() == before
    f.qualify(lead, standards=["ISO 9001:2015"], qualified_until="2026-03-10")  # the first day itself
    assert api.post("/audits", json=plan_payload()).status_code == 201


def test_a_qualification_for_another_standard_does_not_count(api, f, depts, lead, second_auditor, plan_payload):
    f.qualify(second_auditor, standards=["ISO 14001:2015"])
    error = _refused(api.post("/audits", json=plan_payload()), 422, "team")
    assert "not qualified for ISO 9001:2015" in error["fields"]["team"]
    f.qualify(lead, standards=["ISO 9001:2015"])
    mixed = plan_payload(clauses=["ISO 9001:2015 7.5.3", "ISO 14001:2015 7.5"], team=[])
    error = _refused(api.post("/audits", json=mixed), 422, "lead_auditor")  # every standard of its clauses
    assert "not qualified for ISO 14001:2015" in error["fields"]["lead_auditor"]
    f.qualify(second_auditor, standards=["ISO 9001:2015", "ISO 14001:2015"])
    assert api.post("/audits", json=plan_payload()).status_code == 201


# --- independence -----------------------------------------------------------------------------------

def test_nobody_audits_a_document_they_wrote_or_signed(api, f, depts, lead, second_auditor, plan_payload):
    controller = f.user("controller", department="SC")
    sc_doc = f.document(controller, code="QP-SC-01", department="SC")
    f.draft(sc_doc, author=lead)  # the lead wrote a revision of a 生产部 document
    before = _counts()
    error = _refused(api.post("/audits", json=plan_payload()), 422, "lead_auditor")
    assert "wrote or signed documents of audited department SC" in error["fields"]["lead_auditor"]
    assert _counts() == before
    sh_doc = f.document(controller, code="QP-SH-09", department="SH")
    rev, reviewers, approver = f.submitted(f.draft(sh_doc), reviewers=[second_auditor])
    from portal.documents import workflow

    workflow.sign_revision(second_auditor, rev, {"meaning": "review", "decision": "accept", "comment": "同意",
                                                 "password": "correct-horse-1"})
    error = _refused(api.post("/audits", json=plan_payload(departments=["SH"])), 422, "team")
    assert "SH" in error["fields"]["team"]
    # a signer asked but who has not signed yet is still independent
    _, waiting, _ = f.submitted(f.draft(f.document(controller, code="QP-SH-10", department="SH")),
                                reviewers=[f.user("auditor", username="third", department="XZ")])
    assert api.post("/audits", json=plan_payload(departments=["SH"], lead_auditor="third",
                                                 team=[])).status_code == 201


def test_a_controllers_justification_lets_the_team_audit_and_is_shown(f, depts, lead, plan_payload, browser, kit):
    insider = f.user("auditor", username="insider", department="SC", name="生产部内审员")
    controller = f.user("controller", username="wenkong", name="李文控")
    api = f.api(controller)
    reason = "<b>生产部</b>仅一名合格内审员，且只审核与本人工作无关的 7.5.3"
    payload = plan_payload(team=[insider.username], independence_override={"reason": reason})
    response = api.post("/audits", json=payload)
    assert response.status_code == 201, response.get_json()
    audit = response.get_json()
    assert audit["independence"]["reason"] == reason and audit["independence"]["by"] == "wenkong"
    entry = db.session.execute(select(TrailEntry).where(TrailEntry.action == "audit.independence_justified",
                                                        TrailEntry.object_id == audit["id"])).scalar_one()
    assert entry.reason == reason and entry.after["auditors"] == ["zhoujing", "insider"]
    # the justified member may take the audit's steps
    assert f.api(insider).post(f"/audits/{audit['id']}/start").status_code == 200
    page = kit.page(browser(lead), f"/audits/{audit['id']}")
    assert "生产部</b>" not in page and "&lt;b&gt;生产部&lt;/b&gt;" in page and "李文控" in page
    report = docx.Document(io.BytesIO(f.api(lead).get(f"/audits/{audit['id']}/report.docx").data))
    text = "\n".join(c.text for t in report.tables for r in t.rows for c in r.cells)
    assert "独立性说明" in text and "仅一名合格内审员" in text


@pytest.mark.parametrize("override", [{"reason": ""}, {"reason": "   "}, {"reason": 5}, "必要", {"why": "x"},
                                      {"reason": "x" * 2001}])
def test_a_malformed_justification_is_refused(f, depts, plan_payload, override):
    insider = f.user("auditor", department="SC")
    api = f.api(f.user("controller"))
    before = _counts()
    _refused(api.post("/audits", json=plan_payload(team=[insider.username], independence_override=override)),
             422, "independence_override")
    assert _counts() == before


def test_only_a_controller_justifies(api, f, depts, plan_payload):
    insider = f.user("auditor", department="SC")
    before = _counts()
    payload = plan_payload(team=[insider.username], independence_override={"reason": "人手不足"})
    _refused(api.post("/audits", json=payload), 403)
    assert _counts() == before
    _refused(api.post("/audits", json=plan_payload(team=[insider.username])), 422, "team")


def test_a_justification_does_not_waive_the_qualification(f, depts, plan_payload):
    insider = f.user("auditor", department="SC", qualified=False)
    api = f.api(f.user("controller"))
    _refused(api.post("/audits", json=plan_payload(team=[insider.username],
                                                   independence_override={"reason": "人手不足"})), 422, "team")


# --- ad-hoc audits ----------------------------------------------------------------------------------

def test_an_ad_hoc_audit_needs_its_reason_and_joins_the_programme(api, depts, plan_payload):
    before = _counts()
    _refused(api.post("/audits", json=plan_payload(kind="ad_hoc")), 422, "reason")
    _refused(api.post("/audits", json=plan_payload(kind="ad_hoc", reason="   ")), 422, "reason")
    _refused(api.post("/audits", json=plan_payload(kind="special", reason="x")), 422, "kind")
    _refused(api.post("/audits", json=plan_payload(reason="客户投诉")), 422, "reason")
    assert _counts() == before
    response = api.post("/audits", json=plan_payload(kind="ad_hoc", reason="客户投诉 2026-02-15：维修超时"))
    assert response.status_code == 201
    audit = response.get_json()
    assert audit["kind"] == "ad_hoc" and audit["reason"] == "客户投诉 2026-02-15：维修超时"
    programme = api.get("/audit-programme/2026").get_json()
    assert [(a["number"], a["kind"]) for a in programme["audits"]] == [(audit["number"], "ad_hoc")]
    create = db.session.execute(select(TrailEntry).where(TrailEntry.action == "audit.create",
                                                         TrailEntry.object_id == audit["id"])).scalar_one()
    assert create.after["kind"] == "ad_hoc" and create.after["reason"].startswith("客户投诉")


def test_the_planning_form_takes_kind_reason_and_justification(browser, kit, f, depts, lead, second_auditor):
    controller = f.user("controller", name="李文控")
    insider = f.user("auditor", username="insider", department="SC")
    web = browser(controller)
    html = kit.page(web, "/audits/new")
    assert 'name="independence_reason"' in html and 'name="reason"' in html
    assert 'name="independence_reason"' not in kit.page(browser(lead), "/audits/new")  # controllers only
    data = {"csrf_token": kit.csrf_token(html), "title": "临时审核", "planned_start": "2026-03-10",
            "planned_end": "2026-03-10", "departments": ["SC"], "clauses": ["ISO 9001:2015 7.5.3"],
            "lead_auditor": lead.username, "team": [insider.username], "kind": "ad_hoc", "reason": ""}
    response = web.post("/audits/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "required for an ad-hoc audit" in page and "insider belongs to audited department SC" in page
    data.update(reason="客户投诉", independence_reason="生产部内审员仅审核他人工作")
    response = web.post("/audits/new", data=data)
    assert response.status_code == 302
    db.session.rollback()
    audit = db.session.execute(select(Audit).where(Audit.title == "临时审核")).scalar_one()
    assert (audit.kind, audit.ad_hoc_reason, audit.independence_by_id) == ("ad_hoc", "客户投诉", controller.id)
    assert "生产部内审员仅审核他人工作" in kit.page(web, f"/audits/{audit.id}")
