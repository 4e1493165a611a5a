"""Bad input on the change-request API: every refusal is a clear 4xx in the Conventions' shape
and changes nothing (no request, no revision, no trail entry, no notice, no state change)."""
import re

import pytest

from change_requests.conftest import REQUEST, snapshot
from portal.documents import workflow
from portal.extensions import db


def refused(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    error = response.get_json()["error"]
    assert re.fullmatch(r"[a-z0-9_]+", error["code"]) and error["message"]
    return error


def raw(api, path, body: bytes, content_type="application/json"):
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": content_type}
    return api.client.post("/api/v1" + path, data=body, headers=headers)


@pytest.mark.parametrize("body, content_type, code", [
    (b"{not json", "application/json", "malformed_json"),
    (b"[1, 2]", "application/json", "not_an_object"),
    (b"reason=x", "application/x-www-form-urlencoded", "expected_json"),
    (b'{"reason": "a\\u0000b"}', "application/json", "nul_character"),
])
def test_malformed_bodies_are_400(f, procedure, staff, body, content_type, code):
    api = f.api(staff)
    before = snapshot()
    assert refused(raw(api, f"/documents/{procedure.id}/change-requests", body, content_type),
                   400)["code"] == code
    assert snapshot() == before


@pytest.mark.parametrize("overrides, field", [
    ({"reason": None}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"reason": 42}, "reason"),
    ({"reason": "改" * 2001}, "reason"),
    ({"proposed_change": ""}, "proposed_change"),
    ({"proposed_change": ["a"]}, "proposed_change"),
    ({"proposed_change": "改" * 5001}, "proposed_change"),
    ({"change_level": "medium"}, "change_level"),
    ({"change_level": None}, "change_level"),
    ({"change_level": ["minor"]}, "change_level"),
    ({"action_id": "1"}, "action_id"),
    ({"action_id": True}, "action_id"),
    ({"action_id": 0}, "action_id"),
    ({"action_id": 999999}, "action_id"),
    ({"action_id": 2**40}, "action_id"),
])
def test_invalid_requests_are_422_with_the_field(f, procedure, staff, overrides, field):
    body = {k: v for k, v in {**REQUEST, **overrides}.items() if v is not None}
    api = f.api(staff)
    before = snapshot()
    error = refused(api.post(f"/documents/{procedure.id}/change-requests", json=body), 422)
    assert field in error["fields"], error
    assert snapshot() == before


def test_an_empty_body_names_every_required_field(f, procedure, staff):
    error = refused(f.api(staff).post(f"/documents/{procedure.id}/change-requests", json={}), 422)
    assert {"reason", "proposed_change", "change_level"} <= set(error["fields"])


def test_unknown_and_invisible_documents_are_404(f, controller, staff, procedure):
    secret = f.document(controller, code="QP-SEC-01", title="保密程序", department="ZB",
                        confidentiality="confidential")
    f.effective(secret, controller=controller)
    api = f.api(staff)
    before = snapshot()
    for doc_id in (999999, secret.id):
        refused(api.post(f"/documents/{doc_id}/change-requests", json=REQUEST), 404)
    assert snapshot() == before


def test_the_external_reviewer_may_not_raise_or_decide(f, procedure, staff, reviewer, raise_cr):
    cr = raise_cr(staff, procedure)
    api = f.api(reviewer)
    before = snapshot()
    assert api.get(f"/change-requests/{cr['id']}").status_code == 200  # it reads the request
    refused(api.post(f"/documents/{procedure.id}/change-requests", json=REQUEST), 403)
    refused(api.post(f"/change-requests/{cr['id']}/accept", json={"comment": "x"}), 403)
    refused(api.post(f"/change-requests/{cr['id']}/reject", json={"comment": "x"}), 403)
    assert snapshot() == before


def test_an_obsolete_document_takes_no_request(f, controller, procedure, staff):
    workflow.obsolete_document(controller, procedure, {"reason": "合并到 QP0501"})
    api = f.api(staff)
    before = snapshot()
    refused(api.post(f"/documents/{procedure.id}/change-requests", json=REQUEST), 409)
    assert snapshot() == before


def test_only_a_controller_or_the_owner_departments_approver_decides(f, procedure, staff, other_approver,
                                                                     raise_cr):
    cr = raise_cr(staff, procedure)
    apis = [f.api(u) for u in (staff, other_approver, f.user("auditor"), f.user("staff", department="ZB"))]
    before = snapshot()
    for api in apis:
        for decision in ("accept", "reject"):
            refused(api.post(f"/change-requests/{cr['id']}/{decision}", json={"comment": "x"}), 403)
    assert snapshot() == before


def test_accepting_twice_or_after_a_rejection_is_409(f, procedure, staff, approver, controller, raise_cr, decide):
    cr = raise_cr(staff, procedure)
    decide(approver, cr, "accept", comment="同意")
    api = f.api(controller)
    before = snapshot()
    refused(api.post(f"/change-requests/{cr['id']}/accept", json={"comment": "再次"}), 409)
    refused(api.post(f"/change-requests/{cr['id']}/reject", json={"comment": "反悔"}), 409)
    assert snapshot() == before
    other = raise_cr(staff, procedure)
    decide(approver, other, "reject", comment="不采纳")
    before = snapshot()
    refused(api.post(f"/change-requests/{other['id']}/accept", json={"comment": "x"}), 409)
    assert snapshot() == before


def test_accepting_while_the_document_has_an_open_draft_is_409(f, procedure, staff, approver, raise_cr):
    cr = raise_cr(staff, procedure)
    f.draft(procedure, author=staff, reason="另一项修改")
    api = f.api(approver)
    before = snapshot()
    error = refused(api.post(f"/change-requests/{cr['id']}/accept", json={"comment": "同意"}), 409)
    assert error["code"] == "open_revision_exists"
    assert snapshot() == before  # still open, no second draft, no trail entry


@pytest.mark.parametrize("body, decision, field", [
    ({}, "reject", "comment"),
    ({"comment": "   "}, "reject", "comment"),
    ({"comment": 5}, "reject", "comment"),
    ({"comment": "x" * 5001}, "reject", "comment"),
    ({}, "accept", "comment"),
    ({"comment": "同意", "author": "nobody"}, "accept", "author"),
    ({"comment": "同意", "author": "cb_auditor"}, "accept", "author"),
    ({"comment": "同意", "author": "gone"}, "accept", "author"),
    ({"comment": "同意", "author": 7}, "accept", "author"),
])
def test_invalid_decisions_are_422(f, procedure, staff, approver, reviewer, raise_cr, body, decision, field):
    from portal.accounts import services as accounts

    gone = f.user("staff", username="gone", department="ZB")
    accounts.update_user(f.user("admin"), gone, active=False)
    cr = raise_cr(staff, procedure)
    api = f.api(approver)
    before = snapshot()
    error = refused(api.post(f"/change-requests/{cr['id']}/{decision}", json=body), 422)
    assert field in error["fields"], error
    assert snapshot() == before


def test_the_author_of_a_confidential_documents_draft_must_already_see_it(f, controller, approver, staff):
    secret = f.document(controller, code="QP-SEC-01", title="保密程序", department="ZB",
                        confidentiality="confidential")
    f.effective(secret, controller=controller)
    cr = f.api(approver).post(f"/documents/{secret.id}/change-requests", json=REQUEST).get_json()
    api = f.api(approver)
    before = snapshot()
    error = refused(api.post(f"/change-requests/{cr['id']}/accept", json={"comment": "同意", "author": "zhangwei"}),
                    422)
    assert "author" in error["fields"]
    assert snapshot() == before


def test_unknown_and_invisible_requests_are_404(f, controller, procedure, staff, approver, raise_cr):
    secret = f.document(controller, code="QP-SEC-01", title="保密程序", department="ZB",
                        confidentiality="confidential")
    f.effective(secret, controller=controller)
    cr = raise_cr(approver, secret)
    api = f.api(staff)  # of another department: the confidential document is not theirs
    before = snapshot()
    for path in (f"/change-requests/{cr['id']}", "/change-requests/999999"):
        refused(api.get(path), 404)
    refused(api.post(f"/change-requests/{cr['id']}/accept", json={"comment": "x"}), 404)
    assert [i["id"] for i in api.get("/change-requests").get_json()["items"]] == []
    assert api.get(f"/trail?object_type=change_request&object_id={cr['id']}").status_code == 404
    assert snapshot() == before


def test_hostile_text_is_kept_as_text(f, procedure, staff, raise_cr, browser):
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    cr = raise_cr(staff, procedure, reason=hostile, proposed_change=hostile)
    assert cr["reason"] == hostile  # JSON carries the text as typed
    db.session.rollback()
    for url in (f"/change-requests/{cr['id']}", "/change-requests", f"/documents/{procedure.id}"):
        page = browser(staff).get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
