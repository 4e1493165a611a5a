"""The objectives pages: the list with this period's value (达标/未达标) and a chart each,
the detail table with its filters, the definition form (controllers) and the export."""
import io
import re

import pytest
from pages import signed_in

from portal.extensions import db


@pytest.fixture
def browse(app):
    """browse(user) → a signed-in test client (each request in its own app context)."""
    return lambda user: signed_in(app, user)


def csrf(html):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_list_and_detail_pages(world, make, browse, f):
    ratio = make({"kind": "field_ratio", "form_id": world.form.id, "field": "first_fix", "values": ["是"]},
                 name="服务一次成功率<b>", target=90)
    make({"kind": "count", "form_id": world.form.id}, unit="count", target=5, name="服务单数")
    client = browse(f.user("staff"))
    html = client.get("/objectives").get_data(as_text=True)
    # (the Chinese of the new msgids is merged by the lead: either wording passes)
    assert ("质量目标" in html or "Quality objectives" in html) and "服务一次成功率&lt;b&gt;" in html
    assert "state-effective" in html and "state-overdue" in html  # December: 1/1 share met; 1 record < 5 not
    assert f'/objectives/{ratio.id}/chart.svg' in html and "<script" not in html
    svg = client.get(f"/objectives/{ratio.id}/chart.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    detail = client.get(f"/objectives/{ratio.id}?from=2026-10&to=2026-11&department=SH").get_data(as_text=True)
    assert "2026-10" in detail and "2026-11" in detail and "50%" in detail
    bad = client.get(f"/objectives/{ratio.id}?from=2026-13")
    assert bad.status_code == 422
    export = client.get("/objectives/export.xlsx?from=2026-10&to=2026-10")
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    assert sheet.cell(row=3, column=1).value == "服务一次成功率<b>"


def test_controller_defines_an_objective_in_the_browser(world, browse):
    client = browse(world.controller)
    html = client.get("/objectives/new").get_data(as_text=True)
    assert "售后服务管理程序" in html and "一次修复" in html
    data = {"csrf_token": csrf(html), "name": "服务一次成功率", "department": "", "comparison": ">=",
            "target": "95", "unit": "%", "frequency": "quarter", "kind": "field_ratio",
            "form_id": str(world.form.id), "field": "first_fix", "values": "是", "document_id": "", "step": ""}
    response = client.post("/objectives/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    from portal.objectives.models import Objective
    from sqlalchemy import select

    obj = db.session.execute(select(Objective)).scalar_one()
    assert obj.measure == {"kind": "field_ratio", "form_id": world.form.id, "field": "first_fix", "values": ["是"]}
    bad = client.post("/objectives/new", data={**data, "kind": "field_mean", "unit": "score"})
    assert bad.status_code == 422 and "error" in bad.get_data(as_text=True)
    step = client.post("/objectives/new", data={**data, "kind": "on_time", "document_id": str(world.proc.id),
                                                  "step": "1"})
    assert step.status_code == 302
    ok = client.post("/objectives/new", data={**data, "kind": "field_ratio", "field": "ok", "values": "否"})
    assert ok.status_code == 302


def test_only_controllers_see_the_form(world, browse, f):
    for role in ("staff", "external_reviewer"):
        client = browse(f.user(role))
        assert client.get("/objectives/new").status_code == 403
        assert "/objectives/new" not in client.get("/objectives").get_data(as_text=True)
