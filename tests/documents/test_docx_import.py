"""Converting an uploaded .docx into revision-body HTML."""

import io
import zipfile

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from portal.documents.docx_import import docx_to_html
from portal.security.html import sanitize_html
from portal.security.uploads import UploadRejected, check_docx


def to_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def set_numbering(paragraph, num_id: int, level: int = 0) -> None:
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id


def style_num_id(document, style_name: str) -> int:
    return document.styles[style_name].element.pPr.numPr.numId.val


@pytest.fixture(scope="module")
def procedure_html() -> str:
    document = docx.Document()
    document.add_heading("文件和资料控制程序", level=0)
    document.add_heading("1 目的", level=1)
    paragraph = document.add_paragraph("为确保")
    paragraph.add_run("受控文件").bold = True
    paragraph.add_run("的").italic = True
    paragraph.add_run("有效性").underline = True
    paragraph.add_run("，特制定本程序 <QP0501> & 😀。")
    document.add_heading("2 范围", level=2)
    document.add_paragraph("质量手册", style="List Bullet")
    document.add_paragraph("程序文件", style="List Bullet")
    document.add_paragraph("作业指导书", style="List Bullet 2")
    document.add_heading("3 职责", level=3)
    document.add_paragraph("文控受理", style="List Number")
    document.add_paragraph("主管审核", style="List Number")
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, [("版本", "日期", "批准"), ("A/0", "2026-01-05", "王五")]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    document.add_heading("4 程序", level=4)
    document.add_paragraph("结束")
    return docx_to_html(to_bytes(document))


def test_title_and_headings_map_to_h1_to_h4(procedure_html):
    for expected in ("<h1>文件和资料控制程序</h1>", "<h1>1 目的</h1>", "<h2>2 范围</h2>",
                     "<h3>3 职责</h3>", "<h4>4 程序</h4>"):
        assert expected in procedure_html


def test_run_formatting_and_escaping(procedure_html):
    assert ("<p>为确保<strong>受控文件</strong><em>的</em><u>有效性</u>"
            "，特制定本程序 &lt;QP0501&gt; &amp; 😀。</p>") in procedure_html


def test_bullets_are_grouped_and_nested(procedure_html):
    assert ("<ul><li>质量手册</li><li>程序文件<ul><li>作业指导书</li></ul></li></ul>"
            in procedure_html)


def test_numbered_items_become_an_ordered_list(procedure_html):
    assert "<ol><li>文控受理</li><li>主管审核</li></ol>" in procedure_html


def test_table_cells_in_order(procedure_html):
    assert ("<table><tr><td>版本</td><td>日期</td><td>批准</td></tr>"
            "<tr><td>A/0</td><td>2026-01-05</td><td>王五</td></tr></table>") in procedure_html


def test_blocks_come_in_document_order(procedure_html):
    positions = [procedure_html.index(marker) for marker in
                 ("文件和资料控制程序", "1 目的", "质量手册", "文控受理", "<table>", "4 程序", "结束")]
    assert positions == sorted(positions)


def test_output_is_already_clean(procedure_html):
    assert sanitize_html(procedure_html) == procedure_html.replace(
        "<table>", "<table><tbody>").replace("</table>", "</tbody></table>")


def test_merged_cells_appear_once():
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1)).text = "横向合并"
    table.cell(1, 2).merge(table.cell(2, 2)).text = "纵向合并"
    html = docx_to_html(to_bytes(document))
    assert html.count("横向合并") == 1
    assert html.count("纵向合并") == 1
    assert '<td colspan="2">横向合并</td>' in html
    assert '<td rowspan="2">纵向合并</td>' in html
    assert "<tr><td>20</td><td>21</td></tr>" in html


def test_numbering_on_a_plain_paragraph_uses_the_numbering_format():
    document = docx.Document()
    decimal = style_num_id(document, "List Number")
    bullet = style_num_id(document, "List Bullet")
    set_numbering(document.add_paragraph("第一步"), decimal)
    set_numbering(document.add_paragraph("第二步"), decimal)
    document.add_paragraph("说明")
    set_numbering(document.add_paragraph("要点"), bullet)
    html = docx_to_html(to_bytes(document))
    assert html == "<ol><li>第一步</li><li>第二步</li></ol><p>说明</p><ul><li>要点</li></ul>"


def test_line_breaks_and_hyperlinks():
    document = docx.Document()
    paragraph = document.add_paragraph("第一行")
    paragraph.add_run().add_break()
    paragraph.add_run("第二行")
    html = docx_to_html(to_bytes(document))
    assert html == "<p>第一行<br>第二行</p>"


def test_hyperlink_becomes_a_link():
    document = docx.Document()
    paragraph = document.add_paragraph("见 ")
    r_id = document.part.relate_to("https://www.iso.org/?a=1&b=2",
                                   "http://schemas.openxmlformats.org/officeDocument/2006/"
                                   "relationships/hyperlink", is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "ISO"
    run.append(text)
    link.append(run)
    paragraph._p.append(link)
    html = docx_to_html(to_bytes(document))
    assert html == '<p>见 <a href="https://www.iso.org/?a=1&amp;b=2">ISO</a></p>'


def test_empty_document():
    assert docx_to_html(to_bytes(docx.Document())) == ""


def replace_member(data: bytes, name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == name else source.read(info))
    return buffer.getvalue()


@pytest.mark.parametrize("member, content", [
    ("word/document.xml", b"not xml at all"),
    ("word/document.xml", b"<w:document>unclosed"),
    ("[Content_Types].xml", b"<Types/>"),
])
def test_unreadable_word_xml_is_rejected_as_corrupt(member, content):
    data = replace_member(to_bytes(docx.Document()), member, content)
    check_docx(data, "QP0501.docx")  # the zip itself is sound
    with pytest.raises(UploadRejected) as caught:
        docx_to_html(data)
    assert (caught.value.code, caught.value.status) == ("corrupt_docx", 422)
