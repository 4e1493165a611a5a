"""Exporting a revision as a .docx with the controlled-document header block."""

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from portal.documents.docx_export import (
    ExportContext,
    HistoryLine,
    SignatureLine,
    render_docx,
)

BODY_HTML = (
    "<h1>1 目的</h1><p>为确保<strong>受控文件</strong>的<em>有效性</em>，特制定本程序 &amp; 😀。</p>"
    "<h2>2 范围</h2><ul><li>质量手册</li><li>程序文件</li></ul>"
    "<ol><li>文控受理</li><li>主管审核</li></ol>"
    "<table><tbody><tr><th>记录名称</th><th>保存期限</th></tr>"
    "<tr><td>文件发放记录</td><td>三年</td></tr></tbody></table>"
    "<p>第一行<br>第二行</p>"
)


def make_context(**overrides) -> ExportContext:
    values = dict(
        code="QP0501",
        title="文件和资料控制程序",
        revision_label="A/1",
        stamp="受控",
        effective_date="2026-02-01",
        issued_date="2026-01-20",
        confidentiality="内部公开",
        company="某某科技有限公司",
        signatures=[SignatureLine("编制", "张三", "2026-01-05 10:00"),
                    SignatureLine("审核", "李四", "2026-01-06 11:00"),
                    SignatureLine("批准", "王五", "2026-01-07 09:30")],
        body_html=BODY_HTML,
        history=[HistoryLine("A/0", "2025-03-01", "首次发布", "", "张三", "王五"),
                 HistoryLine("A/1", "2026-01-05", "修改第3条", "组织机构调整", "张三", "王五")],
        footer_note="非受控 由 wang 于 2026-11-24 10:00 导出",
    )
    values.update(overrides)
    return ExportContext(**values)


def reopen(data: bytes):
    return docx.Document(io.BytesIO(data))


def table_texts(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


@pytest.fixture(scope="module")
def exported() -> bytes:
    return render_docx(make_context())


def test_result_is_a_word_file(exported):
    assert exported[:2] == b"PK"
    assert "word/header1.xml" in zipfile.ZipFile(io.BytesIO(exported)).namelist()


def test_page_is_a4(exported):
    section = reopen(exported).sections[0]
    # Word stores twips, so compare to the millimetre.
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)


def test_header_table_carries_the_header_block(exported):
    header = reopen(exported).sections[0].header
    cells = [text for row in table_texts(header.tables[0]) for text in row]
    for expected in ("文件编号", "QP0501", "文件名称", "文件和资料控制程序", "版本", "A/1",
                     "受控状态", "受控", "实施日期", "2026-02-01", "发布日期", "2026-01-20",
                     "密级", "内部公开", "页次"):
        assert expected in cells
    assert "某某科技有限公司" in header.paragraphs[0].text


def test_page_x_of_y_uses_field_codes(exported):
    header_xml = zipfile.ZipFile(io.BytesIO(exported)).read("word/header1.xml").decode()
    assert 'w:fldCharType="begin"' in header_xml
    assert "> PAGE " in header_xml
    assert "> NUMPAGES " in header_xml
    page_cell = reopen(exported).sections[0].header.tables[0].cell(3, 3).text
    assert page_cell.startswith("第 ") and " 页 共 " in page_cell and page_cell.endswith(" 页")


def test_obsolete_stamp_is_large_and_red():
    header = reopen(render_docx(make_context(stamp="作废"))).sections[0].header
    run = header.tables[0].cell(1, 3).paragraphs[0].runs[0]
    assert run.text == "作废"
    assert str(run.font.color.rgb) == "C00000"
    assert run.font.size.pt >= 14


def test_controlled_stamp_is_not_red(exported):
    run = reopen(exported).sections[0].header.tables[0].cell(1, 3).paragraphs[0].runs[0]
    assert run.text == "受控"
    assert run.font.color.rgb is None


def test_signature_table_comes_first(exported):
    document = reopen(exported)
    assert table_texts(document.tables[0])[1:] == [
        ["编制", "张三", "2026-01-05 10:00"],
        ["审核", "李四", "2026-01-06 11:00"],
        ["批准", "王五", "2026-01-07 09:30"],
    ]


def test_without_signatures_the_slots_are_blank():
    document = reopen(render_docx(make_context(signatures=[])))
    assert [row[0] for row in table_texts(document.tables[0])[1:]] == ["编制", "审核", "批准"]


def test_body_headings_paragraphs_and_formatting(exported):
    paragraphs = reopen(exported).paragraphs
    by_text = {p.text: p for p in paragraphs}
    assert by_text["1 目的"].style.name == "Heading 1"
    assert by_text["2 范围"].style.name == "Heading 2"
    body = by_text["为确保受控文件的有效性，特制定本程序 & 😀。"]
    assert [r.text for r in body.runs if r.bold] == ["受控文件"]
    assert [r.text for r in body.runs if r.italic] == ["有效性"]
    assert "第一行\n第二行" in by_text


def test_body_lists(exported):
    styles = {p.text: p.style.name for p in reopen(exported).paragraphs}
    assert styles["质量手册"] == styles["程序文件"] == "List Bullet"
    assert styles["文控受理"] == styles["主管审核"] == "List Number"


def test_body_table(exported):
    document = reopen(exported)
    assert table_texts(document.tables[1]) == [["记录名称", "保存期限"], ["文件发放记录", "三年"]]
    assert document.tables[1].cell(0, 0).paragraphs[0].runs[0].bold


def test_body_table_spans_are_merged():
    html = ('<table><tr><td colspan="2">合并</td><td>c</td></tr>'
            '<tr><td rowspan="2">纵</td><td>b</td><td>c2</td></tr><tr><td>b3</td><td>c3</td></tr></table>')
    table = reopen(render_docx(make_context(body_html=html))).tables[1]
    assert table_texts(table) == [["合并", "合并", "c"], ["纵", "b", "c2"], ["纵", "b3", "c3"]]


def test_history_table_has_every_line(exported):
    document = reopen(exported)
    titles = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert titles[-1] == "修订履历"
    assert table_texts(document.tables[-1]) == [
        ["版本", "日期", "更改内容", "更改原因", "编制", "批准"],
        ["A/0", "2025-03-01", "首次发布", "", "张三", "王五"],
        ["A/1", "2026-01-05", "修改第3条", "组织机构调整", "张三", "王五"],
    ]


def test_footer_note(exported):
    footer = reopen(exported).sections[0].footer
    assert footer.paragraphs[0].text == "非受控 由 wang 于 2026-11-24 10:00 导出"


def test_normal_style_has_an_east_asian_font(exported):
    normal = reopen(exported).styles["Normal"]
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_separate_numbered_lists_restart():
    html = "<ol><li>一</li><li>二</li></ol><p>间隔</p><ol><li>甲</li></ol>"
    document = reopen(render_docx(make_context(body_html=html)))
    num_ids = {p.text: p._p.pPr.numPr.numId.val for p in document.paragraphs
               if p.text in ("一", "二", "甲")}
    assert num_ids["一"] == num_ids["二"] != num_ids["甲"]


def test_minimal_context_renders():
    context = ExportContext(code="QR-SH009", title="质量保修卡", revision_label="A/0",
                            stamp="草稿", effective_date=None, issued_date=None,
                            confidentiality="内部公开")
    document = reopen(render_docx(context))
    assert "QR-SH009" in table_texts(document.sections[0].header.tables[0])[0]


def test_hostile_looking_text_is_kept_as_text():
    html = "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    paragraphs = [p.text for p in reopen(render_docx(make_context(body_html=html))).paragraphs]
    assert "<script>alert(1)</script>" in paragraphs


def _libreoffice():
    return shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(not _libreoffice(), reason="LibreOffice is not installed")
def test_libreoffice_converts_the_export_to_pdf(exported, tmp_path: Path):
    source = tmp_path / "QP0501.docx"
    source.write_bytes(exported)
    result = subprocess.run(
        [_libreoffice(), "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        capture_output=True, timeout=120, check=False)
    pdf = tmp_path / "QP0501.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
