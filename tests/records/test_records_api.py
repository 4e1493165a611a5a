"""Finding records (?number= with "/"), the registers and records list, and attachments
stored by SHA-256 with the upload checks (CONTRACT.md "Conventions", "Forms and numbered records")."""
import hashlib
import io
import zipfile

import pytest
from openpyxl import load_workbook

from portal import storage


def upload(api, record_id, content: bytes, filename: str):
    """Post a multipart `file`, encoded in memory (the test client would otherwise spool large
    bodies to a temporary file it never closes)."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), filename=filename,
                                                           content_type="application/octet-stream")})
    return api.post(f"/records/{record_id}/attachments", data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")


# --- listing and looking up --------------------------------------------------------------------

def test_number_with_slashes_is_found_by_query_parameter(f, effective_form, api, issue):
    form = effective_form(code="SH/BD-09", pattern="{code}/{yyyy}/{seq:3}")
    first, second = issue(api, form), issue(api, form)
    assert "/" in first["number"]
    found = api.get("/records", query_string={"number": first["number"]}).get_json()
    assert found["total"] == 1 and [r["id"] for r in found["items"]] == [first["id"]]
    # Percent-encoded by hand, the way a script would build the URL.
    from urllib.parse import quote

    found = api.get(f"/records?number={quote(second['number'], safe='')}").get_json()
    assert [r["id"] for r in found["items"]] == [second["id"]]
    assert api.get("/records", query_string={"number": "SH/BD-09/1999/001"}).get_json()["total"] == 0


def test_filters_combine(f, effective_form, api, issue, controller):
    f.department("SC", "生产部")
    form, other = effective_form(), effective_form()
    a = issue(api, form)
    b = issue(api, form, department="SC")
    c = issue(api, other)
    api.post(f"/records/{a['id']}/close")
    ids = lambda **q: sorted(r["id"] for r in api.get("/records", query_string=q).get_json()["items"])  # noqa: E731
    assert ids(form_id=form.id) == sorted([a["id"], b["id"]])
    assert ids(form_id=other.id) == [c["id"]]
    assert ids(status="closed") == [a["id"]]
    assert ids(status="open", form_id=form.id) == [b["id"]]
    assert ids(department="SC") == [b["id"]]
    assert ids(department=controller.department_code, form_id=form.id) == [a["id"]]
    assert ids(form_id=form.id, number=c["number"]) == []


def test_list_has_the_paging_envelope(f, effective_form, api, issue):
    form = effective_form()
    for _ in range(3):
        issue(api, form)
    body = api.get("/records", query_string={"form_id": form.id, "per_page": 2}).get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (3, 1, 2, 2)
    body = api.get("/records", query_string={"form_id": form.id, "per_page": 2, "page": 2}).get_json()
    assert len(body["items"]) == 1
    assert api.get("/records", query_string={"per_page": 1000}).get_json()["per_page"] == 100
    assert api.get("/records").get_json()["per_page"] == 20


@pytest.mark.parametrize("query", ["form_id=abc", "form_id=-1", "page=0", "per_page=x", "from=2026-13-01"])
def test_bad_list_parameters_are_400(api, query):
    response = api.get(f"/records?{query}")
    assert response.status_code == 400, query
    assert response.get_json()["error"]["code"]


def test_unauthenticated_is_401_json(client):
    response = client.get("/api/v1/records")
    assert response.status_code == 401 and response.is_json


def test_records_list_names_every_form_with_owner_retention_and_count(f, effective_form, draft_form, api, issue,
                                                                      controller):
    f.department("SH", "售后服务部")
    kept = effective_form(code="QR-SH009", department="SH", retention_years=5)
    plain = effective_form(code="QR-0101")
    draft, _rev = draft_form(code="QR-DRAFT")
    for _ in range(2):
        issue(api, kept)
    body = api.get("/records-list").get_json()
    by_code = {item["code"]: item for item in body["items"]}
    assert set(by_code) == {"QR-SH009", "QR-0101", "QR-DRAFT"}
    assert by_code["QR-SH009"]["department"] == "SH"
    assert by_code["QR-SH009"]["retention_years"] == 5
    assert by_code["QR-SH009"]["records"] == 2
    assert by_code["QR-0101"]["records"] == 0 and by_code["QR-0101"]["department"] == controller.department_code
    assert by_code["QR-SH009"]["form_id"] == kept.id and by_code["QR-0101"]["form_id"] == plain.id
    assert body["total"] == 3


def test_register_xlsx_lists_the_records(f, effective_form, api, issue):
    form = effective_form(code="SH/BD-03", title="零配件出库单")
    records = [issue(api, form) for _ in range(3)]
    response = api.get(f"/forms/{form.id}/register.xlsx")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    for rec in records:
        assert rec["number"] in cells
    assert "上海某某机电有限公司" in cells  # field values are columns
    assert "客户名称" in cells  # with their labels as headers


def test_register_of_an_unknown_or_non_form_document_is_404(f, api):
    assert api.get("/forms/999999/register.xlsx").status_code == 404
    doc = f.document()
    assert api.get(f"/forms/{doc.id}/register.xlsx").status_code == 404


# --- attachments ----------------------------------------------------------------------------

def test_good_pdf_and_png_are_stored_by_sha256_and_download_intact(f, effective_form, api, issue, kit, browser,
                                                                   author):
    form = effective_form()
    rec = issue(api, form)
    for content, name, mime in ((kit.pdf(), "维修报告.pdf", "application/pdf"),
                                (kit.png(), "现场照片.png", "image/png")):
        response = upload(api, rec["id"], content, name)
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        digest = hashlib.sha256(content).hexdigest()
        assert body["sha256"] == digest and body["size"] == len(content)
        assert body["filename"] == name and body["content_type"] == mime
        assert storage.path_for(digest).read_bytes() == content
        web = browser(author)
        download = web.get(f"/attachments/{body['id']}")
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == digest
    listed = api.get(f"/records/{rec['id']}").get_json()["attachments"]
    assert [a["filename"] for a in listed] == ["维修报告.pdf", "现场照片.png"]


def test_the_same_content_is_stored_once(f, effective_form, api, issue, kit, app):
    form = effective_form()
    one, two = issue(api, form), issue(api, form)
    content = kit.pdf("same")
    assert upload(api, one["id"], content, "a.pdf").status_code == 201
    assert upload(api, two["id"], content, "b.pdf").status_code == 201
    digest = hashlib.sha256(content).hexdigest()
    folder = storage.path_for(digest).parent
    assert [p.name for p in folder.iterdir()] == [digest]


@pytest.mark.parametrize("content,name", [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "setup.exe"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "invoice.pdf"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "report.pdf"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "photo.png"),
    (b"#!/bin/sh\nrm -rf /\n", "cleanup.sh"),
    (b"#!/bin/sh\nrm -rf /\n", "notes.txt"),
    (b"@echo off\r\ndel *.*\r\n", "run.bat"),
    (b"not really a pdf", "fake.pdf"),
    (b"\x89PNG\r\n\x1a\n", "image.pdf"),
    (b"<html><script>alert(1)</script></html>", "page.html"),
    (b"plain", "noextension"),
])
def test_executables_and_mislabelled_files_are_415(f, effective_form, api, issue, content, name):
    form = effective_form()
    rec = issue(api, form)
    response = upload(api, rec["id"], content, name)
    assert response.status_code == 415, (name, response.status_code, response.get_json())
    assert response.get_json()["error"]["code"]
    assert api.get(f"/records/{rec['id']}").get_json()["attachments"] == []


def test_a_file_over_the_limit_is_413(f, effective_form, api, issue, app, kit):
    form = effective_form()
    rec = issue(api, form)
    limit = app.config["MAX_UPLOAD_BYTES"]
    big = kit.pdf() + b"%" * (limit + 1 - len(kit.pdf()))
    assert len(big) == limit + 1
    response = upload(api, rec["id"], big, "scan.pdf")
    assert response.status_code == 413, response.get_json()
    assert response.is_json
    just = kit.pdf() + b"%" * (limit - len(kit.pdf()) - 1000)
    assert upload(api, rec["id"], just, "scan.pdf").status_code == 201


def test_a_body_far_over_the_limit_is_413_json(f, effective_form, api, issue, app):
    form = effective_form()
    rec = issue(api, form)
    huge = b"%PDF-1.4\n" + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = upload(api, rec["id"], huge, "huge.pdf")
    assert response.status_code == 413
    assert response.is_json


def _bomb(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        inner = "xl/worksheets/sheet1.xml" if kind == "xlsx" else "word/document.xml"
        with archive.open(inner, "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(150):
                member.write(chunk)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["xlsx", "docx"])
def test_zip_bombs_are_422(f, effective_form, api, issue, kind):
    form = effective_form()
    rec = issue(api, form)
    content = _bomb(kind)
    assert len(content) < 1024 * 1024
    response = upload(api, rec["id"], content, f"台账.{kind}")
    assert response.status_code == 422, response.get_json()
    assert api.get(f"/records/{rec['id']}").get_json()["attachments"] == []


def test_a_damaged_office_file_is_422(f, effective_form, api, issue):
    form = effective_form()
    rec = issue(api, form)
    assert upload(api, rec["id"], b"PK\x03\x04" + b"\x00" * 100, "broken.xlsx").status_code == 422


def test_a_real_docx_and_xlsx_are_accepted(f, effective_form, api, issue, kit):
    from openpyxl import Workbook

    form = effective_form()
    rec = issue(api, form)
    assert upload(api, rec["id"], kit.docx(["维修说明"]), "说明.docx").status_code == 201
    wb, buffer = Workbook(), io.BytesIO()
    wb.active.append(["零件", 1])
    wb.save(buffer)
    assert upload(api, rec["id"], buffer.getvalue(), "清单.xlsx").status_code == 201


def test_attachment_rules(f, effective_form, api, issue, controller, kit):
    form = effective_form()
    rec = issue(api, form)
    other = f.api(f.user("staff", department=controller.department_code))
    assert upload(other, rec["id"], kit.pdf(), "x.pdf").status_code == 403
    assert api.post(f"/records/{rec['id']}/attachments", data={},
                    content_type="multipart/form-data").status_code == 400
    assert upload(f.api(controller), rec["id"], kit.pdf(), "x.pdf").status_code == 201
    f.api(controller).post(f"/records/{rec['id']}/void", json={"reason": "作废"})
    assert upload(api, rec["id"], kit.pdf(), "y.pdf").status_code == 409


def test_attachments_are_in_the_trail(f, effective_form, api, issue, controller, kit):
    form = effective_form()
    rec = issue(api, form)
    content = kit.png()
    upload(api, rec["id"], content, "p.png")
    items = f.api(controller).get(f"/trail?object_type=record&object_id={rec['id']}").get_json()["items"]
    attach = [e for e in items if e["action"] == "record.attach"]
    assert len(attach) == 1 and attach[0]["after"]["sha256"] == hashlib.sha256(content).hexdigest()


# --- confidential forms -------------------------------------------------------------------------

def test_records_of_a_confidential_form_stay_in_its_department(f, effective_form, api, issue, controller):
    form = effective_form(code="QR-HR-01", confidentiality="confidential")
    rec = issue(api, form)
    outsider = f.api(f.user("staff"))  # another department
    assert outsider.get(f"/records/{rec['id']}").status_code == 404
    assert outsider.get(f"/records/{rec['id']}/export.docx").status_code == 404
    assert outsider.get("/records", query_string={"number": rec["number"]}).get_json()["total"] == 0
    assert outsider.get(f"/forms/{form.id}/register.xlsx").status_code == 404
    assert "QR-HR-01" not in [i["code"] for i in outsider.get("/records-list").get_json()["items"]]
    assert outsider.post(f"/documents/{form.id}/records", json={"data": {"customer": "x"}}).status_code == 404
    reviewer = f.api(f.user("external_reviewer"))
    assert reviewer.get(f"/records/{rec['id']}").status_code == 404
    # Its own department and the controller see it.
    assert api.get(f"/records/{rec['id']}").status_code == 200
    assert f.api(controller).get(f"/records/{rec['id']}").status_code == 200


def test_the_disposal_list_does_not_leak_confidential_records(f, frozen, effective_form, api, issue, controller,
                                                              browser):
    from datetime import datetime, timezone

    frozen(datetime(2026, 3, 10, 4, tzinfo=timezone.utc))
    form = effective_form(code="QR-HR-02", confidentiality="confidential", retention_years=1)
    rec = issue(api, form, data={"customer": "员工病假记录"})
    api.post(f"/records/{rec['id']}/close")
    frozen(datetime(2027, 4, 1, 4, tzinfo=timezone.utc))
    assert rec["id"] in [r["id"] for r in f.api(controller).get("/disposals").get_json()["items"]]
    for outsider in (f.api(f.user("staff")), f.api(f.user("external_reviewer"))):
        response = outsider.get("/disposals")
        assert response.status_code in (200, 403)
        if response.status_code == 200:
            listed = response.get_json()["items"]
            assert rec["id"] not in [r["id"] for r in listed], "a confidential record leaks through /disposals"
            assert "员工病假记录" not in response.get_data(as_text=True)
    page = browser(f.user("staff")).get("/disposals")
    assert page.status_code in (200, 403)
    assert rec["number"] not in page.get_data(as_text=True), "a confidential record leaks through /disposals"
