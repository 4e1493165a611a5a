"""Work that grew faster than its input (issue 9, items 17-19): the sanitiser on nested
markup, the revision diff on repeated lines, .docx import and export at size. Each is
refused with a clear 422 past its limit, keeps honest input working, and does work in
proportion to its input (counted in Python lines, see workcount.py; seconds are in
bench/hostile_input.py and BENCHMARKS.md)."""
import io
import zipfile

import docx
import pytest
from sqlalchemy import func, select

from portal.documents.diff import diff_html
from portal.documents.docx_export import ExportContext, render_docx
from portal.documents.docx_import import MAX_PARAGRAPHS, docx_to_html
from portal.documents.models import Revision
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.security.html import sanitize_html
from portal.security.html_parsing import MAX_NESTING
from portal.trail.models import TrailEntry
from workcount import growth

LINEAR = 6  # 4 times the input may cost at most this many times the work (quadratic: 16)


def nested(tag: str, depth: int, text: str = "要求") -> str:
    return f"<{tag}>" * depth + text + f"</{tag}>" * depth


def honest_markup(blocks: int) -> str:
    """What Word gives: a list nine levels deep in a table cell, paragraphs with formatting."""
    block = ("<table><tr><td>" + "<ul><li>条款" * 9 + "要求" + "</li></ul>" * 9
             + "</td></tr></table><p>说明 <b>加粗</b> <i>斜体</i> <span style=\"color: red\">红</span></p>")
    return block * blocks


def snapshot() -> tuple[int, int]:
    db.session.rollback()
    counts = tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                   for m in (Revision, TrailEntry))
    db.session.rollback()
    return counts


def refusal(fn, *args) -> str:
    with pytest.raises(ValidationFailed) as caught:
        fn(*args)
    return caught.value.code


@pytest.fixture
def controller(f):
    return f.user("controller")


@pytest.fixture
def draft(f, controller):
    author = f.user("staff", department=controller.department_code)
    return author, f.draft(f.document(controller), author=author)


# --- item 17: the sanitiser -----------------------------------------------------------------

def test_nesting_past_the_limit_is_refused_by_the_api_and_changes_nothing(f, draft):
    """The outside test's 160 KB of nested <div> (86 s before) is a 422 naming the limit."""
    author, rev = draft
    api = f.api(author)
    before = snapshot()
    resp = api.patch(f"/revisions/{rev.id}", json={"body_html": nested("div", 160 * 1024 // 11)})
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "too_deeply_nested"
    assert str(MAX_NESTING) in error["message"]
    assert snapshot() == before
    db.session.refresh(rev)
    assert "规范文件" in rev.body_html


def test_the_refusal_is_in_chinese_by_default(f, draft):
    author, rev = draft
    resp = f.api(author).patch(f"/revisions/{rev.id}", json={"body_html": nested("div", 500)},
                               headers={"Accept-Language": "zh-CN"})
    assert resp.get_json()["error"]["message"] == f"正文嵌套超过 {MAX_NESTING} 层。"


def test_nesting_within_the_limit_is_kept():
    html = nested("div", MAX_NESTING - 2)
    assert sanitize_html(html) == html


def test_refusing_deep_nesting_costs_no_more_for_a_larger_body():
    """The parser stops at the limit: 640 KB of nesting costs what 40 KB does."""
    assert refusal(sanitize_html, nested("div", 640 * 1024 // 11)) == "too_deeply_nested"
    assert growth(sanitize_html, nested("div", 40 * 1024 // 11), nested("div", 640 * 1024 // 11)) < 1.5


def test_formatting_reopened_in_every_paragraph_is_refused():
    """`<p><b><i><u>x</p>` repeated: every paragraph re-opens the unclosed formatting one
    level deeper, far more elements than tags (the outside test's quadratic case)."""
    assert refusal(sanitize_html, "<p><b><i><u>x</p>" * 10_000) in ("too_many_elements",
                                                                      "too_deeply_nested")
    assert refusal(sanitize_html, "<b><i><u>x" * 10_000) in ("too_many_elements", "too_deeply_nested")


def test_formatting_closed_properly_is_kept():
    html = "<p><b><i><u>x</u></i></b></p>" * 2_000
    assert sanitize_html(html) == html


def test_honest_deep_markup_is_sanitised_in_linear_work():
    assert sanitize_html(honest_markup(200)).count("<li>") == 1800
    assert growth(sanitize_html, honest_markup(50), honest_markup(200)) < LINEAR


def test_deep_markup_at_the_limit_is_sanitised_in_linear_work():
    """Nesting just under the limit, repeated: every tag's scan of the open elements is
    bounded by the limit, so the work grows with the body, not with its square."""
    block = nested("div", MAX_NESTING - 2)
    assert growth(sanitize_html, block * 5, block * 20) < LINEAR


def test_many_dropped_scripts_and_text_runs_are_linear():
    """Dropped elements in a row, and text broken by stripped tags and entities."""
    scripts = "前<script>x</script>" * 2_000
    assert sanitize_html(scripts) == "前" * 2_000
    assert growth(sanitize_html, "前<script>x</script>" * 500, scripts) < LINEAR
    runs = "文字&amp;<foo>字</foo>" * 2_000
    assert growth(sanitize_html, "文字&amp;<foo>字</foo>" * 500, runs) < LINEAR


# --- item 18: the revision diff -----------------------------------------------------------

def test_a_revision_diffed_with_itself_is_linear_and_unmarked():
    """32,000 identical lines (91 s before): no marks, no note, linear."""
    text = "\n".join(["同上"] * 32_000)
    html = diff_html(text, text)
    assert "<ins>" not in html and "<del>" not in html and "diff-note" not in html
    assert html.count("<p>") == 32_000
    assert growth(lambda t: diff_html(t, t), "\n".join(["同上"] * 8_000), text) < LINEAR


def shifted(count: int, shift: int) -> str:
    return "\n".join(f"第{(i + shift) % 7}条 同上" for i in range(count))


def test_repeated_lines_that_differ_are_bounded_and_the_page_says_so():
    """32,000 lines of seven distinct values, shifted: comparing them in full is quadratic,
    so past the work budget they are shown as whole removed and added lines, with a note."""
    html = diff_html(shifted(32_000, 0), shifted(32_000, 3))
    assert "diff-note" in html
    assert html.count("<del>") + html.count("<ins>") <= 64_000
    assert growth(lambda n: diff_html(shifted(n, 0), shifted(n, 3)), 8_000, 32_000) < LINEAR


def test_the_diff_note_reaches_the_revision_page(f, controller, app):
    doc = f.document(controller)
    first = f.effective(doc, controller=controller, body="".join(f"<p>第{i % 7}条 同上</p>" for i in range(32_000)))
    second = f.draft(doc, body="".join(f"<p>第{(i + 3) % 7}条 同上</p>" for i in range(32_000)), summary="改版", reason="重排")
    client = app.test_client()
    assert f.login(client, controller).status_code == 302
    page = client.get(f"/revisions/{second.id}/diff?against={first.id}")
    assert page.status_code == 200
    assert "差异过大，无法逐字比较" in page.get_data(as_text=True)


def test_a_large_document_with_few_changes_is_marked_precisely_in_linear_work():
    def document(count):
        lines = [f"第{i}条 文件发布前应经审核和批准，clause {i} of the procedure." for i in range(count)]
        changed = list(lines)
        changed[10] = changed[10].replace("审核", "严格审核")
        changed.insert(count // 2, "新增：外来文件由文控登记。")
        del changed[count * 5 // 6]
        return "\n".join(lines), "\n".join(changed)

    html = diff_html(*document(3000))
    assert "<ins>严格</ins>" in html
    assert "<p><ins>新增：外来文件由文控登记。</ins></p>" in html
    assert html.count("<del>") == 1 and "diff-note" not in html
    assert growth(lambda n: diff_html(*document(n)), 1000, 4000) < LINEAR


def test_a_completely_rewritten_document_is_whole_lines_in_linear_work():
    def rewrite(count):
        return ("\n".join(f"旧的第{i}行内容，质量管理体系文件。" for i in range(count)),
                "\n".join(f"New line {i}, entirely different wording." for i in range(count)))

    assert diff_html(*rewrite(3000)).count("<p>") == 6000
    assert growth(lambda n: diff_html(*rewrite(n)), 500, 2000) < LINEAR


# --- item 19: .docx import and export ------------------------------------------------------

def docx_with_paragraphs(count: int, text=lambda i: f"第{i}段：文件控制的要求。") -> bytes:
    """A .docx of ``count`` paragraphs, written as XML into a python-docx skeleton."""
    skeleton = io.BytesIO()
    docx.Document().save(skeleton)
    body = "".join(f"<w:p><w:r><w:t>{text(i)}</w:t></w:r></w:p>" for i in range(count))
    out = io.BytesIO()
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + body.encode(), 1)
            target.writestr(info, data)
    return out.getvalue()


def upload(api, doc_id, data: bytes):
    return api.post(f"/documents/{doc_id}/revisions",
                    data={"file": (io.BytesIO(data), "质量手册.docx"), "change_summary": "首版发行"},
                    content_type="multipart/form-data")


def test_a_docx_past_the_paragraph_limit_is_422_and_changes_nothing(f, controller):
    doc, api = f.document(controller), f.api(controller)
    before = snapshot()
    resp = upload(api, doc.id, docx_with_paragraphs(MAX_PARAGRAPHS + 1))
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "docx_too_long"
    assert f"{MAX_PARAGRAPHS + 1:d}" in error["message"] and f"{MAX_PARAGRAPHS:d}" in error["message"]
    assert snapshot() == before


def test_identical_paragraphs_are_an_honest_document_not_a_zip_bomb(f, controller):
    """25,000 identical paragraphs compress far better than the old 200:1 limit allowed,
    yet expand to under 2 MB: they are imported, every paragraph kept."""
    data = docx_with_paragraphs(25_000, text=lambda _i: "质量手册正文段落。")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = archive.getinfo("word/document.xml")
        assert part.file_size > 1024 * 1024 and part.file_size / part.compress_size > 200
    resp = upload(f.api(controller), f.document(controller).id, data)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["body_html"].count("<p>质量手册正文段落。</p>") == 25_000


def test_importing_a_docx_is_linear():
    assert docx_to_html(docx_with_paragraphs(100)).count("<p>") == 100
    assert growth(docx_to_html, docx_with_paragraphs(300), docx_with_paragraphs(1200)) < LINEAR


def context(paragraphs: int) -> ExportContext:
    return ExportContext(code="QM-01", title="质量手册", revision_label="A/0", stamp="",
                         effective_date="2026-12-04", issued_date="2026-12-04", confidentiality="内部",
                         body_html="".join(f"<p>第{i}段：文件控制的要求。</p>" for i in range(paragraphs)))


def test_exporting_a_docx_is_linear_and_keeps_every_paragraph():
    exported = docx.Document(io.BytesIO(render_docx(context(2_000))))
    assert sum(p.text.startswith("第") and p.text.endswith("要求。") for p in exported.paragraphs) == 2_000
    assert growth(lambda n: render_docx(context(n)), 300, 1200) < LINEAR
