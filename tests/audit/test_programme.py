"""The annual audit programme (年度内审方案): its scope, its approval with password, and the
coverage matrix over the whole scope. Bad input changes nothing."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditProgramme
from portal.extensions import db
from portal.trail.models import TrailEntry

SCOPE = {"objectives": "验证质量管理体系符合 ISO 9001:2015 并有效运行", "criteria": "ISO 9001:2015；质量手册 QM-01",
         "standards": ["ISO 9001:2015"], "departments": ["SC", "SH"]}
ISO = "ISO 9001:2015 "


def _counts():
    db.session.rollback()
    return (db.session.execute(select(func.count()).select_from(AuditProgramme)).scalar(),
            db.session.execute(select(func.count()).select_from(TrailEntry)).scalar())


def _programme():
    db.session.rollback()
    return db.session.execute(select(AuditProgramme)).scalar_one_or_none()


def test_the_scope_defaults_to_the_two_level_clauses_and_fills_the_matrix(api, depts):
    response = api.put("/audit-programme/2026", json=SCOPE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    expected = [f"{ISO}{n}" for n in ("4.1 4.2 4.3 4.4 5.1 5.2 5.3 6.1 6.2 6.3 7.1 7.2 7.3 7.4 7.5 "
                                      "8.1 8.2 8.3 8.4 8.5 8.6 8.7 9.1 9.2 9.3 10.1 10.2 10.3").split()]
    assert body["programme"]["clauses"] == expected and body["clauses"] == expected
    assert body["programme"]["approved_by"] is None and body["programme"]["created_by"] == "zhoujing"
    assert body["departments"] == ["SC", "SH"]
    assert len(body["cells"]) == 56 and body["summary"] == {"audited": 0, "planned": 0, "not_covered": 56}
    assert api.get("/audit-programme/2026").get_json() == body
    entry = db.session.execute(select(TrailEntry).where(TrailEntry.object_type == "audit_programme")).scalar_one()
    assert entry.action == "programme.create" and entry.after["departments"] == ["SC", "SH"]
    assert api.get("/trail", query_string={"object_type": "audit_programme",
                                           "object_id": entry.object_id}).get_json()["total"] == 1


def test_chosen_clauses_and_a_standard_without_two_level_clauses(api, f, depts):
    chosen = api.put("/audit-programme/2026", json={**SCOPE, "clauses": [f"{ISO}9.2", f"{ISO}9.3", f"{ISO}9.2"]})
    assert chosen.get_json()["clauses"] == [f"{ISO}9.2", f"{ISO}9.3"]
    both = api.put("/audit-programme/2026", json={**SCOPE, "standards": ["ISO 9001:2015", "GB/T 27922-2011"]})
    clauses = both.get_json()["clauses"]
    assert "GB/T 27922-2011 5.1" in clauses and "GB/T 27922-2011 6" in clauses  # 6 has no sub-clause
    assert "GB/T 27922-2011 5" not in clauses


@pytest.mark.parametrize("change, field", [
    ({"standards": ["ISO 9999:2030"]}, "standards"),
    ({"standards": []}, "standards"),
    ({"standards": "ISO 9001:2015"}, "standards"),
    ({"departments": ["SC", "NOPE"]}, "departments"),
    ({"departments": []}, "departments"),
    ({"departments": [1]}, "departments"),
    ({"clauses": [f"{ISO}99.9"]}, "clauses"),
    ({"clauses": ["ISO 14001:2015 7.5"]}, "clauses"),
    ({"clauses": "ISO 9001:2015 7.5"}, "clauses"),
    ({"objectives": ""}, "objectives"),
    ({"objectives": "x" * 4001}, "objectives"),
    ({"criteria": None}, "criteria"),
    ({"criteria": ["x"]}, "criteria"),
    ({"approved_by": "zhaoguoqiang"}, "approved_by"),
])
def test_bad_scopes_are_refused_and_change_nothing(api, depts, change, field):
    before = _counts()
    response = api.put("/audit-programme/2026", json={**SCOPE, **change})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _counts() == before


def test_an_inactive_department_is_not_in_scope(api, f, depts):
    from portal.accounts import services as accounts

    dept = f.department("OLD", "撤销部门")
    dept.active = False
    db.session.commit()
    assert accounts.department_by_code("OLD").active is False
    assert api.put("/audit-programme/2026", json={**SCOPE, "departments": ["OLD"]}).status_code == 422


@pytest.mark.parametrize("year", [1999, 2101, 0, 9999])
def test_years_out_of_range_are_not_found(api, depts, year):
    before = _counts()
    assert api.put(f"/audit-programme/{year}", json=SCOPE).status_code == 404
    assert api.get(f"/audit-programme/{year}").status_code == 404
    assert api.post(f"/audit-programme/{year}/propose").status_code == 404
    assert _counts() == before


def test_malformed_bodies_are_400(api, depts):
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"}
    for body in (b"{", b"[]", b'"scope"', b"\xff\xfe"):
        assert api.client.put("/api/v1/audit-programme/2026", data=body, headers=headers).status_code == 400
    assert _programme() is None


def test_who_may_set_the_scope(f, depts):
    refused = [f.api(f.user(role)) for role in ("staff", "approver")]
    refused.append(f.api(f.user("external_reviewer", expires=date(2099, 1, 1))))
    before = _counts()
    for api in refused:
        assert api.put("/audit-programme/2026", json=SCOPE).status_code == 403
    assert _counts() == before
    assert f.api(f.user("controller")).put("/audit-programme/2026", json=SCOPE).status_code == 200


def test_approval_with_password_and_a_changed_scope_withdraws_it(api, f, depts, approver):
    api.put("/audit-programme/2026", json=SCOPE)
    boss = f.api(approver)
    wrong = boss.post("/audit-programme/2026/approve", json={"password": "not-my-password"})
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "wrong_password"
    assert _programme().approved_at is None
    assert boss.post("/audit-programme/2026/approve", json={}).status_code == 422
    assert boss.post("/audit-programme/2026/approve", json={"password": 123}).status_code == 422
    assert api.post("/audit-programme/2026/approve", json={"password": "correct-horse-1"}).status_code == 403
    assert f.api(f.user("admin")).post("/audit-programme/2026/approve",
                                       json={"password": "correct-horse-1"}).status_code == 403
    response = boss.post("/audit-programme/2026/approve", json={"password": "correct-horse-1"})
    assert response.status_code == 200
    assert response.get_json()["programme"]["approved_by"] == "zhaoguoqiang"
    assert boss.post("/audit-programme/2026/approve", json={"password": "correct-horse-1"}).status_code == 409

    before = _counts()
    api.put("/audit-programme/2026", json=SCOPE)  # the same scope: nothing changes
    assert _counts() == before and _programme().approved_by_id == approver.id
    changed = api.put("/audit-programme/2026", json={**SCOPE, "departments": ["SC"]}).get_json()
    assert changed["programme"]["approved_by"] is None and changed["programme"]["approved_at"] is None
    entry = db.session.execute(select(TrailEntry).where(TrailEntry.action == "programme.update")).scalar_one()
    assert entry.before["approved_by"] == "zhaoguoqiang" and entry.after["approved_by"] is None
    assert "withdrawn" in entry.reason or "撤销" in entry.reason
    assert boss.post("/audit-programme/2026/approve", json={"password": "correct-horse-1"}).status_code == 200


def test_approving_a_year_without_scope_is_404(f, approver):
    response = f.api(approver).post("/audit-programme/2026/approve", json={"password": "correct-horse-1"})
    assert response.status_code == 404


# --- the matrix -----------------------------------------------------------------------------------

def test_only_results_and_findings_mark_a_cell_audited(api, f, depts, running, finding, planned):
    api.put("/audit-programme/2026", json={**SCOPE, "standards": ["ISO 9001:2015"]})
    item = api.post(f"/audits/{running['id']}/checklist", json={
        "clause": f"{ISO}8.5.1", "department": "SH", "question": "服务过程是否受控？"}).get_json()
    cells = _cells(api)
    assert cells[("SH", f"{ISO}8.5")]["status"] == "planned"  # named by a running audit, no result yet
    assert cells[("SC", f"{ISO}7.5")]["status"] == "planned"
    api.patch(f"/audits/{running['id']}/checklist/{item['id']}", json={"result": "not_applicable"})
    finding()  # SC × 7.5.3
    cells = _cells(api)
    assert cells[("SH", f"{ISO}8.5")]["status"] == "audited"  # a result on 8.5.1 covers 8.5
    assert cells[("SC", f"{ISO}7.5")] == {"department": "SC", "clause": f"{ISO}7.5", "status": "audited",
                                          "audits": [running["number"]]}
    assert cells[("SH", f"{ISO}7.5")]["status"] == "planned"
    assert cells[("SC", f"{ISO}9.2")]["status"] == "not_covered"
    api.post(f"/audits/{running['id']}/report")
    cells = _cells(api)
    assert cells[("SH", f"{ISO}7.5")]["status"] == "not_covered"  # reported without checking it
    assert cells[("SC", f"{ISO}7.5")]["status"] == "audited"
    # an audit of a department and a standard outside the scope adds its row and column
    f.department("YF", "研发部")
    other = planned(departments=["YF"], clauses=["ISO 14001:2015 6.1"])
    body = api.get("/audit-programme/2026").get_json()
    assert "YF" in body["departments"] and "ISO 14001:2015 6.1" in body["clauses"]
    assert _cells(api)[("YF", "ISO 14001:2015 6.1")]["audits"] == [other["number"]]
    assert body["summary"]["audited"] == 2 and len(body["cells"]) == 3 * 29


def _cells(api):
    return {(c["department"], c["clause"]): c for c in api.get("/audit-programme/2026").get_json()["cells"]}


def test_the_external_reviewer_sees_the_matrix_of_reported_audits_only(f, api, depts, running, finding):
    api.put("/audit-programme/2026", json=SCOPE)
    finding()
    reviewer = f.api(f.user("external_reviewer", expires=date(2099, 1, 1)))
    body = reviewer.get("/audit-programme/2026").get_json()
    assert body["audits"] == [] and body["summary"]["audited"] == 0
    api.post(f"/audits/{running['id']}/report")
    assert reviewer.get("/audit-programme/2026").get_json()["summary"]["audited"] == 1
