"""The browser side of internal audits: planning with per-field errors, running the audit
from its page (checklist, findings, corrective actions, report, closure), escaping,
CSRF, read-only reviewers, the report download and the audit programme."""
import html as htmllib
import re

from sqlalchemy import func, select

from portal.audit.models import Audit, CorrectiveAction, Finding
from portal.extensions import db


def post_form(web, kit, page_url: str, action_part: str, **values):
    """Submit the form of `page_url` whose action contains `action_part`, like a browser."""
    page = kit.page(web, page_url)
    data = kit.page_form(page, action_part)
    for name, value in values.items():
        if isinstance(value, list):
            data.setlist(name, value)
        else:
            data[name] = value
    actions = [a for a in re.findall(r'<form[^>]*action="([^"]*)"', page) if action_part and action_part in a]
    target = actions[0] if actions else page_url
    return web.post(htmllib.unescape(target), data=data, headers={"Referer": f"http://localhost{page_url}"})


def the_audit() -> Audit:
    db.session.rollback()
    return db.session.execute(select(Audit).order_by(Audit.id.desc())).scalars().first()


PLAN_FORM = {"title": "2026年度第一次内部质量审核", "planned_start": "2026-03-10", "planned_end": "2026-03-12",
             "departments": ["SC", "SH"], "clauses": ["ISO 9001:2015 7.5.3", "ISO 9001:2015 8.5.1"]}


def test_plan_run_and_close_an_audit_in_the_browser(f, browser, kit, lead, second_auditor, owner):
    web = browser(lead)
    assert "/audits" in kit.page(web, "/")  # the nav link
    assert "/audits/new" in kit.page(web, "/audits")
    response = post_form(web, kit, "/audits/new", "", team=[second_auditor.username], **PLAN_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    audit = the_audit()
    assert response.headers["Location"].endswith(f"/audits/{audit.id}")
    assert (audit.state, audit.lead_auditor_id) == ("planned", lead.id)
    assert [d.code for d in audit.departments] == ["SC", "SH"] and [u.id for u in audit.team] == [second_auditor.id]
    url = f"/audits/{audit.id}"
    assert audit.number in kit.page(web, url) and audit.number in kit.page(web, "/audits")

    post_form(web, kit, url, "/checklist", question="现场文件是否为现行版本？", clause="ISO 9001:2015 7.5.3",
              department="SC")
    post_form(web, kit, url, "/start")
    item = the_audit().checklist[0]
    post_form(web, kit, url, f"/checklist/{item.id}", result="nonconforming", notes="资料柜中有 A/0 版")
    post_form(web, kit, url, "/findings", classification="minor", clause="ISO 9001:2015 7.5.3", department="SC",
              statement="现场使用作废版本")
    audit = the_audit()
    assert audit.state == "in_progress" and audit.checklist[0].result == "nonconforming"
    finding = audit.findings[0]
    assert (finding.classification, finding.department.code) == ("minor", "SC")
    post_form(web, kit, url, f"/findings/{finding.id}/actions", owner=owner.username, due_date="2099-05-01",
              plan="修订发放回收流程")
    action = the_audit().findings[0].actions[0]
    assert (action.state, action.owner_id) == ("open", owner.id)

    owner_web = browser(owner)
    assert action.number in kit.page(owner_web, "/audits")  # my open corrective actions
    post_form(owner_web, kit, url, f"/actions/{action.id}/complete", note="已收回并修订", root_cause="换版未核对资料柜")
    post_form(browser(second_auditor), kit, url, f"/actions/{action.id}/verify", effective="1", note="有效")
    post_form(web, kit, url, "/report", summary="审核概述", conclusion="基本有效")
    post_form(web, kit, url, "/close")
    audit = the_audit()
    assert audit.state == "closed" and audit.conclusion == "基本有效"
    assert audit.findings[0].actions[0].state == "closed"
    assert audit.findings[0].actions[0].verified_by_id == second_auditor.id
    report = web.get(f"/audits/{audit.id}/report.docx")
    assert report.status_code == 200 and report.data[:2] == b"PK"


def test_a_bad_plan_comes_back_with_the_typed_values_and_messages(browser, kit, lead, f):
    insider = f.user("auditor", department="SC", name="生产部内审员")
    web = browser(lead)
    response = post_form(web, kit, "/audits/new", "", team=[insider.username],
                         **{**PLAN_FORM, "planned_end": "2026-03-01", "title": "保留我的标题"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "保留我的标题" in body and "before planned_start" in body and "belongs to audited department SC" in body
    assert db.session.execute(select(func.count()).select_from(Audit)).scalar() == 0


def test_forms_without_csrf_token_are_refused(browser, planned, lead):
    audit = planned()
    web = browser(lead)
    assert web.post(f"/audits/{audit['id']}/start", data={}).status_code in (400, 403)
    assert web.post("/audits/new", data={"title": "x"}).status_code in (400, 403)
    assert the_audit().state == "planned"


def test_hostile_html_in_a_statement_is_shown_as_text(browser, kit, lead, finding, running):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    finding(statement=hostile)
    page = kit.page(browser(lead), f"/audits/{running['id']}")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert htmllib.escape(hostile, quote=False) in page or "&lt;script&gt;" in page


def test_domain_errors_in_the_browser_are_flashed_and_change_nothing(browser, kit, lead, running):
    web = browser(lead)
    url = f"/audits/{running['id']}"
    response = post_form(web, kit, url, "/findings", statement="")
    assert response.status_code in (302, 303)
    assert "statement" in kit.page(web, response.headers["Location"])
    assert db.session.execute(select(func.count()).select_from(Finding)).scalar() == 0
    response = post_form(web, kit, url, "/findings", statement="证据不存在", evidence="QR-NONE-0001")
    assert "QR-NONE-0001" in kit.page(web, response.headers["Location"])
    assert db.session.execute(select(func.count()).select_from(Finding)).scalar() == 0


def test_evidence_is_typed_as_record_numbers_and_document_codes(f, browser, kit, lead, running):
    doc = f.document(code="QP0501")
    web = browser(lead)
    post_form(web, kit, f"/audits/{running['id']}", "/findings", statement="见文件", evidence=f"QP0501, document:{doc.id}")
    finding = the_audit().findings[0]
    assert [(e["kind"], e["id"]) for e in finding.evidence] == [("document", doc.id)]  # named twice, cited once
    assert f"/documents/{doc.id}" in kit.page(web, f"/audits/{running['id']}")


def test_staff_cannot_plan_and_see_no_run_buttons(f, browser, kit, planned):
    audit = planned()
    web = browser(f.user("staff"))
    assert web.get("/audits/new").status_code == 403
    page = kit.page(web, f"/audits/{audit['id']}")
    assert audit["number"] in page and "/start" not in page
    assert "/audits/new" not in kit.page(web, "/audits")


def test_only_the_owner_sees_the_complete_form(f, browser, kit, lead, owner, action, running):
    act = action()
    url = f"/audits/{running['id']}"
    assert f"/actions/{act['id']}/complete" in kit.page(browser(owner), url)
    assert f"/actions/{act['id']}/complete" not in kit.page(browser(lead), url)


def test_external_reviewer_reads_reports_only(f, browser, kit, api, planned, running, action):
    act = action()
    hidden = planned(title="尚未开始的审核")
    api.post(f"/audits/{running['id']}/report")
    web = browser(f.user("external_reviewer"))
    listing = kit.page(web, "/audits")
    assert running["number"] in listing and hidden["number"] not in listing
    page = kit.page(web, f"/audits/{running['id']}")
    assert 'method="post"' not in page.split("<main>")[1]  # no forms but the logout button in the header
    assert web.get(f"/audits/{hidden['id']}").status_code == 404
    assert web.get(f"/audits/{running['id']}/report.docx").status_code == 200
    token = kit.csrf_token(page)  # a valid token: the refusal must come from the read-only rule
    assert web.post(f"/audits/{running['id']}/close", data={"csrf_token": token}).status_code == 403
    assert web.post(f"/actions/{act['id']}/complete", data={"csrf_token": token, "note": "x"}).status_code == 403
    db.session.rollback()
    assert db.session.get(Audit, running["id"]).state == "reported"
    assert db.session.get(CorrectiveAction, act["id"]).state == "open"


def test_audit_programme_page(browser, kit, lead, running, api):
    web = browser(lead)
    assert web.get("/audit-programme").status_code == 302
    page = kit.page(web, "/audit-programme/2026")
    assert running["number"] in page and "ISO 9001:2015 7.5.3" in page and "生产部" in page
    assert "coverage-planned" in page and "coverage-not_covered" in page
    item = api.post(f"/audits/{running['id']}/checklist", json={
        "clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": "文件是否现行有效？"}).get_json()
    api.patch(f"/audits/{running['id']}/checklist/{item['id']}", json={"result": "conforming"})
    api.post(f"/audits/{running['id']}/report")
    assert "coverage-audited" in kit.page(web, "/audit-programme/2026")
    assert web.get("/audit-programme/0").status_code == 404


def test_every_stored_audit_word_is_translatable():
    """States, classes and results are shown through _(value): portal/vocabulary.py must list them."""
    from portal.audit.models import ACTION_STATES, AUDIT_STATES, CHECK_RESULTS, CLASSIFICATIONS
    from portal.vocabulary import WORDS

    words = {*AUDIT_STATES, *CLASSIFICATIONS, *CHECK_RESULTS, *ACTION_STATES, "audited", "planned", "not_covered"}
    assert not words - set(WORDS)
