"""Hostile and malformed input on the audit API: every refusal is a clear 4xx JSON error
in the Conventions' shape and changes nothing (CONTRACT.md "Conventions")."""
import re

import pytest
from sqlalchemy import func, select

from portal.audit.models import Audit, AuditChecklistItem, CorrectiveAction, Finding
from portal.extensions import db
from portal.search.models import SearchOutbox
from portal.trail.models import TrailEntry


def snapshot() -> tuple:
    db.session.rollback()
    counts = tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                   for m in (Audit, AuditChecklistItem, Finding, CorrectiveAction, TrailEntry, SearchOutbox))
    db.session.rollback()
    return counts


def refused(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    error = response.get_json()["error"]
    assert re.fullmatch(r"[a-z0-9_]+", error["code"]) and error["message"]
    return error


def raw(api, path, body: bytes, content_type="application/json", method="post"):
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": content_type}
    return getattr(api.client, method)("/api/v1" + path, data=body, headers=headers)


# --- planning -------------------------------------------------------------------------------

@pytest.mark.parametrize("body, content_type, code", [
    (b"{not json", "application/json", "malformed_json"),
    (b"\xff\xfe", "application/json", "malformed_json"),
    (b"[1, 2]", "application/json", "not_an_object"),
    (b"title=x", "application/x-www-form-urlencoded", "expected_json"),
    (b'{"title": "a\\u0000b"}', "application/json", "nul_character"),
])
def test_malformed_bodies_are_400(api, depts, body, content_type, code):
    before = snapshot()
    assert refused(raw(api, "/audits", body, content_type), 400)["code"] == code
    assert snapshot() == before


@pytest.mark.parametrize("overrides, field", [
    ({"title": ""}, "title"),
    ({"title": None}, "title"),
    ({"title": 42}, "title"),
    ({"title": "审" * 301}, "title"),
    ({"planned_start": "2026-02-30"}, "planned_start"),
    ({"planned_start": 20260310}, "planned_start"),
    ({"planned_end": "2026-03-09"}, "planned_end"),  # inverted dates
    ({"departments": []}, "departments"),
    ({"departments": "SC"}, "departments"),
    ({"departments": [1, 2]}, "departments"),
    ({"departments": ["NOPE"]}, "departments"),
    ({"clauses": []}, "clauses"),
    ({"clauses": ["ISO 9001:2015 99.9"]}, "clauses"),
    ({"clauses": {"a": 1}}, "clauses"),
    ({"lead_auditor": "nobody"}, "lead_auditor"),
    ({"lead_auditor": ["x"]}, "lead_auditor"),
    ({"team": "wuhaitao"}, "team"),
    ({"team": ["nobody"]}, "team"),
    ({"team": ["x" * 100000]}, "team"),
])
def test_invalid_plans_are_422_with_the_field(api, plan_payload, overrides, field):
    before = snapshot()
    error = refused(api.post("/audits", json=plan_payload(**overrides)), 422)
    assert field in error["fields"], error
    assert snapshot() == before


def test_missing_everything_names_every_field(api, depts):
    error = refused(api.post("/audits", json={}), 422)
    assert {"title", "planned_start", "planned_end", "departments", "clauses", "lead_auditor"} <= set(error["fields"])


def test_an_auditor_may_not_audit_their_own_department(f, api, plan_payload, lead, second_auditor):
    insider = f.user("auditor", department="SC")
    before = snapshot()
    error = refused(api.post("/audits", json=plan_payload(team=[insider.username])), 422)
    assert "SC" in error["fields"]["team"]
    error = refused(api.post("/audits", json=plan_payload(lead_auditor=insider.username)), 422)
    assert "SC" in error["fields"]["lead_auditor"]
    # The lead's own department cannot be audited by this team either.
    error = refused(api.post("/audits", json=plan_payload(departments=["SC", lead.department_code])), 422)
    assert "lead_auditor" in error["fields"]
    assert snapshot() == before


def test_team_members_must_be_auditors(f, api, plan_payload):
    staff = f.user("staff")
    error = refused(api.post("/audits", json=plan_payload(team=[staff.username])), 422)
    assert "team" in error["fields"]


# --- checklist, findings, actions ------------------------------------------------------------

@pytest.mark.parametrize("payload, field", [
    ({"clause": "ISO 9001:2015 9.2", "department": "SC", "question": "?"}, "clause"),  # outside the scope
    ({"clause": "ISO 9001:2015 7.5.3", "department": "ZB", "question": "?"}, "department"),  # not audited
    ({"clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": ""}, "question"),
    ({"clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": "问" * 4001}, "question"),
    ({"clause": ["ISO 9001:2015 7.5.3"], "department": "SC", "question": "?"}, "clause"),
])
def test_invalid_checklist_items_are_422(api, planned, payload, field):
    audit = planned()
    before = snapshot()
    assert field in refused(api.post(f"/audits/{audit['id']}/checklist", json=payload), 422)["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("payload, field", [
    ({"result": "great"}, "result"),
    ({}, "result"),
    ({"result": ["conforming"]}, "result"),
    ({"result": "conforming", "notes": 5}, "notes"),
])
def test_invalid_checklist_results_are_422(api, running, payload, field):
    item = api.post(f"/audits/{running['id']}/checklist",
                    json={"clause": "ISO 9001:2015 7.5.3", "department": "SC", "question": "?"}).get_json()
    before = snapshot()
    error = refused(api.patch(f"/audits/{running['id']}/checklist/{item['id']}", json=payload), 422)
    assert field in error["fields"]
    assert snapshot() == before


GOOD_FINDING = {"classification": "minor", "clause": "ISO 9001:2015 7.5.3", "department": "SC", "statement": "x"}


@pytest.mark.parametrize("overrides, field", [
    ({"classification": "critical"}, "classification"),
    ({"classification": None}, "classification"),
    ({"classification": ["minor"]}, "classification"),
    ({"clause": "ISO 9001:2015 9.2"}, "clause"),
    ({"department": "ZB"}, "department"),
    ({"statement": ""}, "statement"),
    ({"statement": "x" * 4001}, "statement"),
    ({"statement": "bell\x07"}, "statement"),
    ({"evidence": "QP0501"}, "evidence"),
    ({"evidence": [{"kind": "email", "id": 1}]}, "evidence"),
    ({"evidence": [{"kind": "document", "id": "1"}]}, "evidence"),
    ({"evidence": [{"kind": "document", "id": True}]}, "evidence"),
    ({"evidence": [{"kind": "document", "id": 2**70}]}, "evidence"),
    ({"evidence": [{"kind": "document", "id": -1}]}, "evidence"),
    ({"evidence": [{"kind": "revision", "id": 424242}]}, "evidence"),
    ({"evidence": [{"kind": "record", "id": 1}] * 21}, "evidence"),
    ({"evidence": [7]}, "evidence"),
])
def test_invalid_findings_are_422(api, running, overrides, field):
    before = snapshot()
    error = refused(api.post(f"/audits/{running['id']}/findings", json={**GOOD_FINDING, **overrides}), 422)
    assert field in error["fields"], error
    assert snapshot() == before


def test_evidence_the_auditor_cannot_see_counts_as_missing(f, api, running):
    controller = f.user("controller", department="SC")
    secret = f.document(controller, confidentiality="confidential")
    error = refused(api.post(f"/audits/{running['id']}/findings",
                             json={**GOOD_FINDING, "evidence": [{"kind": "document", "id": secret.id}]}), 422)
    assert "does not exist" in error["fields"]["evidence"]


@pytest.mark.parametrize("overrides, field", [
    ({"owner": "nobody"}, "owner"),
    ({"owner": None}, "owner"),
    ({"due_date": "2000-01-01"}, "due_date"),
    ({"due_date": "tomorrow"}, "due_date"),
    ({"plan": ""}, "plan"),
    ({"plan": "p" * 5000}, "plan"),
    ({"root_cause": {"why": 1}}, "root_cause"),
])
def test_invalid_actions_are_422(api, f, finding, owner, overrides, field):
    target = finding()
    before = snapshot()
    data = {"owner": owner.username, "due_date": "2099-01-01", "plan": "修订流程", **overrides}
    assert field in refused(api.post(f"/findings/{target['id']}/actions", json=data), 422)["fields"]
    assert snapshot() == before


def test_an_external_reviewer_cannot_own_an_action(api, f, finding):
    reviewer = f.user("external_reviewer")
    error = refused(api.post(f"/findings/{finding()['id']}/actions",
                             json={"owner": reviewer.username, "due_date": "2099-01-01", "plan": "p"}), 422)
    assert "owner" in error["fields"]


@pytest.mark.parametrize("payload, field", [
    ({"effective": "yes", "note": "x"}, "effective"),
    ({"effective": 1, "note": "x"}, "effective"),
    ({"note": "x"}, "effective"),
    ({"effective": True}, "note"),
    ({"effective": True, "note": "n" * 4001}, "note"),
])
def test_invalid_verifications_are_422(api, f, action, owner, payload, field):
    act = action()
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    before = snapshot()
    assert field in refused(api.post(f"/actions/{act['id']}/verify", json=payload), 422)["fields"]
    assert snapshot() == before


def test_completing_needs_a_note(f, action, owner):
    act, owner_api = action(), f.api(owner)
    before = snapshot()
    assert "note" in refused(owner_api.post(f"/actions/{act['id']}/complete", json={"note": ""}), 422)["fields"]
    assert "note" in refused(owner_api.post(f"/actions/{act['id']}/complete", json={"note": 3}), 422)["fields"]
    assert snapshot() == before


def test_report_text_is_checked(api, running):
    before = snapshot()
    refused(api.post(f"/audits/{running['id']}/report", json={"summary": "s" * 4001}), 422)
    refused(raw(api, f"/audits/{running['id']}/report", b"{oops"), 400)
    assert snapshot() == before
    assert api.get(f"/audits/{running['id']}").get_json()["state"] == "in_progress"


def test_hostile_html_is_stored_as_text_and_returned_unchanged(api, finding):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    made = finding(statement=hostile)
    assert api.get(f"/findings/{made['id']}").get_json()["statement"] == hostile
