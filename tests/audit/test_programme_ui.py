"""The programme in the browser: scope form, approval with password, the matrix, the month
calendar and the Excel export (every text cell a text)."""
import io
from datetime import date

import openpyxl
from sqlalchemy import select

from portal.audit.models import AuditProgramme
from portal.extensions import db

ISO = "ISO 9001:2015 "
HOSTILE = '<img src=x onerror="alert(1)">审核目标'


def _programme():
    db.session.rollback()
    return db.session.execute(select(AuditProgramme)).scalar_one_or_none()


def test_set_the_scope_and_approve_it_in_the_browser(browser, kit, depts, lead, approver):
    web = browser(lead)
    html = kit.page(web, "/audit-programme/2026")
    assert "/audit-programme/2026/scope" in html and "/approve" not in html
    data = {"csrf_token": kit.csrf_token(html), "objectives": HOSTILE, "criteria": "ISO 9001:2015",
            "standards": ["ISO 9001:2015"], "departments": ["SC", "SH"]}
    bad = web.post("/audit-programme/2026/scope", data={**data, "departments": ["NOPE"]})
    assert bad.status_code == 422 and "unknown department NOPE" in bad.get_data(as_text=True)
    assert _programme() is None
    assert web.post("/audit-programme/2026/scope", data=data).status_code == 302
    assert len(_programme().clauses) == 28
    page = kit.page(web, "/audit-programme/2026")
    assert '<img src=x' not in page and "&lt;img src=x" in page
    assert "coverage-not_covered" in page and f"{ISO}9.2" in page

    boss = browser(approver)
    html = kit.page(boss, "/audit-programme/2026")
    assert "/audit-programme/2026/approve" in html and "/audit-programme/2026/scope" not in html
    token = kit.csrf_token(html)
    response = boss.post("/audit-programme/2026/approve", data={"csrf_token": token, "password": "wrong-pass"})
    assert response.status_code == 302 and _programme().approved_at is None
    assert "/audit-programme/2026/approve" in kit.page(boss, "/audit-programme/2026")
    response = boss.post("/audit-programme/2026/approve", data={"csrf_token": token, "password": kit.PASSWORD})
    assert response.status_code == 302 and _programme().approved_by_id == approver.id
    page = kit.page(boss, "/audit-programme/2026?lang=en")
    assert "Approved by 赵国强" in page and "/audit-programme/2026/approve" not in page


def test_the_scope_form_chooses_clauses(browser, kit, depts, lead):
    web = browser(lead)
    token = kit.csrf_token(kit.page(web, "/audit-programme/2026"))
    web.post("/audit-programme/2026/scope", data={"csrf_token": token, "objectives": "目标", "criteria": "准则",
                                                  "standards": ["ISO 9001:2015"], "departments": ["SC"],
                                                  "clauses": [f"{ISO}9.2", f"{ISO}9.3"]})
    assert _programme().clauses == [f"{ISO}9.2", f"{ISO}9.3"]


def test_staff_and_reviewers_see_the_programme_but_not_its_forms(browser, kit, f, depts, lead, api):
    api.put("/audit-programme/2026", json={"objectives": "目标", "criteria": "准则", "standards": ["ISO 9001:2015"],
                                           "departments": ["SC"]})
    for user in (f.user("staff"), f.user("external_reviewer", expires=date(2099, 1, 1))):
        web = browser(user)
        page = kit.page(web, "/audit-programme/2026")
        assert "目标" in page and "/scope" not in page and "/propose" not in page and "/approve" not in page
        token = kit.csrf_token(page)
        assert web.post("/audit-programme/2026/scope", data={"csrf_token": token, "objectives": "改",
                                                            "criteria": "改", "standards": ["ISO 9001:2015"],
                                                            "departments": ["SC"]}).status_code in (302, 403)
    assert _programme().objectives == "目标"


def test_years_out_of_range_are_404_pages(browser, lead):
    web = browser(lead)
    assert web.get("/audit-programme/1999").status_code == 404
    assert web.get("/audit-programme/2101/calendar").status_code == 404
    assert web.get("/audit-programme/2101.xlsx").status_code == 404


def test_the_month_calendar_lists_audits_and_actions_due(browser, kit, api, running, action, f):
    act = action(due_date="2099-04-30")
    ad_hoc = api.post("/audits", json={"title": "投诉引发的临时审核", "planned_start": "2026-07-06",
                                       "planned_end": "2026-07-06", "departments": ["SH"],
                                       "clauses": [f"{ISO}8.2.1"], "lead_auditor": "zhoujing", "team": [],
                                       "kind": "ad_hoc", "reason": "客户投诉"}).get_json()
    body = api.get("/audit-programme/2026/calendar").get_json()
    assert [m["month"] for m in body["months"]] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [a["number"] for a in body["months"][2]["audits"]] == [running["number"]]
    assert [a["number"] for a in body["months"][6]["audits"]] == [ad_hoc["number"]]
    assert all(not m["actions"] for m in body["months"])
    later = api.get("/audit-programme/2099/calendar").get_json()
    assert [x["number"] for x in later["months"][3]["actions"]] == [act["number"]]
    page = kit.page(browser(f.user("staff")), "/audit-programme/2026/calendar?lang=en")
    assert running["number"] in page and "投诉引发的临时审核" in page and "Ad hoc" in page
    assert act["number"] in kit.page(browser(f.user("staff")), "/audit-programme/2099/calendar")


def test_the_matrix_exports_to_excel_with_text_cells(browser, f, api, depts, running, finding):
    dept = f.department("EQ", "=HYPERLINK(\"http://x\",\"点我\")")
    api.put("/audit-programme/2026", json={"objectives": "目标", "criteria": "准则", "standards": ["ISO 9001:2015"],
                                           "departments": ["SC", "SH", dept.code]})
    finding()
    for response in (api.get("/audit-programme/2026.xlsx"), browser(f.user("staff")).get("/audit-programme/2026.xlsx")):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheet")
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        header = rows[1]
        assert header[:2] == ["部门代码", "部门"] and f"{ISO}7.5" in header and len(header) == 30
        by_code = {r[0]: r for r in rows[2:]}
        assert by_code["SC"][header.index(f"{ISO}7.5")] == f"已审核 {running['number']}"
        assert by_code["SH"][header.index(f"{ISO}7.5")] == f"已计划 {running['number']}"
        assert by_code["SC"][header.index(f"{ISO}9.2")] == "未覆盖"
        name_cell = [c for c in list(sheet.iter_rows())[2:] if c[0].value == "EQ"][0][1]
        assert name_cell.data_type == "s" and name_cell.value.startswith("=HYPERLINK")
