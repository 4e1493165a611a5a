"""The shared Word layout (portal/docx_layout.py) the filed reports use: A4, weighted widths that
never overflow the text width, a header row repeated on every page, rows kept whole, signature
lines, and text made safe for XML whatever it holds."""
import io

import docx
from docx.oxml.ns import qn
from docx.shared import Cm, Mm

from portal import docx_layout as layout


def reopen(document):
    return docx.Document(io.BytesIO(layout.to_bytes(document)))


def test_a_table_scales_its_weights_to_the_text_width_and_repeats_its_header(app):
    document = layout.new_document()
    layout.table(document, ["编号", "事实描述"], [["IA-1", "长" * 500], ["IA-2", "\ud800 坏字符 \x07"]], (10, 30))
    table = reopen(document).tables[0]
    widths = [c.width for c in table.rows[0].cells]
    assert abs(sum(widths) - Cm(layout.TEXT_WIDTH_CM)) < Cm(0.05) and abs(widths[1] - 3 * widths[0]) < Cm(0.05)
    rows = table._tbl.tr_lst
    assert rows[0].trPr.find(qn("w:tblHeader")) is not None
    assert all(tr.trPr.find(qn("w:tblHeader")) is None for tr in rows[1:])
    assert all(tr.trPr.find(qn("w:cantSplit")) is not None for tr in rows)
    assert table.rows[2].cells[1].text == "\ufffd 坏字符 "


def test_narrow_weights_are_kept_as_centimetres(app):
    document = layout.new_document()
    layout.table(document, None, [["a", "b"]], (2, 3))
    widths = [c.width for c in reopen(document).tables[0].rows[0].cells]
    assert abs(widths[0] - Cm(2)) < Mm(0.1) and abs(widths[1] - Cm(3)) < Mm(0.1)


def test_a4_signature_lines_and_company_heading(app):
    app.config["COMPANY_NAME"] = "福州鑫源食品厂"
    with app.app_context():
        document = layout.new_document()
        layout.company_heading(document, "管理评审报告")
        layout.signature_lines(document, ["编制", ("批准", "陈建华", "2026-05-06")])
    document = reopen(document)
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1) and abs(section.page_height - Mm(297)) < Mm(0.1)
    assert abs(section.left_margin - Mm(20)) < Mm(0.1)
    assert [p.text for p in document.paragraphs[:2]] == ["福州鑫源食品厂", "管理评审报告"]
    rows = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert rows == [["签字", "姓名", "日期"], ["编制", "", ""], ["批准", "陈建华", "2026-05-06"]]
