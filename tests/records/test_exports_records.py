"""Record exports: Word (generated layout and the form's own template.docx), the registers as
Excel in the browser, and conversion to PDF by LibreOffice when it is installed."""
import io
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook

from portal.documents import services as documents
from portal.records import form_loader

LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
needs_libreoffice = pytest.mark.skipif(LIBREOFFICE is None, reason="LibreOffice is not installed")


def all_text(data: bytes) -> str:
    """Every piece of text of a .docx: body paragraphs, table cells, headers and footers."""
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def export(api, record_id) -> bytes:
    response = api.get(f"/records/{record_id}/export.docx")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "wordprocessingml" in response.headers["Content-Type"]
    assert "attachment" in response.headers.get("Content-Disposition", "")
    return response.data


def test_generated_layout_has_number_form_code_revision_and_values(f, effective_form, api, issue):
    form = effective_form(code="SH/QT-01", title="产品维修记录表", pattern="{code}/{yyyy}-{seq:3}",
                          parts=["存根", "售后服务", "客户"])
    rec = issue(api, form)
    text = all_text(export(api, rec["id"]))
    assert rec["number"] in text and "SH/QT-01" in text and "A/0" in text
    assert "产品维修记录表" in text
    for value in ("上海某某机电有限公司", "现场更换接触器", "2026-11-05", "合格", "接触器"):
        assert value in text, value
    assert "一式三联" in text


def test_export_shows_the_revision_the_record_was_issued_on(f, effective_form, new_revision, api, issue):
    form = effective_form(code="QR-0501-02")
    old = issue(api, form)
    new_revision(form)
    new = issue(api, form)
    assert "A/0" in all_text(export(api, old["id"]))
    assert "A/1" in all_text(export(api, new["id"]))


def test_template_layout_is_filled_in(f, effective_form, api, issue, kit):
    template = kit.docx(["质量保修卡", "编号: {{number}}  表单编号: {{form_code}}  版本: {{revision}}"],
                        table=[["客户名称", "{{customer}}"], ["数量", "{{qty}}"], ["确认", "{{confirmed}}"],
                               ["未知", "{{no_such_field}}"]])
    form = effective_form(code="QR-SH009", template=template)
    rec = issue(api, form)
    text = all_text(export(api, rec["id"]))
    assert f"编号: {rec['number']}" in text
    assert "表单编号: QR-SH009" in text and "版本: A/0" in text
    assert "上海某某机电有限公司" in text and "2" in text
    assert "{{" not in text and "}}" not in text
    assert "质量保修卡" in text


def test_template_placeholders_split_across_runs_are_filled_in(f, effective_form, api, issue):
    """Word often splits what the user typed into several runs ({{ + number + }})."""
    document = docx.Document()
    paragraph = document.add_paragraph("编号: ")
    for piece in ("{{", "number", "}}"):
        paragraph.add_run(piece)
    paragraph = document.add_paragraph()
    for piece in ("版本: {{revi", "sion}} 表单: {", "{form_code}}"):
        paragraph.add_run(piece).bold = piece.startswith("版本")
    buffer = io.BytesIO()
    document.save(buffer)
    form = effective_form(code="QR-SPLIT", template=buffer.getvalue())
    rec = issue(api, form)
    text = all_text(export(api, rec["id"]))
    assert rec["number"] in text and "A/0" in text and "QR-SPLIT" in text
    assert "{{" not in text


def test_shipped_form_template_exports(f, draft_form, release, controller, api, issue):
    """The QR-SH009 warranty card as shipped in form_templates/ with its own Word layout."""
    f.department("SH", "售后服务部")
    spec = next(s for s in form_loader.read_form_templates() if s.code == "QR-SH009")
    rev = form_loader.load_form(controller, spec)
    release(rev)
    data = {}
    for field in rev.fields:
        if field["type"] == "date":
            data[field["name"]] = "2026-11-05"
        elif field["type"] == "number":
            data[field["name"]] = 12
        elif field["type"] == "choice":
            data[field["name"]] = field["choices"][0]
        elif field["type"] == "checkbox":
            data[field["name"]] = True
        elif field["type"] == "table":
            data[field["name"]] = []
        else:
            data[field["name"]] = f"值{field['name']}"
    rec = issue(api, rev.document, data=data)
    text = all_text(export(api, rec["id"]))
    assert rec["number"].startswith("QR-SH009-")
    assert rec["number"] in text and "QR-SH009" in text and "A/0" in text
    assert "值product_name" in text
    assert "{{" not in text


def test_export_of_a_voided_record_says_so(f, effective_form, api, issue, controller):
    form = effective_form()
    rec = issue(api, form)
    f.api(controller).post(f"/records/{rec['id']}/void", json={"reason": "作废"})
    assert "作废" in all_text(export(api, rec["id"]))


def test_markup_in_values_is_printed_as_text(f, effective_form, api, issue):
    form = effective_form()
    hostile = "<w:p>]]><script>alert(1)</script> & {{number}}"
    rec = issue(api, form, data={"customer": hostile})
    text = all_text(export(api, rec["id"]))
    assert hostile in text


@pytest.mark.parametrize("char", ["\u0007", "\u001b", "\u000b", "\ufffe"])
def test_control_characters_never_break_the_exports(f, effective_form, api, char):
    """Pasted text can carry control characters Word/Excel XML cannot hold: either the record is
    refused with 422 naming the field, or the exports still work — never a 500."""
    form = effective_form()
    response = api.post(f"/documents/{form.id}/records", json={"data": {"customer": f"甲{char}乙"}})
    if response.status_code == 422:
        assert "customer" in response.get_json()["error"]["fields"]
        return
    assert response.status_code == 201
    rec = response.get_json()
    docx_response = api.get(f"/records/{rec['id']}/export.docx")
    assert docx_response.status_code == 200, docx_response.get_json()
    assert "甲" in all_text(docx_response.data)
    xlsx_response = api.get(f"/forms/{form.id}/register.xlsx")
    assert xlsx_response.status_code == 200, xlsx_response.get_json()
    load_workbook(io.BytesIO(xlsx_response.data))


def test_browser_register_xlsx_and_records_list_xlsx(f, effective_form, api, issue, author, browser):
    form = effective_form(code="SH/BD-09", title="零配件调拨单", retention_years=5)
    records = [issue(api, form) for _ in range(2)]
    web = browser(author)
    response = web.get(f"/forms/{form.id}/records.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    for rec in records:
        assert rec["number"] in cells
    filtered = web.get(f"/forms/{form.id}/records.xlsx?status=closed")
    sheet = load_workbook(io.BytesIO(filtered.data)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert not any(rec["number"] in cells for rec in records)
    listing = web.get("/forms.xlsx")
    assert listing.status_code == 200
    sheet = load_workbook(io.BytesIO(listing.data)).active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    row = next(r for r in rows if r and r[0] == "SH/BD-09")
    assert "零配件调拨单" in row and 5 in row and 2 in row


def _convert(tmp_path: Path, name: str, data: bytes) -> Path:
    source = tmp_path / name
    source.write_bytes(data)
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [LIBREOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=180)
    pdf = source.with_suffix(".pdf")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), (result.stdout, result.stderr)
    return pdf


@needs_libreoffice
def test_libreoffice_converts_a_record_export(f, effective_form, api, issue, tmp_path, kit):
    generated = effective_form()
    templated = effective_form(template=kit.docx(["编号 {{number}} {{form_code}} {{revision}}"]))
    for form in (generated, templated):
        rec = issue(api, form)
        _convert(tmp_path, f"record-{rec['id']}.docx", export(api, rec["id"]))


@needs_libreoffice
def test_libreoffice_converts_a_revision_export(f, effective_form, api, tmp_path):
    form = effective_form(code="QR-LO")
    rev_id = form.current_revision.id
    response = api.get(f"/revisions/{rev_id}/export.docx")
    assert response.status_code == 200
    _convert(tmp_path, "revision.docx", response.data)


def test_set_form_template_refuses_non_docx(f, draft_form, controller, kit):
    from portal.errors import DomainError

    form, rev = draft_form()
    with pytest.raises(DomainError) as caught:
        documents.set_form_template(controller, rev, kit.pdf(), "layout.docx")
    assert caught.value.status in (415, 422)
