"""Independence holds for every step of a running audit, not only for the plan; and what a
finding's evidence, its corrective actions and the report show depends on who reads them."""
import io

import docx
import pytest
from sqlalchemy import func, select

from portal.audit.models import Audit, Finding
from portal.extensions import db
from portal.search.evidence import evidence_list, freeze_search
from portal.trail.models import TrailEntry

from audit.test_audit_evidence import drain
from audit.test_audits_ui import post_form


def counts() -> tuple:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Finding, TrailEntry))


def refused_403(response) -> None:
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["message"]


@pytest.fixture
def insider(f, depts):
    """An auditor from 生产部 (SC), a department the audit covers, not on its team."""
    return f.user("auditor", department="SC", name="生产部内审员")


FINDING = {"classification": "minor", "clause": "ISO 9001:2015 7.5.3", "department": "SC",
           "statement": "现场使用作废版本"}


def test_an_auditor_from_an_audited_department_cannot_run_any_step(f, planned, insider, api):
    audit = planned()
    web = f.api(insider)
    before = counts()
    refused_403(web.post(f"/audits/{audit['id']}/start"))
    refused_403(web.post(f"/audits/{audit['id']}/checklist",
                         json={"clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": "现场文件有效？"}))
    assert api.post(f"/audits/{audit['id']}/start").status_code == 200
    item = api.post(f"/audits/{audit['id']}/checklist", json={
        "clause": "ISO 9001:2015 7.5.3", "department": "SH", "question": "售后文件有效？"}).get_json()
    before = counts()
    refused_403(web.post(f"/audits/{audit['id']}/checklist/{item['id']}", json={"result": "conforming"}))
    refused_403(web.post(f"/audits/{audit['id']}/findings", json=FINDING))
    refused_403(web.post(f"/audits/{audit['id']}/report"))
    assert counts() == before
    body = api.get(f"/audits/{audit['id']}").get_json()
    assert body["state"] == "in_progress" and body["checklist"][0]["result"] is None


def test_a_controller_from_an_audited_department_is_refused_too(f, running, depts):
    controller = f.user("controller", department="SH")
    refused_403(f.api(controller).post(f"/audits/{running['id']}/findings", json=FINDING))
    outside = f.user("controller")  # the 文控 of another department may step in
    assert f.api(outside).post(f"/audits/{running['id']}/findings", json=FINDING).status_code == 201


def test_an_auditor_off_the_team_cannot_run_the_audit(f, running):
    stranger = f.api(f.user("auditor"))  # independent, but not named on this audit
    before = counts()
    refused_403(stranger.post(f"/audits/{running['id']}/findings", json=FINDING))
    refused_403(stranger.post(f"/audits/{running['id']}/report"))
    assert counts() == before


def test_the_team_member_runs_the_audit(f, running, second_auditor):
    assert f.api(second_auditor).post(f"/audits/{running['id']}/findings", json=FINDING).status_code == 201


def test_the_page_offers_no_forms_to_an_insider(browser, kit, running, insider, lead):
    url = f"/audits/{running['id']}"
    assert f'action="{url}/findings"' in kit.page(browser(lead), url)
    page = kit.page(browser(insider), url)
    assert f'action="{url}/findings"' not in page and f'action="{url}/report"' not in page


def test_a_team_member_named_twice_is_kept_once(api, plan_payload, second_auditor):
    response = api.post("/audits", json=plan_payload(team=[second_auditor.username] * 2))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["team"] == [second_auditor.username]


@pytest.mark.parametrize("value", ["2026-W11-2", "2026-３-10", "２０２６-03-10", "20260310"])
def test_dates_that_are_not_yyyy_mm_dd_are_422(api, plan_payload, value):
    response = api.post("/audits", json=plan_payload(planned_start=value))
    assert response.status_code == 422 and "planned_start" in response.get_json()["error"]["fields"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Audit)) == 0


@pytest.mark.parametrize("year", ["٢٠٢٦", "+2026", " 2026", "2_026", "9" * 20])
def test_numbers_in_the_query_string_are_ascii_digits(api, year):
    response = api.get("/audits", query_string={"year": year})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_parameter"


@pytest.fixture
def secret_finding(f, running):
    """A finding whose evidence is a confidential document of the 文控's own department."""
    controller = f.user("controller")
    secret = f.document(controller, code="ZB-SECRET-01", title="薪酬等级表", confidentiality="confidential")
    body = {**FINDING, "evidence": [{"kind": "document", "id": secret.id}]}
    response = f.api(controller).post(f"/audits/{running['id']}/findings", json=body)
    assert response.status_code == 201, response.get_json()
    return controller, secret, response.get_json()


def report_text(api, audit_id: int) -> str:
    response = api.get(f"/audits/{audit_id}/report.docx")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    return "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)


def test_evidence_a_reader_may_not_see_is_shown_as_restricted(f, api, running, secret_finding):
    controller, secret, finding = secret_finding
    assert f.api(controller).get(f"/findings/{finding['id']}").get_json()["evidence"] == [
        {"kind": "document", "id": secret.id, "ref": "ZB-SECRET-01"}]
    staff = f.api(f.user("staff"))
    for reader in (staff, api):  # a staff member elsewhere, and the lead auditor
        shown = reader.get(f"/findings/{finding['id']}").get_json()["evidence"]
        assert shown == [{"kind": "document", "id": None, "ref": None, "restricted": True}]
        audit = reader.get(f"/audits/{running['id']}").get_json()
        assert "ZB-SECRET-01" not in str(audit) and str(secret.id) not in str(audit["findings"][0]["evidence"])
        text = report_text(reader, running["id"])
        assert "ZB-SECRET-01" not in text and "（受限）" in text
    assert "ZB-SECRET-01" in report_text(f.api(controller), running["id"])


def test_the_audit_page_hides_restricted_evidence(browser, kit, lead, running, secret_finding):
    page = kit.page(browser(lead), f"/audits/{running['id']}")
    assert "ZB-SECRET-01" not in page and f"/documents/{secret_finding[1].id}" not in page


def test_a_hidden_code_typed_as_evidence_reads_as_unknown(f, browser, kit, lead, running):
    controller = f.user("controller")
    f.document(controller, code="ZB-SECRET-02", confidentiality="confidential")
    web = browser(lead)
    url = f"/audits/{running['id']}"
    response = post_form(web, kit, url, "/findings", statement="见文件", evidence="ZB-SECRET-02")
    page = kit.page(web, response.headers["Location"])
    assert "Unknown evidence reference ZB-SECRET-02" in page or "unknown reference ZB-SECRET-02" in page
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0


@pytest.mark.parametrize("ref", ["document:" + "9" * 5000, "record:" + "1" * 30, "revision:٣"])
def test_absurd_evidence_ids_typed_in_the_browser_are_refused_not_a_500(browser, kit, lead, running, ref):
    web = browser(lead)
    response = post_form(web, kit, f"/audits/{running['id']}", "/findings", statement="见文件", evidence=ref)
    assert response.status_code in (302, 303, 422), response.status_code
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0


def test_evidence_on_a_running_audit_is_hidden_from_the_reviewer(f, api, running, lead):
    finding = api.post(f"/audits/{running['id']}/findings", json=FINDING).get_json()
    assert api.post("/evidence", json={"q": "文件", "note": "生产部抽查", "finding_id": finding["id"]}).status_code == 201
    reviewer = f.api(f.user("external_reviewer"))
    assert reviewer.get("/evidence", query_string={"audit_id": running["id"]}).get_json()["total"] == 0
    assert api.post(f"/audits/{running['id']}/report").status_code == 200
    drain()
    assert reviewer.get("/evidence", query_string={"audit_id": running["id"]}).get_json()["total"] == 1


def test_the_limit_counts_only_what_the_reader_may_read(f, app, lead):
    """An auditor's newest evidence is listed even when newer items are hidden from them."""
    mine = freeze_search(lead, {"q": "文件", "note": "我的"})
    controller = f.user("controller")
    f.document(controller, code="ZB-SECRET-03", title="保密文件", confidentiality="confidential")
    f.effective(f.document(controller, code="ZB-SECRET-04", title="保密文件", confidentiality="confidential"))
    drain()
    hidden = [freeze_search(controller, {"q": "保密文件", "note": f"保密 {i}"}) for i in range(3)]
    assert all(item.hits for item in hidden)
    assert [item.id for item in evidence_list(lead, limit=1)] == [mine.id]


def test_two_auditors_verifying_at_once_leave_one_verdict(f, api, action, owner, second_auditor):
    """The state check reads the row FOR UPDATE (PostgreSQL; SQLite serialises write requests):
    of two verifications racing on a completed action one wins, the other gets 409."""
    import threading

    owner_api, other_api = f.api(owner), f.api(second_auditor)
    ids = []
    for _ in range(4):
        act = action()
        assert owner_api.post(f"/actions/{act['id']}/complete", json={"note": "已整改"}).status_code == 200
        ids.append(act["id"])
    db.session.commit()
    db.session.close()
    results, errors = {i: [] for i in ids}, []

    def verify(client, action_id, effective, start):
        try:
            start.wait(timeout=30)
            response = client.post(f"/actions/{action_id}/verify", json={"effective": effective, "note": "验证"})
            results[action_id].append(response.status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    for action_id in ids:
        start = threading.Barrier(2)
        threads = [threading.Thread(target=verify, args=(client, action_id, effective, start))
                   for client, effective in ((api, True), (other_api, False))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert all(sorted(codes) == [200, 409] for codes in results.values()), results
    db.session.rollback()
    verdicts = db.session.execute(select(TrailEntry.object_id, func.count()).where(
        TrailEntry.action == "action.verify", TrailEntry.object_id.in_(ids)).group_by(TrailEntry.object_id)).all()
    assert sorted(verdicts) == [(i, 1) for i in sorted(ids)]


def test_an_auditor_from_the_audited_department_cannot_verify_its_action(f, action, owner, insider):
    act = action()
    assert f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "已整改"}).status_code == 200
    insider_api = f.api(insider)
    before = counts()
    refused_403(insider_api.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "有效"}))
    assert counts() == before
    independent = f.api(f.user("auditor"))  # not on the audit, but from another department
    response = independent.post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "有效"})
    assert response.status_code == 200 and response.get_json()["state"] == "closed"
