"""The Word export of a record shows what its page shows (issue 9, item 11): each 划改 with
the old value struck through, the new value, who, when and why, and the attachment list
(name, size, SHA-256); and it opens whatever a record, its form or its corrections hold
(item 14): control characters, lone surrogates, huge strings, values of the wrong shape."""
import io

import docx
import pytest
from openpyxl import load_workbook

from portal import clock
from portal.extensions import db
from portal.records import services as records
from portal.records.models import Record, RecordCorrection

def paragraphs(data: bytes) -> list:
    """Every paragraph of a .docx: the body's and those inside table cells."""
    document = docx.Document(io.BytesIO(data))
    found = list(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                found.extend(cell.paragraphs)
    return found


def export(api, record_id) -> bytes:
    response = api.get(f"/records/{record_id}/export.docx")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.data


def corrected_record(api, issue, form, author, kit):
    rec = issue(api, form)
    row = db.session.get(Record, rec["id"])
    records.correct_record(author, row, {"data": {"customer": "杭州某某电梯有限公司", "qty": 3},
                                         "reason": "客户名称抄错"})
    records.attach_file(author, row, kit.png(), "现场照片.png", 10_000_000)
    return db.session.get(Record, rec["id"])


def assert_correction_shown(data: bytes, old: str, new: str, who: str, why: str) -> None:
    for paragraph in paragraphs(data):
        struck = [run.text for run in paragraph.runs if run.font.strike]
        if old in struck:
            text = paragraph.text
            assert new in text and who in text and why in text, text
            when = clock.local(clock.now()).strftime("%Y-%m-%d")
            assert when in text, text
            assert not any(run.font.strike for run in paragraph.runs if new in run.text)
            return
    raise AssertionError(f"no struck-through {old!r}")


def assert_attachments_listed(data: bytes, rec: Record) -> None:
    text = "\n".join(p.text for p in paragraphs(data))
    assert "附件" in text
    for att in rec.attachments:
        assert att.filename in text and f"{att.size} B" in text and att.sha256[:16] in text


def test_generated_layout_shows_the_corrections_in_place_and_the_attachments(
        effective_form, api, issue, author, kit):
    form = effective_form()
    rec = corrected_record(api, issue, form, author, kit)
    data = export(api, rec.id)
    assert_correction_shown(data, "上海某某机电有限公司", "杭州某某电梯有限公司", author.display_name, "客户名称抄错")
    assert_correction_shown(data, "2", "3", author.display_name, "客户名称抄错")
    assert_attachments_listed(data, rec)


def test_template_layout_lists_the_corrections_after_the_form(effective_form, api, issue, author, kit):
    template = kit.docx(["质量保修卡 {{number}}"], table=[["客户名称", "{{customer}}"]])
    form = effective_form(template=template)
    rec = corrected_record(api, issue, form, author, kit)
    data = export(api, rec.id)
    text = "\n".join(p.text for p in paragraphs(data))
    assert "划改记录" in text and "客户名称: 上海某某机电有限公司" in text
    assert_correction_shown(data, "上海某某机电有限公司", "杭州某某电梯有限公司", author.display_name, "客户名称抄错")
    assert_attachments_listed(data, rec)


def test_a_record_without_attachments_says_so(effective_form, api, issue):
    rec = issue(api, effective_form())
    texts = [p.text for p in paragraphs(export(api, rec["id"]))]
    assert texts[texts.index("附件") + 1] == "无"


# --- whatever is stored, the exports open -------------------------------------------------

HOSTILE_TEXT = "a\x00b\x01c\x0bd\x1f\ufffee"


def _surrogates_storable() -> bool:
    """SQLite keeps JSON as escaped text (so "\\ud800" comes back); PostgreSQL refuses it."""
    return db.engine.dialect.name == "sqlite"


def test_record_holding_anything_still_exports(effective_form, api, issue, author, controller, kit):
    form = effective_form()
    rec = corrected_record(api, issue, form, author, kit)
    lone = "x\ud800y" if _surrogates_storable() else "xy"
    rec.revision.fields = [
        {"name": "customer", "label": "客户\x02名称", "type": "text"},
        {"name": "result", "label": "结果", "type": "choice", "choices": ["合\x03格", "\x04"]},
        {"name": "parts", "label": "零件\x05", "type": "table",
         "columns": [{"name": "part", "label": "名\x06称", "type": "text"}, "not a column"]},
        {"name": "broken_table", "type": "table"},
        "not a field",
        {"name": "confirmed", "label": "确认", "type": "checkbox"},
    ]
    rec.data = {"customer": HOSTILE_TEXT + lone, "result": "合\x03格", "confirmed": {"odd": 1},
                "parts": [{"part": "接触器\x07"}, "a row that is text", 7], "broken_table": "text\x08",
                "notes": "長" * 200_000}
    db.session.add(RecordCorrection(record=rec, field="customer", old_value="旧\x0c" + lone,
                                    new_value=["a", "\x0e"], reason="原因\x10", by=author, at=clock.now()))
    rec.attachments[0].filename = "照片\x11.png"
    db.session.commit()

    text = "\n".join(p.text for p in paragraphs(export(api, rec.id)))
    assert "abcde" in text and "接触器" in text and "a row that is text" in text and "照片.png" in text

    response = api.get(f"/forms/{form.id}/register.xlsx")
    assert response.status_code == 200
    cells = [c.value for row in load_workbook(io.BytesIO(response.data)).active.iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith("abcde") for v in cells)


def test_record_with_data_that_is_not_an_object_still_exports(effective_form, api, issue):
    rec = issue(api, effective_form())
    row = db.session.get(Record, rec["id"])
    row.data = ["not", "an", "object"]
    db.session.commit()
    docx.Document(io.BytesIO(export(api, rec["id"])))
    assert api.get(f"/forms/{row.form_id}/register.xlsx").status_code == 200


def test_form_template_filled_with_hostile_values_still_exports(effective_form, api, issue, kit):
    template = kit.docx(["{{customer}}"], table=[["备注", "{{notes}}"]])
    rec = issue(api, effective_form(template=template))
    row = db.session.get(Record, rec["id"])
    row.data = {**row.data, "customer": HOSTILE_TEXT, "notes": "\x1b[31m"}
    db.session.commit()
    text = "\n".join(p.text for p in paragraphs(export(api, rec["id"])))
    assert "abcde" in text and "[31m" in text


@pytest.mark.parametrize("body", ["<p>分页&#12;符 &#1; 与 &#xD800;</p>", "<p>raw \x0c \x01 control</p>"])
def test_revision_export_opens_whatever_the_revision_holds(f, api, body):
    controller = f.user("controller")
    doc = f.document(controller)
    rev = f.effective(doc, controller)
    doc.title, rev.body_html, rev.change_summary = "标题\x01\x0b", body, "更改\x02"
    db.session.commit()
    response = f.api(controller).get(f"/revisions/{rev.id}/export.docx")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    document = docx.Document(io.BytesIO(response.data))
    header = "\n".join(c.text for t in document.sections[0].header.tables for r in t.rows for c in r.cells)
    assert "标题" in header
