"""The objectives API: defining (controllers only, every problem a 422 per field), reading,
values, the SVG chart and the Excel export."""
import io
import xml.etree.ElementTree as ET

import pytest

from portal.trail.models import TrailEntry


@pytest.fixture
def ctl(f, world):
    return f.api(world.controller)


def body(world, **overrides):
    return {"name": "服务一次成功率", "target": 90, "comparison": ">=", "unit": "%", "frequency": "month",
            "measure": {"kind": "field_ratio", "form_id": world.form.id, "field": "first_fix", "values": ["是"]},
            **overrides}


def test_create_read_list_and_trail(world, ctl, app):
    response = ctl.post("/objectives", json=body(world, department="SH"))
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["department"] == "SH" and made["measure"]["values"] == ["是"] and made["active"] is True
    assert ctl.get(f"/objectives/{made['id']}").get_json() == made
    listed = ctl.get("/objectives").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == made["id"] and listed["per_page"] == 20
    from portal.extensions import db
    from sqlalchemy import select

    entry = db.session.execute(select(TrailEntry).where(TrailEntry.object_type == "objective")).scalar_one()
    assert entry.action == "objective.create" and entry.object_id == made["id"]


def test_values_endpoint_and_default_range(world, ctl):
    made = ctl.post("/objectives", json=body(world)).get_json()
    got = ctl.get(f"/objectives/{made['id']}/values?from=2026-10&to=2026-11").get_json()
    assert [r["period"] for r in got["items"]] == ["2026-10", "2026-11"]
    assert got["items"][1] == {"period": "2026-11", "department": None, "numerator": 1, "denominator": 1,
                               "value": 100, "target": 90, "met": True}
    default = ctl.get(f"/objectives/{made['id']}/values").get_json()["items"]  # clock: 15 December 2026
    assert len(default) == 12 and default[0]["period"] == "2026-01" and default[-1]["period"] == "2026-12"
    by_dept = ctl.get(f"/objectives/{made['id']}/values?from=2026-10&to=2026-10&department=ZL").get_json()
    assert by_dept["items"][0]["numerator"] == 1 and by_dept["items"][0]["department"] == "ZL"


@pytest.mark.parametrize("query, field", [("from=2026-11&to=2026-10", "to"), ("from=2026-13", "from"),
                                          ("from=2026-Q5", "from"), ("from=1900-01&to=2026-01", "from"),
                                          ("from=2000-01&to=2026-01", "to")])
def test_bad_ranges_are_422(world, ctl, query, field):
    made = ctl.post("/objectives", json=body(world)).get_json()
    for path in ("values", "chart.svg"):
        response = ctl.get(f"/objectives/{made['id']}/{path}?{query}")
        assert response.status_code == 422, response.get_data(as_text=True)
        assert field in response.get_json()["error"]["fields"]
    assert ctl.get(f"/objectives/{made['id']}/values?department=NOPE").status_code == 422


def measure_cases(world):
    form, proc = world.form.id, world.proc.id
    return [
        ({"measure": {"kind": "count", "form_id": 999999}, "unit": "count"}, "measure.form_id"),
        ({"measure": {"kind": "count", "form_id": proc}, "unit": "count"}, "measure.form_id"),  # not a form
        ({"measure": {"kind": "field_ratio", "form_id": form, "field": "nope", "values": ["是"]}}, "measure.field"),
        ({"measure": {"kind": "field_ratio", "form_id": form, "field": "first_fix", "values": ["也许"]}},
         "measure.values"),
        ({"measure": {"kind": "field_ratio", "form_id": form, "field": "first_fix", "values": []}}, "measure.values"),
        ({"measure": {"kind": "field_mean", "form_id": form, "field": "first_fix"}, "unit": "score"},
         "measure.field"),  # a mean of a choice field
        ({"measure": {"kind": "field_mean", "form_id": form}, "unit": "score"}, "measure.field"),
        ({"measure": {"kind": "on_time", "document_id": form}}, "measure.document_id"),  # a form, not a procedure
        ({"measure": {"kind": "on_time", "document_id": proc, "step": 2}}, "measure.step"),
        ({"measure": {"kind": "on_time", "document_id": proc, "step": "0"}}, "measure.step"),
        ({"measure": {"kind": "on_time", "document_id": True}}, "measure.document_id"),
        ({"measure": {"kind": "magic"}}, "measure.kind"),
        ({"measure": "count"}, "measure"),
        ({"measure": None}, "measure"),
        ({"target": "98"}, "target"), ({"target": 1e300}, "target"), ({"target": None}, "target"),
        ({"target": 120}, "target"),  # a share above 100 %
        ({"comparison": ">"}, "comparison"), ({"unit": "kg"}, "unit"), ({"frequency": "week"}, "frequency"),
        ({"unit": "count"}, "unit"),  # a share is in %
        ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"department": "NOPE"}, "department"),
    ]


def test_bad_definitions_are_422_per_field_and_change_nothing(world, ctl):
    for overrides, field in measure_cases(world):
        response = ctl.post("/objectives", json=body(world, **overrides))
        assert response.status_code == 422, (overrides, response.get_json())
        assert field in response.get_json()["error"]["fields"], (overrides, response.get_json())
    assert ctl.get("/objectives").get_json()["total"] == 0


def test_only_controllers_define_and_reviewers_only_read(world, f, ctl):
    made = ctl.post("/objectives", json=body(world)).get_json()
    for role in ("staff", "approver", "auditor"):
        response = f.api(f.user(role)).post("/objectives", json=body(world))
        assert response.status_code == 403, role
        assert f.api(f.user(role)).patch(f"/objectives/{made['id']}", json={"target": 1}).status_code == 403
    reviewer = f.api(f.user("external_reviewer"))
    assert reviewer.post("/objectives", json=body(world)).status_code == 403
    assert reviewer.patch(f"/objectives/{made['id']}", json={"target": 1}).status_code == 403
    assert reviewer.get(f"/objectives/{made['id']}/values").status_code == 200
    assert f.api(f.user("admin")).post("/objectives", json=body(world)).status_code == 201


def test_patch_changes_name_target_active_only(world, ctl):
    made = ctl.post("/objectives", json=body(world)).get_json()
    changed = ctl.patch(f"/objectives/{made['id']}", json={"target": 95, "active": False}).get_json()
    assert changed["target"] == 95 and changed["active"] is False
    assert ctl.get("/objectives?active=1").get_json()["total"] == 0
    for payload, field in (({"measure": {"kind": "count"}}, "measure"), ({"target": "x"}, "target"),
                           ({"active": "yes"}, "active"), ({}, "name"), ({"target": 95}, "name")):
        response = ctl.patch(f"/objectives/{made['id']}", json=payload)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], payload


def test_chart_is_well_formed_svg_and_escapes_names(world, ctl):
    hostile = '<script>alert(1)</script> & "服务" </svg>'
    made = ctl.post("/objectives", json=body(world, name=hostile)).get_json()
    response = ctl.get(f"/objectives/{made['id']}/chart.svg?from=2026-08&to=2026-12")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script" not in svg and not root.findall(".//{http://www.w3.org/2000/svg}script")
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert hostile in texts and "2026-10" in texts
    assert "stroke-dasharray" in svg  # the target line
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.find("{http://www.w3.org/2000/svg}title") is not None]
    assert len(bars) == 4  # August has nothing to measure: a gap


def test_xlsx_export_opens_with_the_values(world, ctl):
    import openpyxl

    ctl.post("/objectives", json=body(world, name="=HYPERLINK(\"x\")"))
    response = ctl.get("/objectives.xlsx?from=2026-10&to=2026-11")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    lines = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [line[3] for line in lines] == ["2026-10", "2026-11"]
    assert lines[1][6] == 100 and lines[1][10] == "达标"
    assert sheet.cell(row=3, column=1).data_type == "s"  # the name stays text, never a formula
    assert ctl.get("/objectives.xlsx?from=2026-13").status_code == 422
