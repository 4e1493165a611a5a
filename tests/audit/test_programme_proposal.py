"""`propose` fills the programme's gaps (nothing saved until accepted): one audit per department,
spread over the working months left, qualified and independent auditors, balanced load."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from portal import workdays
from portal.audit.models import Audit
from portal.extensions import db
from portal.trail.models import TrailEntry

ISO = "ISO 9001:2015 "
SCOPE = {"objectives": "覆盖全部部门", "criteria": "ISO 9001:2015", "standards": ["ISO 9001:2015"],
         "departments": ["SC", "SH", "YF", "YX"], "clauses": [f"{ISO}7.5", f"{ISO}8.5", f"{ISO}9.2"]}


@pytest.fixture
def world(f, depts, lead, second_auditor, frozen):
    """Four departments in scope; 周静 (ZB) and 吴海涛 (XZ) qualified; mid-September 2026."""
    frozen(datetime(2026, 9, 15, 2))
    f.department("YF", "研发部")
    f.department("YX", "营销中心")
    api = f.api(lead)
    assert api.put("/audit-programme/2026", json=SCOPE).status_code == 200
    return api


def _counts():
    db.session.rollback()
    return (db.session.execute(select(func.count()).select_from(Audit)).scalar(),
            db.session.execute(select(func.count()).select_from(TrailEntry)).scalar())


def test_a_proposal_covers_every_gap_and_saves_nothing(world):
    before = _counts()
    response = world.post("/audit-programme/2026/propose")
    assert response.status_code == 200, response.get_json()
    proposal = response.get_json()
    assert _counts() == before
    audits = proposal["audits"]
    assert proposal["unassigned"] == []
    assert [a["departments"] for a in audits] == [["SC"], ["SH"], ["YF"], ["YX"]]
    assert all(a["clauses"] == SCOPE["clauses"] for a in audits)
    starts = [date.fromisoformat(a["planned_start"]) for a in audits]
    assert starts == sorted(starts) and starts[0] > date(2026, 9, 15) and starts[-1].year == 2026
    assert {d.month for d in starts} == {9, 10, 11, 12}  # spread over the months left
    assert all(workdays.is_working_day(d) for d in starts)
    assert all(a["planned_end"] >= a["planned_start"] for a in audits)
    # load spread: each of the two auditors leads two audits and joins the other two
    leads = [a["lead_auditor"] for a in audits]
    assert sorted(leads) == ["wuhaitao", "wuhaitao", "zhoujing", "zhoujing"]
    assert all(a["team"] and a["team"] != [a["lead_auditor"]] for a in audits)
    assert all("2026" in a["title"] for a in audits)


def test_planned_and_audited_cells_are_not_proposed_again(world, planned, f):
    planned(planned_start="2026-10-12", planned_end="2026-10-13", departments=["SC"], clauses=[f"{ISO}7.5.3"])
    audits = world.post("/audit-programme/2026/propose").get_json()["audits"]
    sc = next(a for a in audits if a["departments"] == ["SC"])
    assert sc["clauses"] == [f"{ISO}8.5", f"{ISO}9.2"]  # 7.5 is planned through 7.5.3


def test_nobody_is_proposed_for_their_own_department_or_documents_or_unqualified(world, f, lead, second_auditor):
    # 周静 wrote a 研发部 document; 吴海涛's qualification ends before the year does
    f.draft(f.document(f.user("controller", department="YF"), code="QP-YF-01", department="YF"), author=lead)
    f.qualify(second_auditor, standards=["ISO 9001:2015"], qualified_until="2026-10-31")
    f.user("auditor", username="yxaudit", department="YX")  # qualified, but from 营销中心
    audits = {a["departments"][0]: a for a in world.post("/audit-programme/2026/propose").get_json()["audits"]}
    assert "zhoujing" not in [audits["YF"]["lead_auditor"], *audits["YF"]["team"]]
    assert "yxaudit" not in [audits["YX"]["lead_auditor"], *audits["YX"]["team"]]
    for audit in audits.values():
        if audit["planned_start"] > "2026-10-31":
            assert "wuhaitao" not in [audit["lead_auditor"], *audit["team"]]


def test_a_department_no_one_may_audit_is_reported_unassigned(world, f, lead, second_auditor):
    f.qualify(lead, standards=["ISO 14001:2015"])
    f.qualify(second_auditor, standards=["ISO 14001:2015"])
    proposal = world.post("/audit-programme/2026/propose").get_json()
    assert proposal["audits"] == []
    assert [u["department"] for u in proposal["unassigned"]] == ["SC", "SH", "YF", "YX"]


def test_the_load_already_planned_counts(world, planned):
    # 周静 already leads two audits this year: the proposal gives the leads to 吴海涛 first
    planned(departments=["SC"], clauses=[f"{ISO}7.5.3"], team=[])
    planned(departments=["SC"], clauses=[f"{ISO}8.5.1"], team=[])
    audits = world.post("/audit-programme/2026/propose").get_json()["audits"]
    assert audits[0]["lead_auditor"] == "wuhaitao"


def test_propose_needs_a_scope_a_year_not_over_and_an_auditor(f, lead, depts, frozen):
    frozen(datetime(2026, 9, 15, 2))
    api = f.api(lead)
    assert api.post("/audit-programme/2026/propose").status_code == 409
    api.put("/audit-programme/2025", json={**SCOPE, "departments": ["SC"]})
    response = api.post("/audit-programme/2025/propose")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "year_over"
    api.put("/audit-programme/2026", json={**SCOPE, "departments": ["SC"]})
    assert f.api(f.user("staff")).post("/audit-programme/2026/propose").status_code == 403
    assert f.api(f.user("approver")).post("/audit-programme/2026/propose").status_code == 403


def test_next_years_proposal_starts_in_january(f, lead, second_auditor, depts, frozen):
    frozen(datetime(2026, 11, 20, 2))
    api = f.api(lead)
    api.put("/audit-programme/2027", json={**SCOPE, "departments": ["SC", "SH"]})
    audits = api.post("/audit-programme/2027/propose").get_json()["audits"]
    assert [a["planned_start"][:7] for a in audits] == ["2027-01", "2027-07"]


# --- accepting in the browser ------------------------------------------------------------------------

def test_accepting_the_proposal_plans_each_audit_through_the_service(world, browser, kit, lead):
    web = browser(lead)
    html = kit.page(web, "/audit-programme/2026")
    response = web.post("/audit-programme/2026/propose", data={"csrf_token": kit.csrf_token(html)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/audit-programme/2026/accept" in page
    before = _counts()
    form = kit.page_form(page, "/accept")
    assert len(form.getlist("audit")) == 4
    assert web.post("/audit-programme/2026/accept", data=form).status_code == 302
    db.session.rollback()
    audits = db.session.execute(select(Audit).order_by(Audit.id)).scalars().all()
    assert len(audits) == before[0] + 4 and all(a.kind == "programme" for a in audits)
    creates = db.session.execute(select(TrailEntry).where(TrailEntry.action == "audit.create")).scalars().all()
    assert len(creates) == 4
    assert world.post("/audit-programme/2026/propose").get_json()["audits"] == []
    body = world.get("/audit-programme/2026").get_json()
    assert body["summary"] == {"audited": 0, "planned": 12, "not_covered": 0}


def test_a_tampered_or_stale_proposal_is_refused_by_the_planning_rules(world, browser, kit, lead, f):
    web = browser(lead)
    token = kit.csrf_token(kit.page(web, "/audit-programme/2026"))
    before = _counts()
    # refused in the browser: flashed, back to the programme page
    assert web.post("/audit-programme/2026/accept", data={"csrf_token": token, "audit": "{nope"}).status_code == 302
    assert web.post("/audit-programme/2026/accept", data={"csrf_token": token}).status_code == 302
    insider = '{"title": "x", "planned_start": "2026-10-12", "planned_end": "2026-10-12", "departments": ["ZB"], ' \
              '"clauses": ["ISO 9001:2015 7.5"], "lead_auditor": "zhoujing", "team": []}'
    response = web.post("/audit-programme/2026/accept", data={"csrf_token": token, "audit": insider})
    assert response.status_code == 302
    assert _counts() == before
    assert "belongs to audited department ZB" in kit.page(web, "/audit-programme/2026")  # flashed
