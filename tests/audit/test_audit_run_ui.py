"""Running an audit in the browser: a finding raised from a 不符合 row comes pre-filled (minor,
never major), the blank finding form defaults to 一般不符合, evidence is typed as codes, the owner
must be chosen among the finding's department, the auditee acknowledges, meeting notes, early
starts are flashed, completion asks for the root cause; hostile text stays text."""
import html as htmllib
import re
from datetime import datetime, timezone

from sqlalchemy import func, select

from portal.audit.models import CorrectiveAction, Finding
from portal.extensions import db
from portal.search import indexer

from audit.test_audits_ui import post_form, the_audit

CLAUSE = "ISO 9001:2015 7.5.3"


def selected(page: str, name: str) -> str | None:
    select_html = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select_html)
    return chosen.group(1) if chosen else re.search(r'<option value="([^"]*)"', select_html).group(1)


def a_nonconforming_row(api, running) -> dict:
    item = api.post(f"/audits/{running['id']}/checklist", json={
        "clause": CLAUSE, "department": "SC", "question": "现场文件是否为现行版本？"}).get_json()
    api.patch(f"/audits/{running['id']}/checklist/{item['id']}",
              json={"result": "nonconforming", "notes": "资料柜中有 A/0 版 <b>未作废</b>"})
    return item


def test_a_nonconforming_row_raises_a_prefilled_minor_finding(api, browser, kit, lead, running):
    item = a_nonconforming_row(api, running)
    web = browser(lead)
    url = f"/audits/{running['id']}"
    link = f"{url}?from_item={item['id']}#new-finding"
    assert htmllib.escape(link) in kit.page(web, url) or link.replace("&", "&amp;") in kit.page(web, url)
    page = kit.page(web, f"{url}?from_item={item['id']}")
    form = kit.page_form(page, "/findings")
    assert (form["classification"], form["clause"], form["department"]) == ("minor", CLAUSE, "SC")
    assert form["statement"] == "资料柜中有 A/0 版 <b>未作废</b>" and form["checklist_item_id"] == str(item["id"])
    assert "<b>未作废</b>" not in page  # the notes are text
    response = web.post(f"{url}/findings", data=form)
    assert response.status_code == 302
    finding = the_audit().findings[0]
    assert (finding.classification, finding.checklist_item_id) == ("minor", item["id"])


def test_the_blank_finding_form_defaults_to_minor(browser, kit, lead, running):
    page = kit.page(browser(lead), f"/audits/{running['id']}")
    assert selected(page, "classification") == "minor"
    assert "revision:ID" not in page and "QP0501 A/1" in page


def test_evidence_typed_as_codes_revisions_and_frozen_searches(f, api, browser, kit, lead, running):
    doc = f.document(code="QP0501")
    rev = f.effective(doc)
    db.session.rollback()
    indexer.drain_outbox()
    frozen = api.post("/evidence", json={"q": "文件"}).get_json()
    web = browser(lead)
    post_form(web, kit, f"/audits/{running['id']}", "/findings", statement="见文件",
              evidence=f"QP0501 {rev.label}、#{frozen['id']}")
    finding = the_audit().findings[0]
    assert [(e["kind"], e["id"]) for e in finding.evidence] == [("revision", rev.id)]
    assert api.get(f"/evidence/{frozen['id']}").get_json()["finding_id"] == finding.id
    assert f"/evidence/{frozen['id']}" in kit.page(web, f"/audits/{running['id']}")


def test_the_owner_is_chosen_among_the_findings_department(f, browser, kit, lead, owner, running, finding):
    made = finding()
    elsewhere = f.user("staff", department="SH", name="售后员工")
    web = browser(lead)
    url = f"/audits/{running['id']}"
    page = kit.page(web, url)
    owners = re.search(r'<select name="owner"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', owners) == ["", owner.username]
    assert elsewhere.username not in owners
    response = post_form(web, kit, url, f"/findings/{made['id']}/actions", due_date="2099-05-01", plan="修订")
    assert response.status_code == 302
    assert "owner" in kit.page(web, response.headers["Location"])
    assert db.session.scalar(select(func.count()).select_from(CorrectiveAction)) == 0


def test_the_auditee_acknowledges_in_the_browser(f, browser, kit, owner, running, finding):
    made = finding()
    url = f"/audits/{running['id']}"
    assert f"/findings/{made['id']}/acknowledge" not in kit.page(browser(f.user("staff", department="SH")), url)
    web = browser(owner)
    response = post_form(web, kit, url, f"/findings/{made['id']}/acknowledge")
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Finding, made["id"]).acknowledged_by_id == owner.id
    page = kit.page(web, url)
    assert f"/findings/{made['id']}/acknowledge" not in page and owner.display_name in page


def test_meeting_notes_in_the_browser_stay_text(browser, kit, lead, running):
    web = browser(lead)
    url = f"/audits/{running['id']}"
    post_form(web, kit, url, "/notes", opening_notes="<img src=x onerror=alert(1)> 首次会议", closing_notes="")
    audit = the_audit()
    assert audit.opening_notes == "<img src=x onerror=alert(1)> 首次会议" and audit.closing_notes is None
    page = kit.page(web, url)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; 首次会议" in page


def test_an_early_start_is_flashed(browser, kit, lead, planned, frozen):
    frozen(datetime(2026, 3, 1, 2, tzinfo=timezone.utc))
    audit = planned()
    web = browser(lead)
    response = post_form(web, kit, f"/audits/{audit['id']}", "/start")
    page = kit.page(web, response.headers["Location"])
    assert 'class="flash warning"' in page and "2026-03-10" in page
    assert the_audit().state == "in_progress"


def test_completion_in_the_browser_asks_for_the_root_cause(f, browser, kit, owner, running, action):
    act = action(root_cause=None)
    web = browser(owner)
    url = f"/audits/{running['id']}"
    response = post_form(web, kit, url, f"/actions/{act['id']}/complete", note="已整改")
    assert "root_cause" in kit.page(web, response.headers["Location"])
    db.session.rollback()
    assert db.session.get(CorrectiveAction, act["id"]).state == "open"
    post_form(web, kit, url, f"/actions/{act['id']}/complete", note="已整改", root_cause="换版未核对",
              occurs_elsewhere="质保部同样核查")
    db.session.rollback()
    done = db.session.get(CorrectiveAction, act["id"])
    assert (done.state, done.root_cause, done.occurs_elsewhere) == ("completed", "换版未核对", "质保部同样核查")


def test_the_page_speaks_english_on_request(browser, kit, lead, api, running):
    a_nonconforming_row(api, running)
    page = kit.page(browser(lead), f"/audits/{running['id']}?lang=en")
    assert "Raise a finding" in page and "Opening meeting" in page
