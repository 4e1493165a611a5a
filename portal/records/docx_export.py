"""A record as Word, laid out like the paper form: its number, form code and revision."""
import io
import re

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from portal import clock, storage
from portal.records.models import Record

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
STATUS_LABELS = {"open": "进行中", "closed": "已关闭", "voided": "作废", "disposed": "已销毁"}


def display_value(field: dict, value) -> str:
    """A field value as printed on paper."""
    if value is None:
        return ""
    if field["type"] == "checkbox":
        return "☑" if value else "☐"
    if field["type"] == "table":
        return "\n".join("；".join(f"{c['label']}: {display_value(c, row.get(c['name']))}"
                                  for c in field["columns"]) for row in value)
    return str(value)


def _values(rec: Record) -> dict[str, str]:
    values = {"number": rec.number, "form_code": rec.form.code, "revision": rec.revision_label}
    for field in rec.revision.fields or []:
        values[field["name"]] = display_value(field, (rec.data or {}).get(field["name"]))
    return values


def render_record_docx(rec: Record) -> bytes:
    """Fill the form's template.docx when it has one, else lay the fields out as a table."""
    template = rec.revision.template_sha256
    document = _from_template(template, _values(rec)) if template else _generated(rec)
    _status_footer(document, rec)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_in_paragraph(paragraph, values: dict) -> None:
    """Fill placeholders even where Word split one over several runs: the joined text goes
    into the first run (keeping its formatting) and the others are emptied."""
    runs = paragraph.runs
    joined = "".join(run.text for run in runs)
    if "{{" not in joined or not PLACEHOLDER.search(joined):
        return
    runs[0].text = PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), joined)
    for run in runs[1:]:
        run.text = ""


def _from_template(sha256: str, values: dict):
    document = docx.Document(io.BytesIO(storage.read_bytes(sha256)))
    for paragraph in document.paragraphs:
        _replace_in_paragraph(paragraph, values)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    _replace_in_paragraph(paragraph, values)
    return document


def _generated(rec: Record):
    document = docx.Document()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(rec.form.title)
    run.bold, run.font.size = True, Pt(16)
    document.add_paragraph(f"编号: {rec.number}    表单编号: {rec.form.code}    版本: {rec.revision_label}")
    fields = rec.revision.fields or []
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for field in fields:
        if field["type"] != "table":
            cells = table.add_row().cells
            cells[0].text, cells[1].text = field["label"], display_value(field, (rec.data or {}).get(field["name"]))
    for field in fields:
        if field["type"] == "table":
            _rows_table(document, field, (rec.data or {}).get(field["name"]) or [])
    if rec.form.parts:
        document.add_paragraph(f"一式{_chinese_count(len(rec.form.parts))}联: " + " / ".join(rec.form.parts))
    return document


def _rows_table(document, field: dict, rows: list) -> None:
    document.add_paragraph(field["label"])
    table = document.add_table(rows=1, cols=len(field["columns"]))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, field["columns"]):
        cell.text = column["label"]
    for row in rows:
        for cell, column in zip(table.add_row().cells, field["columns"]):
            cell.text = display_value(column, row.get(column["name"]))


def _chinese_count(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 0 < n <= 10 else str(n)


def _status_footer(document, rec: Record) -> None:
    footer = document.sections[0].footer.paragraphs[0]
    made = clock.local(rec.created_at).strftime("%Y-%m-%d %H:%M")
    footer.text = (f"{rec.number} · {STATUS_LABELS.get(rec.status, rec.status)} · "
                   f"填写: {rec.created_by.display_name} {made} · 保存至 {rec.retain_until or ''}")
