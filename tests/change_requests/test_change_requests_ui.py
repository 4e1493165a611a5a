"""The browser side: the document page lists its requests and offers 提出更改申请, the request
page shows the decision forms only to those who may decide, the list page filters, a request
is raised from a corrective action and links back, and the 修订履历 (page and Word export)
names the request a revision implements."""
import io
import re

import docx
from sqlalchemy import select

from change_requests.conftest import REQUEST, snapshot
from pages import page_form
from portal import clock
from portal.change_requests.models import ChangeRequest
from portal.extensions import db


def post(web, url, **data):
    return web.post(url, data={"csrf_token": web.csrf, **data}, headers={"Referer": f"http://localhost{url}"})


def test_raise_from_the_document_page(procedure, staff, browser):
    web = browser(staff)
    page = web.get(f"/documents/{procedure.id}").get_data(as_text=True)
    new_url = f"/documents/{procedure.id}/change-requests/new"
    assert new_url in page and 'id="change-requests"' in page
    form = web.get(new_url).get_data(as_text=True)
    assert 'name="reason"' in form and 'name="proposed_change"' in form and "QP1401" in form
    before = snapshot()
    assert post(web, new_url, reason="  ", proposed_change="x", change_level="minor").status_code == 422
    assert post(web, new_url, reason="x", proposed_change="x", change_level="huge").status_code == 422
    assert snapshot() == before
    resp = post(web, new_url, **REQUEST)
    assert resp.status_code == 302
    cr_id = int(re.search(r"/change-requests/(\d+)$", resp.headers["Location"]).group(1))
    page = web.get(f"/documents/{procedure.id}").get_data(as_text=True)
    assert "CR-2026-0001" in page and f"/change-requests/{cr_id}" in page and REQUEST["reason"] in page
    shown = web.get(f"/change-requests/{cr_id}").get_data(as_text=True)
    assert REQUEST["proposed_change"] in shown and "/accept" not in shown and "/reject" not in shown


def test_the_reviewer_reads_without_forms(f, procedure, staff, reviewer, raise_cr, browser):
    cr = raise_cr(staff, procedure)
    web = browser(reviewer)
    page = web.get(f"/documents/{procedure.id}").get_data(as_text=True)
    assert cr["number"] in page and "/change-requests/new" not in page
    assert web.get(f"/documents/{procedure.id}/change-requests/new").status_code == 403
    shown = web.get(f"/change-requests/{cr['id']}").get_data(as_text=True)
    assert cr["number"] in shown and "/accept" not in shown


def test_accept_in_the_browser_with_the_author_chosen(f, procedure, staff, approver, raise_cr, browser):
    cr = raise_cr(staff, procedure)
    writer = f.user("staff", username="liming", department="ZB")
    web = browser(approver)
    page = web.get(f"/change-requests/{cr['id']}").get_data(as_text=True)
    form = page_form(page, f"/change-requests/{cr['id']}/accept")
    assert form["author"] == "zhaoguoqiang" and 'value="liming"' in page  # the acceptor by default
    assert 'value="cb_auditor"' not in page
    before = snapshot()
    assert post(web, f"/change-requests/{cr['id']}/accept", comment="", author="liming").status_code == 422
    assert snapshot() == before
    resp = post(web, f"/change-requests/{cr['id']}/accept", comment="同意修订", author="liming")
    assert resp.status_code == 302
    db.session.rollback()
    saved = db.session.get(ChangeRequest, cr["id"])
    assert saved.state == "accepted" and saved.revision.author_id == writer.id
    shown = web.get(f"/change-requests/{cr['id']}").get_data(as_text=True)
    # the approver is no party to the draft: its label, no link (drafts are their parties')
    assert "A/1" in shown and f"/revisions/{saved.revision_id}" not in shown and "/accept" not in shown
    shown = browser(writer).get(f"/change-requests/{cr['id']}").get_data(as_text=True)
    assert f"/revisions/{saved.revision_id}" in shown
    rev_page = browser(writer).get(f"/revisions/{saved.revision_id}").get_data(as_text=True)
    assert cr["number"] in rev_page and f"/change-requests/{cr['id']}" in rev_page


def test_reject_in_the_browser_needs_a_comment(procedure, staff, controller, raise_cr, browser):
    cr = raise_cr(staff, procedure)
    web = browser(controller)
    before = snapshot()
    assert post(web, f"/change-requests/{cr['id']}/reject", comment="").status_code == 422
    assert snapshot() == before
    assert post(web, f"/change-requests/{cr['id']}/reject", comment="不采纳").status_code == 302
    db.session.rollback()
    assert db.session.get(ChangeRequest, cr["id"]).state == "rejected"
    # a second decision from a stale page is refused and says why
    resp = post(web, f"/change-requests/{cr['id']}/accept", comment="同意")
    assert resp.status_code == 302 and db.session.get(ChangeRequest, cr["id"]).state == "rejected"


def test_deciders_of_another_department_get_no_forms_and_403(procedure, staff, other_approver, raise_cr, browser):
    cr = raise_cr(staff, procedure)
    web = browser(other_approver)
    assert "/accept" not in web.get(f"/change-requests/{cr['id']}").get_data(as_text=True)
    before = snapshot()
    resp = post(web, f"/change-requests/{cr['id']}/accept", comment="同意")
    assert resp.status_code == 302  # flashed and sent back, as every refused form post
    assert snapshot() == before


def test_the_list_page_filters_by_state_and_document(f, controller, procedure, staff, approver, raise_cr, decide,
                                                     browser):
    first = raise_cr(staff, procedure, reason="第一条理由")
    second = raise_cr(staff, procedure, reason="第二条理由")
    decide(approver, first, "reject", comment="不采纳")
    web = browser(staff)
    nav = web.get("/").get_data(as_text=True)
    assert 'href="/change-requests"' in nav
    page = web.get("/change-requests").get_data(as_text=True)
    assert first["number"] in page and second["number"] in page and "QP1401" in page
    page = web.get("/change-requests?state=rejected").get_data(as_text=True)
    assert first["number"] in page and second["number"] not in page
    assert second["number"] in web.get(f"/change-requests?document_id={procedure.id}&state=open").get_data(as_text=True)
    assert web.get("/change-requests?state=bogus&document_id=99999999999999").status_code == 200


def test_raised_from_a_corrective_action_and_linked_both_ways(f, procedure, staff, action, browser):
    web = browser(staff)
    audit_page = web.get(f"/audits/{action.finding.audit_id}").get_data(as_text=True)
    link = f"/change-requests/new?action_id={action.id}"
    assert link in audit_page
    form = web.get(link).get_data(as_text=True)
    assert action.number in form and 'name="document_code"' in form
    before = snapshot()
    assert post(web, link, document_code="NOPE", **REQUEST).status_code == 422
    assert snapshot() == before
    resp = post(web, link, document_code="qp1401", action_id=str(action.id), **REQUEST)
    assert resp.status_code == 302
    db.session.rollback()
    cr = db.session.execute(select(ChangeRequest)).scalar_one()
    assert cr.action_id == action.id and cr.document_id == procedure.id
    shown = web.get(f"/change-requests/{cr.id}").get_data(as_text=True)
    assert f"/actions/{action.id}" in shown and action.number in shown
    assert cr.number in web.get(f"/audits/{action.finding.audit_id}").get_data(as_text=True)


def test_the_revision_history_and_the_word_export_name_the_request(f, procedure, staff, controller, raise_cr,
                                                                    approved_draft, browser):
    cr = raise_cr(staff, procedure)
    rev_id = approved_draft(cr).id
    assert f.api(controller).post(f"/revisions/{rev_id}/release",
                                  json={"effective_date": clock.today().isoformat()}).status_code == 200
    page = browser(staff).get(f"/documents/{procedure.id}").get_data(as_text=True)
    row = re.search(rf'<tr><td><a href="/revisions/{rev_id}">A/1</a>.*?</tr>', page, re.S).group(0)
    assert cr["number"] in row and REQUEST["reason"] in row
    data = browser(staff).get(f"/revisions/{rev_id}/export.docx").get_data()
    rows = [[c.text for c in row.cells] for t in docx.Document(io.BytesIO(data)).tables for row in t.rows]
    history_rows = [r for r in rows if r and r[0] == "A/1"]
    assert history_rows and f"更改申请 {cr['number']}" in history_rows[0][3]
    assert REQUEST["reason"] in history_rows[0][3]
