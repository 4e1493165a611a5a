"""Running an audit through the API: warnings that do not block (an early start, clauses left
unchecked at the report), opening and closing meeting notes, findings raised from a 不符合
checklist row, the auditee's acknowledgement, and evidence named by code — every refusal a
clear 4xx that changes nothing."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.audit.models import Finding
from portal.extensions import db
from portal.search import indexer
from portal.search.models import Evidence
from portal.trail.models import TrailEntry
from records.conftest import controller, draft_form, effective_form, issue, release  # noqa: F401

CLAUSE = "ISO 9001:2015 7.5.3"


def trail_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(TrailEntry))


def last_entry(action: str) -> TrailEntry:
    db.session.rollback()
    return db.session.execute(select(TrailEntry).where(TrailEntry.action == action)
                              .order_by(TrailEntry.seq.desc())).scalars().first()


def refused(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    return response.get_json()["error"]


@pytest.fixture
def row(api, running):
    """row(result, notes, department) → a 检查表 item of the running audit with that result."""

    def make(result="nonconforming", notes="资料柜中有 A/0 版本", department="SC", clause=CLAUSE):
        item = api.post(f"/audits/{running['id']}/checklist",
                        json={"clause": clause, "department": department, "question": "现场文件是否为现行版本？"})
        assert item.status_code == 201, item.get_json()
        item = item.get_json()
        if result:
            done = api.patch(f"/audits/{running['id']}/checklist/{item['id']}", json={"result": result, "notes": notes})
            assert done.status_code == 200
        return item

    return make


# --- warnings -------------------------------------------------------------------------------

def test_starting_before_the_planned_start_warns_but_starts(api, planned, frozen):
    frozen(datetime(2026, 3, 5, 2, tzinfo=timezone.utc))  # 10:00 in Shanghai, five days early
    audit = planned()
    started = api.post(f"/audits/{audit['id']}/start")
    assert started.status_code == 200 and started.get_json()["state"] == "in_progress"
    warnings = started.get_json()["warnings"]
    assert len(warnings) == 1 and "2026-03-05" in warnings[0] and "2026-03-10" in warnings[0]
    assert "warnings" in last_entry("audit.start").after  # the record says it started early


def test_starting_on_the_day_gives_no_warning(api, planned, frozen):
    frozen(datetime(2026, 3, 10, 1, tzinfo=timezone.utc))
    audit = planned()
    started = api.post(f"/audits/{audit['id']}/start").get_json()
    assert started["warnings"] == [] and "warnings" not in last_entry("audit.start").after


def test_reporting_names_the_clauses_in_scope_nothing_checked(api, running, row, finding):
    row(result="conforming")  # 7.5.3 checked in SC
    row(result=None, clause="ISO 9001:2015 8.5.1")  # asked, never answered
    reported = api.post(f"/audits/{running['id']}/report", json={"summary": "概述"})
    assert reported.status_code == 200 and reported.get_json()["state"] == "reported"
    warnings = reported.get_json()["warnings"]
    assert len(warnings) == 1 and "8.5.1" in warnings[0]
    assert last_entry("audit.report").after["warnings"] == [
        "Clause ISO 9001:2015 8.5.1 is in scope but has no checklist result or finding."]


def test_a_finding_counts_as_checking_its_clause(api, running, finding):
    finding(clause="ISO 9001:2015 8.5.1")
    finding()
    assert api.post(f"/audits/{running['id']}/report").get_json()["warnings"] == []


# --- meeting notes --------------------------------------------------------------------------

def test_meeting_notes_are_kept_until_the_audit_closes(api, running, action):
    url = f"/audits/{running['id']}"
    opened = api.patch(url, json={"opening_notes": "首次会议：确认范围和日程。"})
    assert opened.status_code == 200 and opened.get_json()["opening_notes"] == "首次会议：确认范围和日程。"
    closed = api.patch(url, json={"closing_notes": "末次会议：通报发现。"}).get_json()
    assert (closed["opening_notes"], closed["closing_notes"]) == ("首次会议：确认范围和日程。", "末次会议：通报发现。")
    entry = last_entry("audit.notes")
    assert entry.before == {"closing_notes": None} and entry.after == {"closing_notes": "末次会议：通报发现。"}
    action()
    api.post(f"{url}/report")
    api.post(f"{url}/close")
    before = trail_count()
    assert refused(api.patch(url, json={"closing_notes": "改"}), 409)["code"] == "audit_closed"
    assert trail_count() == before
    assert api.get(url).get_json()["closing_notes"] == "末次会议：通报发现。"


@pytest.mark.parametrize("body, field", [
    ({}, "opening_notes"),
    ({"opening_notes": 3}, "opening_notes"),
    ({"closing_notes": ["x"]}, "closing_notes"),
    ({"opening_notes": "记" * 8001}, "opening_notes"),
    ({"opening_notes": "ok", "state": "closed"}, "state"),
])
def test_bad_meeting_notes_are_422_and_change_nothing(api, running, body, field):
    before = trail_count()
    assert field in refused(api.patch(f"/audits/{running['id']}", json=body), 422)["fields"]
    assert trail_count() == before and api.get(f"/audits/{running['id']}").get_json()["opening_notes"] is None


def test_only_the_audits_auditors_keep_its_notes(f, running, owner):
    for user in (owner, f.user("auditor"), f.user("external_reviewer")):
        refused(f.api(user).patch(f"/audits/{running['id']}", json={"opening_notes": "x"}), 403)
    assert f.api(f.user("controller")).patch(f"/audits/{running['id']}",
                                             json={"opening_notes": "文控代记"}).status_code == 200


# --- a finding from a checklist row ------------------------------------------------------------

def test_a_finding_raised_from_a_nonconforming_row_takes_its_clause_and_department(api, running, row):
    item = row()
    made = api.post(f"/audits/{running['id']}/findings", json={
        "classification": "minor", "statement": "现场使用作废版本", "checklist_item_id": item["id"]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["clause"], body["department"], body["checklist_item_id"]) == (CLAUSE, "SC", item["id"])
    assert last_entry("finding.create").after["checklist_item_id"] == item["id"]


@pytest.mark.parametrize("case", ["conforming", "unanswered", "other_audit", "mismatch", "absurd", "text"])
def test_a_finding_from_a_row_that_cannot_raise_one_is_422(api, running, row, planned, case):
    if case == "other_audit":
        other = planned()
        item_id = api.post(f"/audits/{other['id']}/checklist", json={
            "clause": CLAUSE, "department": "SC", "question": "?"}).get_json()["id"]
    else:
        item_id = {"conforming": lambda: row(result="conforming")["id"], "unanswered": lambda: row(result=None)["id"],
                   "mismatch": lambda: row()["id"], "absurd": lambda: 2**40, "text": lambda: "1"}[case]()
    body = {"classification": "minor", "statement": "x", "checklist_item_id": item_id}
    if case == "mismatch":
        body["department"] = "SH"
    before = trail_count()
    error = refused(api.post(f"/audits/{running['id']}/findings", json=body), 422)
    assert "checklist_item_id" in error["fields"]
    assert trail_count() == before and db.session.scalar(select(func.count()).select_from(Finding)) == 0


def test_no_finding_on_a_closed_audit(api, running, finding, action):
    made = finding()
    action(on=made)
    api.post(f"/audits/{running['id']}/report")
    api.post(f"/audits/{running['id']}/close")
    before = trail_count()
    refused(api.post(f"/audits/{running['id']}/findings", json={
        "classification": "minor", "clause": CLAUSE, "department": "SC", "statement": "迟到的发现"}), 409)
    assert trail_count() == before


# --- acknowledgement ---------------------------------------------------------------------------

def test_a_member_of_the_audited_department_acknowledges_once(f, finding, owner):
    made = finding()
    owner_api, colleague_api = f.api(owner), f.api(f.user("staff", department="SC"))
    before = trail_count()
    done = owner_api.post(f"/findings/{made['id']}/acknowledge")
    assert done.status_code == 200
    assert done.get_json()["acknowledged_by"] == owner.username and done.get_json()["acknowledged_at"]
    assert trail_count() == before + 1 and last_entry("finding.acknowledge").object_id == made["id"]
    again = refused(colleague_api.post(f"/findings/{made['id']}/acknowledge"), 409)
    assert again["code"] == "already_acknowledged"
    assert trail_count() == before + 1
    assert owner_api.get(f"/findings/{made['id']}").get_json()["acknowledged_by"] == owner.username


def test_the_departments_manager_acknowledges_too(f, finding):
    from portal.accounts import services as accounts

    manager = f.user("approver")  # of another department, managing 生产部
    accounts.set_department_manager(f.user("admin"), "SC", manager.username)
    assert f.api(manager).post(f"/findings/{finding()['id']}/acknowledge").status_code == 200


def test_nobody_else_acknowledges(f, api, finding, depts):
    made = finding()
    others = [f.api(f.user(role, department=dept)) for role, dept in
              (("staff", "SH"), ("controller", None), ("external_reviewer", None))]
    before = trail_count()
    for other in others:
        refused(other.post(f"/findings/{made['id']}/acknowledge"), 403)
    refused(api.post(f"/findings/{made['id']}/acknowledge"), 403)  # the auditor who wrote it
    refused(api.post("/findings/999999/acknowledge"), 404)
    assert trail_count() == before and api.get(f"/findings/{made['id']}").get_json()["acknowledged_at"] is None


# --- evidence by code ----------------------------------------------------------------------------

def test_evidence_named_by_document_code_revision_and_record_number(f, api, running, finding, effective_form, issue):
    doc = f.document(code="QP0501")
    rev = f.effective(doc)
    form = effective_form()
    record = issue(api, form)
    made = finding(evidence=[{"ref": "qp0501"}, {"ref": f"QP0501 {rev.label}"}, {"ref": record["number"]}])
    assert [(e["kind"], e["id"], e["ref"]) for e in made["evidence"]] == [
        ("document", doc.id, "QP0501"), ("revision", rev.id, f"QP0501 {rev.label}"),
        ("record", record["id"], record["number"])]


def test_a_frozen_search_named_by_its_basket_number_is_attached(api, running, finding):
    indexer.drain_outbox()
    frozen = api.post("/evidence", json={"q": "作废版本"}).get_json()
    made = finding(evidence=[{"ref": f"#{frozen['id']}"}])
    assert made["evidence"] == []  # a frozen search is attached, not cited
    assert api.get(f"/evidence/{frozen['id']}").get_json()["finding_id"] == made["id"]
    assert last_entry("finding.evidence").object_id == made["id"]
    before = trail_count()
    error = refused(api.post(f"/audits/{running['id']}/findings", json={
        "classification": "minor", "clause": CLAUSE, "department": "SC", "statement": "再次引用",
        "evidence": [{"ref": f"#{frozen['id']}"}]}), 422)
    assert "already attached" in error["fields"]["evidence"] and trail_count() == before


@pytest.mark.parametrize("ref", ["QP9999", "QP0501 Z/9", "#999999", "#", "record:abc", "revision:999999",
                                 "<script>alert(1)</script>", "码" * 300])
def test_unknown_evidence_is_422_and_creates_nothing(f, api, running, ref):
    f.document(code="QP0501")
    before = trail_count()
    error = refused(api.post(f"/audits/{running['id']}/findings", json={
        "classification": "minor", "clause": CLAUSE, "department": "SC", "statement": "x",
        "evidence": [{"ref": ref}]}), 422)
    assert "evidence" in error["fields"]
    assert trail_count() == before and db.session.scalar(select(func.count()).select_from(Finding)) == 0


def test_evidence_the_auditor_may_not_see_reads_as_unknown(f, api, running):
    controller = f.user("controller")
    secret = f.document(controller, code="ZB-SECRET-03", department=controller.department_code,
                        confidentiality="confidential", title="保密配方管理规定")
    f.effective(secret, controller=controller)
    controller_api = f.api(controller)
    db.session.rollback()
    indexer.drain_outbox()
    # the controller's frozen search finds the confidential document: hidden from the auditor
    frozen = controller_api.post("/evidence", json={"q": "保密配方"}).get_json()
    assert frozen["total"] == 1
    for ref in ("ZB-SECRET-03", f"#{frozen['id']}"):
        error = refused(api.post(f"/audits/{running['id']}/findings", json={
            "classification": "minor", "clause": CLAUSE, "department": "SC", "statement": "x",
            "evidence": [{"ref": ref}]}), 422)
        assert error["fields"]["evidence"] == f"unknown reference {ref}"
    db.session.rollback()
    assert db.session.get(Evidence, frozen["id"]).finding_id is None

