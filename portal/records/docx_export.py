"""A record as Word, laid out like the paper form: its number, form code and revision."""
import io
import re

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from portal import clock, storage
from portal.records.models import Record
from portal.validation import xml_safe

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
STATUS_LABELS = {"open": "进行中", "closed": "已关闭", "voided": "作废", "disposed": "已销毁"}


def display_value(field: dict, value) -> str:
    """A field value as printed on paper; any stored value, of whatever shape, gives a text."""
    if value is None:
        return ""
    kind = field.get("type") if isinstance(field, dict) else None
    if kind == "checkbox":
        return "☑" if value else "☐"
    if kind == "table" and isinstance(value, list):
        columns = table_columns(field)
        return "\n".join(_table_row_text(columns, row) for row in value)
    return str(value)


def field_label(field) -> str:
    return str(field.get("label") or field.get("name") or "") if isinstance(field, dict) else str(field)


def revision_fields(rev) -> list[dict]:
    """A form revision's fields, only the well-formed entries of whatever is stored."""
    fields = rev.fields if rev is not None else None
    return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []


def record_data(rec: Record) -> dict:
    return rec.data if isinstance(rec.data, dict) else {}


def table_columns(field: dict) -> list[dict]:
    columns = field.get("columns")
    return [c for c in columns if isinstance(c, dict)] if isinstance(columns, list) else []


def _table_row_text(columns: list[dict], row) -> str:
    if not isinstance(row, dict):
        return str(row)
    return "；".join(f"{field_label(c)}: {display_value(c, row.get(c.get('name')))}" for c in columns)


def _values(rec: Record) -> dict[str, str]:
    values = {"number": rec.number, "form_code": rec.form.code, "revision": rec.revision_label}
    for field in revision_fields(rec.revision):
        values[str(field.get("name"))] = display_value(field, record_data(rec).get(field.get("name")))
    return {name: xml_safe(value) for name, value in values.items()}


def render_record_docx(rec: Record) -> bytes:
    """Fill the form's template.docx when it has one, else lay the fields out as a table; then
    the 划改 (in the template layout, as a list after it) and the attachments, as on screen."""
    template = rec.revision.template_sha256
    document = _from_template(template, _values(rec)) if template else _generated(rec)
    if rec.status != "disposed":  # disposal removes the content; the page then hides both too
        if template:
            _corrections_list(document, rec)
        _attachments_list(document, rec)
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
    run = title.add_run(xml_safe(rec.form.title))
    run.bold, run.font.size = True, Pt(16)
    document.add_paragraph(xml_safe(f"编号: {rec.number}    表单编号: {rec.form.code}    版本: {rec.revision_label}"))
    fields, data, corrected = revision_fields(rec.revision), record_data(rec), _corrections_by_field(rec)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for field in fields:
        if field.get("type") != "table":
            cells = table.add_row().cells
            cells[0].text = xml_safe(field_label(field))
            cells[1].text = xml_safe(display_value(field, data.get(field.get("name"))))
            for correction in corrected.get(field.get("name"), []):
                _write_correction(cells[1].add_paragraph(), field, correction)
    for field in fields:
        if field.get("type") == "table":
            _rows_table(document, field, data.get(field.get("name")))
            for correction in corrected.get(field.get("name"), []):
                _write_correction(document.add_paragraph(), field, correction)
    if rec.form.parts:
        document.add_paragraph(xml_safe(f"一式{_chinese_count(len(rec.form.parts))}联: "
                                        + " / ".join(map(str, rec.form.parts))))
    return document


def _rows_table(document, field: dict, rows) -> None:
    document.add_paragraph(xml_safe(field_label(field)))
    columns = table_columns(field)
    rows = rows if isinstance(rows, list) else [] if rows is None else [rows]
    if not columns:
        document.add_paragraph(xml_safe("\n".join(map(str, rows))))
        return
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, columns):
        cell.text = xml_safe(field_label(column))
    for row in rows:
        cells = table.add_row().cells
        if not isinstance(row, dict):
            cells[0].text = xml_safe(row)
            continue
        for cell, column in zip(cells, columns):
            cell.text = xml_safe(display_value(column, row.get(column.get("name"))))


def _corrections_by_field(rec: Record) -> dict[str, list]:
    if rec.status == "disposed":
        return {}
    corrected: dict[str, list] = {}
    for correction in rec.corrections:
        corrected.setdefault(correction.field, []).append(correction)
    return corrected


def _write_correction(paragraph, field: dict, correction) -> None:
    """One 划改 as on the record page: the old value struck through, the new one, who, when, why."""
    old = paragraph.add_run(xml_safe(display_value(field, correction.old_value)))
    old.font.strike = True
    paragraph.add_run(" → " + xml_safe(display_value(field, correction.new_value)))
    when = clock.local(correction.at).strftime("%Y-%m-%d %H:%M")
    note = paragraph.add_run(xml_safe(f" （{correction.by.display_name} {when}：{correction.reason}）"))
    note.font.size = Pt(8)


def _corrections_list(document, rec: Record) -> None:
    """A template layout shows the current values in place; the 划改 follow it as a list."""
    if not rec.corrections:
        return
    _bold_paragraph(document, "划改记录")
    fields = {f.get("name"): f for f in revision_fields(rec.revision)}
    for correction in rec.corrections:
        field = fields.get(correction.field, {"name": correction.field})
        paragraph = document.add_paragraph(xml_safe(f"{field_label(field)}: "))
        _write_correction(paragraph, field, correction)


def _attachments_list(document, rec: Record) -> None:
    """名称, size and the first 16 hex digits of the SHA-256, as the record page lists them."""
    _bold_paragraph(document, "附件")
    for att in rec.attachments:
        uploaded = clock.local(att.uploaded_at).strftime("%Y-%m-%d %H:%M")
        document.add_paragraph(xml_safe(f"{att.filename}    {att.size} B    sha256 {att.sha256[:16]}…    "
                                        f"{att.uploaded_by.display_name} {uploaded}"))
    if not rec.attachments:
        document.add_paragraph("无")


def _bold_paragraph(document, text: str) -> None:
    # not add_heading: a form's own template.docx need not define the Heading styles
    document.add_paragraph().add_run(text).bold = True


def _chinese_count(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 0 < n <= 10 else str(n)


def _status_footer(document, rec: Record) -> None:
    footer = document.sections[0].footer.paragraphs[0]
    made = clock.local(rec.created_at).strftime("%Y-%m-%d %H:%M")
    footer.text = xml_safe(f"{rec.number} · {STATUS_LABELS.get(rec.status, rec.status)} · "
                           f"填写: {rec.created_by.display_name} {made} · 保存至 {rec.retain_until or ''}")
