"""Shared fixtures for the audit tests: audited departments, auditors from other departments,
a planned audit through the JSON API, and the browser helpers of the records tests."""
import pytest

from records.conftest import browser, kit  # noqa: F401  (fixtures shared with the records tests)

CLAUSES = ["ISO 9001:2015 7.5.3", "ISO 9001:2015 8.5.1"]


@pytest.fixture
def depts(f):
    """The audited departments: 生产部 SC and 售后服务部 SH."""
    return {"SC": f.department("SC", "生产部"), "SH": f.department("SH", "售后服务部")}


@pytest.fixture
def lead(f, depts):
    """The lead auditor, from 质保部 (never audited here)."""
    return f.user("auditor", username="zhoujing", department=f.department("ZB", "质保部").code, name="周静")


@pytest.fixture
def second_auditor(f, depts):
    return f.user("auditor", username="wuhaitao", department=f.department("XZ", "行政部").code, name="吴海涛")


@pytest.fixture
def owner(f, depts):
    """A 生产部 engineer who owns corrective actions."""
    return f.user("staff", username="liuyang", department="SC", name="刘洋")


@pytest.fixture
def api(f, lead):
    return f.api(lead)


@pytest.fixture
def plan_payload(lead, second_auditor):
    def make(**overrides):
        data = {"title": "2026年度第一次内部质量审核", "planned_start": "2026-03-10",
                "planned_end": "2026-03-12", "departments": ["SC", "SH"], "clauses": list(CLAUSES),
                "lead_auditor": lead.username, "team": [second_auditor.username]}
        data.update(overrides)
        return data

    return make


@pytest.fixture
def planned(api, plan_payload):
    """planned(**overrides) → the 201 JSON of a new audit."""

    def make(**overrides):
        response = api.post("/audits", json=plan_payload(**overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def running(api, planned):
    """An audit in progress."""
    audit = planned()
    assert api.post(f"/audits/{audit['id']}/start").status_code == 200
    return audit


@pytest.fixture
def finding(api, running):
    """finding(**overrides) → the 201 JSON of a finding on the running audit (minor, SC, 7.5.3)."""

    def make(**overrides):
        data = {"classification": "minor", "clause": CLAUSES[0], "department": "SC",
                "statement": "生产部现场使用的作业指导书为作废版本 A/0，未及时回收。", "evidence": []}
        data.update(overrides)
        response = api.post(f"/audits/{running['id']}/findings", json=data)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def action(api, finding, owner):
    """action(finding_json=None, **overrides) → the 201 JSON of an open corrective action."""

    def make(on=None, **overrides):
        on = on or finding()
        data = {"owner": owner.username, "due_date": "2099-04-30", "containment": "立即收回作废版本",
                "root_cause": "发放回收记录未核对", "plan": "修订文件发放回收流程，增加月度核对"}
        data.update(overrides)
        response = api.post(f"/findings/{on['id']}/actions", json=data)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def approver(f):
    """赵国强, the 管理者代表 who approves the audit programme."""
    return f.user("approver", username="zhaoguoqiang", name="赵国强")
