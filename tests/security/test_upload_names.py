"""Uploaded file names (issue 9, item 23): NUL, control characters, bidi overrides and path
components never reach the stored display name; Chinese names and extensions stay, the
file is stored by hash as before."""
import hashlib
import io
import re

import docx
import pytest

from factories import PASSWORD
from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from portal.documents.models import Revision
from portal.extensions import db
from portal.records.models import Attachment
from portal.security.uploads import MAX_FILENAME, clean_filename

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
       b"\x00\x00\x00\nIDATx\x9cc\xf8\x0f\x00\x01\x01\x01\x00\x18\xdd\x8d\xb0\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("given, shown", [
    ("照片.png", "照片.png"),
    ("现场 照片 2026.png", "现场 照片 2026.png"),
    ("../../etc/passwd.png", "passwd.png"),
    ("..\\..\\windows\\报告.pdf", "报告.pdf"),
    ("C:\\Users\\张三\\报告.pdf", "报告.pdf"),
    ("a\x00b.png", "ab.png"),
    ("a\r\nb\t.png", "ab.png"),
    ("a\x1b[31mred.png", "a[31mred.png"),
    ("a\x85b.png", "ab.png"),                       # a C1 control
    ("photo\u202egnp.exe", "photognp.exe"),         # shows as "photoexe.png" with the override
    ("\u2066x\u2069\u200e\u200f\u202a\u202b\u202c\u202d.png", "x.png"),
    ("\ufeffbom.txt", "bom.txt"),
    (".png", "file.png"),
    ("..", "file"),
    ("", "file"),
    ("  报告.pdf.  ", "报告.pdf"),
    ("report.tar.gz", "report.tar.gz"),
])
def test_clean_filename(given, shown):
    assert clean_filename(given) == shown


def test_a_long_name_is_cut_keeping_its_extension():
    name = clean_filename("长" * 1000 + ".docx")
    assert len(name) == MAX_FILENAME and name.endswith(".docx") and name.startswith("长")


def test_the_name_is_normalised():
    assert clean_filename("e\u0301.png") == "\u00e9.png"


def upload_attachment(api, record_id, name, data=PNG):
    return api.post(f"/records/{record_id}/attachments", data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def author(f, controller):
    return f.user("staff", department=controller.department_code)


@pytest.fixture
def api(f, author):
    return f.api(author)


@pytest.fixture
def record(f, controller, api):
    """An open record of an effective one-field form, issued through the API."""
    form = f.document(controller=controller, doc_type="form")
    rev = documents.start_revision(controller, form, {"body_html": "<p>表</p>", "change_summary": "首版发行",
                                                      "fields": [{"name": "note", "label": "说明", "type": "text"}]})
    f.approved(rev)
    workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
    resp = api.post(f"/documents/{form.id}/records", json={"data": {"note": "现场"}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(client, url) -> str:
    return CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)


@pytest.mark.parametrize("name, shown", [
    ("../../\u202e照片\x00.png", "照片.png"),
    ("..\\..\\..\\现场\x07照片.png", "现场照片.png"),
    ("\u2067扫描件\u2069.png", "扫描件.png"),
])
def test_api_attachment_keeps_a_clean_name_and_the_hash(api, record, name, shown):
    resp = upload_attachment(api, record["id"], name)
    assert resp.status_code == 201, resp.get_json()
    db.session.rollback()
    att = db.session.get(Attachment, resp.get_json()["id"])
    assert att.filename == shown and att.sha256 == hashlib.sha256(PNG).hexdigest()


def test_a_bidi_disguised_executable_is_refused(api, record):
    """'report\u202egnp.exe' shows as 'reportexe.png': checked as the name it really has."""
    resp = upload_attachment(api, record["id"], "report\u202egnp.exe", data=b"MZ" + b"\0" * 64)
    assert resp.status_code == 415
    db.session.rollback()
    assert db.session.query(Attachment).count() == 0


def test_browser_attachment_keeps_a_clean_name(client, author, record):
    web = client
    web.post("/login", data={"csrf_token": csrf(web, "/login"), "username": author.username,
                             "password": PASSWORD})
    resp = web.post(f"/records/{record['id']}/attachments",
                    data={"csrf_token": csrf(web, f"/records/{record['id']}"),
                          "file": (io.BytesIO(PNG), "..\\..\\\u202e合格证\x01.png")},
                    content_type="multipart/form-data",
                    headers={"Referer": f"http://localhost/records/{record['id']}"})
    assert resp.status_code == 302
    db.session.rollback()
    page = web.get(f"/records/{record['id']}").get_data(as_text=True)
    link = re.search(r'href="(/attachments/\d+)">([^<]*)</a>', page)
    assert link.group(2) == "合格证.png"
    download = web.get(link.group(1))
    assert download.data == PNG
    assert "\u202e" not in download.headers["Content-Disposition"]


def docx_upload() -> bytes:
    document = docx.Document()
    document.add_paragraph("1 目的")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_upload_keeps_a_clean_source_name(f, controller):
    api = f.api(controller)
    doc = f.document(controller=controller)
    resp = api.post(f"/documents/{doc.id}/revisions",
                    data={"file": (io.BytesIO(docx_upload()), "../../\u202e程序\x00文件.docx"),
                          "change_summary": "首版发行"},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["source_filename"] == "程序文件.docx"
    db.session.rollback()
    assert db.session.get(Revision, resp.get_json()["id"]).source_filename == "程序文件.docx"
