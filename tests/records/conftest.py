"""Shared fixtures for the records tests: effective forms with fields, browser clients,
small valid files, and helpers to issue records through the JSON API."""
import io
import itertools
import re
import struct
import zlib

import pytest

from portal import clock
from portal.documents import services as documents
from portal.documents import workflow
from factories import PASSWORD
from pages import page_form, signed_in

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_codes = itertools.count(1)

# A form that exercises every field type.
FIELDS = [
    {"name": "customer", "label": "客户名称", "type": "text", "required": True},
    {"name": "notes", "label": "备注", "type": "textarea"},
    {"name": "qty", "label": "数量", "type": "number"},
    {"name": "visit_date", "label": "回访日期", "type": "date"},
    {"name": "result", "label": "处理结果", "type": "choice", "choices": ["合格", "不合格"]},
    {"name": "confirmed", "label": "客户确认", "type": "checkbox"},
    {"name": "parts", "label": "更换零件", "type": "table",
     "columns": [{"name": "part", "label": "零件名称", "type": "text", "required": True},
                 {"name": "count", "label": "数量", "type": "number"}]},
]
GOOD_DATA = {"customer": "上海某某机电有限公司", "notes": "现场更换接触器", "qty": 2,
             "visit_date": "2026-11-05", "result": "合格", "confirmed": True,
             "parts": [{"part": "接触器", "count": 1}]}


@pytest.fixture
def author(f, controller):
    """A staff member of the controller's department: issues most records in these tests."""
    return f.user("staff", department=controller.department_code)


@pytest.fixture
def api(f, author):
    return f.api(author)


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def draft_form(f, controller):
    """draft_form(fields=..., pattern=..., retention_years=..., code=...) → (form, draft A/0)."""

    def make(fields=None, pattern=None, retention_years=None, code=None, title="产品维修记录表",
             department=None, author=None, confidentiality=None, parts=None):
        data = {"code": code or f"QR-T{next(_codes):03d}", "title": title, "doc_type": "form",
                "department": department or controller.department_code}
        if pattern is not None:
            data["numbering_pattern"] = pattern
        if retention_years is not None:
            data["retention_years"] = retention_years
        if confidentiality is not None:
            data["confidentiality"] = confidentiality
        if parts is not None:
            data["parts"] = parts
        form = documents.create_document(controller, data)
        rev = documents.start_revision(author or controller, form, {
            "body_html": f"<h2>{title}</h2>", "change_summary": "首版发行",
            "fields": FIELDS if fields is None else fields})
        return form, rev

    return make


@pytest.fixture
def release(f, controller):
    """Approve and release a draft revision effective today."""

    def go(rev):
        f.approved(rev)
        workflow.release_revision(controller, rev, {"effective_date": clock.today().isoformat()})
        return rev

    return go


@pytest.fixture
def effective_form(draft_form, release):
    """effective_form(fields=..., pattern=..., retention_years=...) → a form whose A/0 is effective."""

    def make(template=None, **kw):
        form, rev = draft_form(**kw)
        if template is not None:
            documents.set_form_template(rev.author, rev, template, "layout.docx")
        release(rev)
        return form

    return make


@pytest.fixture
def new_revision(f, controller, release):
    """Release the next revision of a form (minor by default): A/0 → A/1."""

    def make(form, fields=None, level="minor"):
        data = {"body_html": "<h2>修订</h2>", "change_summary": "增加字段", "change_reason": "顾客要求",
                "change_level": level}
        if fields is not None:
            data["fields"] = fields
        rev = documents.start_revision(controller, form, data)
        return release(rev)

    return make


@pytest.fixture
def issue(f):
    """issue(api, form, data=None, **payload) → the 201 JSON of a new record."""

    def go(api, form, data=None, **payload):
        response = api.post(f"/documents/{form.id}/records",
                            json={"data": dict(GOOD_DATA) if data is None else data, **payload})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return go


@pytest.fixture
def browser(app):
    """browser(user) → a logged-in PageClient (tests/pages.py)."""
    return lambda user: signed_in(app, user)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_data(as_text=True)


# --- small, valid files -------------------------------------------------------------------

def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A real PNG image (grey pixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf_bytes(text: str = "Service report") -> bytes:
    """A minimal but well-formed one-page PDF with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def docx_bytes(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=0, cols=len(table[0]))
        for row in table:
            for cell, text in zip(grid.add_row().cells, row):
                cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def kit():
    """The plain helpers and constants above, for the test modules (no imports from conftest)."""
    import copy
    from types import SimpleNamespace

    return SimpleNamespace(FIELDS=copy.deepcopy(FIELDS), GOOD_DATA=copy.deepcopy(GOOD_DATA),
                           PASSWORD=PASSWORD, csrf_token=csrf_token, page=page, page_form=page_form, png=png_bytes,
                           pdf=pdf_bytes, docx=docx_bytes)
