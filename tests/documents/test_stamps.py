"""Stamped Word exports (DOMAIN.md "The header block", "Rules the seeds state"): a controlled
copy carries 受控 with its 发放号 and holder; any other export of the revision in force is
非受控 with who exported it and when; superseded and obsolete revisions carry 作废 in the
section header, which Word repeats on every page. Read back with python-docx."""
import io
from datetime import datetime, timezone

import docx
import pytest
from pages import signed_in
from docx.oxml.ns import qn

from portal.documents import distribution, workflow

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOW = datetime(2025, 3, 3, 2, 5, tzinfo=timezone.utc)  # 10:05 in Asia/Shanghai
LONG_BODY = "".join(f"<h2>{n} 条款</h2><p>{'文件控制要求。' * 80}</p>" for n in range(1, 15))


def open_docx(resp):
    assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == DOCX_MIME
    return docx.Document(io.BytesIO(resp.data))


def header_cells(document) -> list[str]:
    texts = []
    for section in document.sections:
        texts += [p.text for p in section.header.paragraphs]
        for table in section.header.tables:
            for row in table.rows:
                texts += [cell.text for cell in row.cells]
    return texts


def stamp(document) -> str:
    """The value printed next to 受控状态 in the header block (of the first section)."""
    [table] = document.sections[0].header.tables
    for row in table.rows:
        cells = [c.text for c in row.cells]
        if "受控状态" in cells:
            return cells[cells.index("受控状态") + 1].strip()
    raise AssertionError(f"no 受控状态 in the header: {header_cells(document)}")


def footer_text(document) -> str:
    return "\n".join(p.text for s in document.sections for p in s.footer.paragraphs)


def body_text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


@pytest.fixture
def setup(f, frozen):
    frozen(NOW)
    controller = f.user("controller")
    doc = f.document(controller, title="文件和资料控制程序")
    rev = f.effective(doc, controller, body=LONG_BODY)
    holder = f.user("staff", name="李文员")
    [copy] = distribution.issue_copy(controller, rev, {"holder": holder.username})
    return controller, doc, rev, holder, copy


def test_a_controlled_copy_is_stamped_with_its_number_and_holder(f, setup):
    controller, doc, rev, holder, copy = setup
    document = open_docx(f.api(holder).get(f"/copies/{copy.id}/export.docx"))
    assert stamp(document) == "受控"
    header = "\n".join(header_cells(document))
    assert doc.code in header and doc.title in header and "A/0" in header
    where = header + "\n" + footer_text(document)
    assert copy.copy_no in where, where
    assert "李文员" in where
    assert "非受控" not in where and "作废" not in where


def test_a_department_copy_names_the_department(f, setup):
    controller, doc, rev, holder, copy = setup
    dept = f.department(code="SH", name="售后服务部")
    [dept_copy] = distribution.issue_copy(controller, rev, {"holder": dept.code})
    document = open_docx(f.api(controller).get(f"/copies/{dept_copy.id}/export.docx"))
    assert stamp(document) == "受控"
    where = "\n".join(header_cells(document)) + footer_text(document)
    assert dept_copy.copy_no in where and "售后服务部" in where


def test_any_other_export_of_the_revision_in_force_is_uncontrolled_with_who_and_when(f, setup, frozen):
    controller, doc, rev, holder, copy = setup
    reader = f.user("staff", name="王读者")
    frozen(datetime(2025, 3, 4, 6, 30, tzinfo=timezone.utc))
    document = open_docx(f.api(reader).get(f"/revisions/{rev.id}/export.docx"))
    assert stamp(document) == "非受控"
    footer = footer_text(document)
    assert "非受控" in footer and "王读者" in footer and "2025-03-04 14:30" in footer, footer
    assert copy.copy_no not in footer + "\n".join(header_cells(document))


browser_login = signed_in


def test_the_browser_exports_carry_the_same_stamps(f, setup, app):
    controller, doc, rev, holder, copy = setup
    client = browser_login(app, holder)
    assert stamp(open_docx(client.get(f"/copies/{copy.id}/export.docx"))) == "受控"
    assert stamp(open_docx(client.get(f"/revisions/{rev.id}/export.docx"))) == "非受控"


def test_superseded_revisions_and_their_copies_are_stamped_void(f, setup):
    controller, doc, rev, holder, copy = setup
    f.effective(doc, controller, summary="第二版", reason="条款调整")
    assert rev.state == "superseded"
    api = f.api(holder)
    assert stamp(open_docx(api.get(f"/revisions/{rev.id}/export.docx"))) == "作废"
    # the old copy is still out (recall due) but no longer 受控
    document = open_docx(api.get(f"/copies/{copy.id}/export.docx"))
    assert stamp(document) == "作废"
    assert "受控副本" not in footer_text(document)
    # the copy handed over for the new revision is the controlled one
    [new_copy] = distribution.copies_of(doc.current_revision)
    assert stamp(open_docx(api.get(f"/copies/{new_copy.id}/export.docx"))) == "受控"


def test_obsolete_revisions_are_stamped_void(f, setup):
    controller, doc, rev, holder, copy = setup
    workflow.obsolete_document(controller, doc, {"reason": "停用"})
    api = f.api(holder)
    assert stamp(open_docx(api.get(f"/revisions/{rev.id}/export.docx"))) == "作废"
    assert stamp(open_docx(api.get(f"/copies/{copy.id}/export.docx"))) == "作废"


def test_a_recalled_or_voided_copy_is_no_longer_controlled(f, setup):
    controller, doc, rev, holder, copy = setup
    api = f.api(controller)
    new = distribution.replace_copy(controller, copy, {"reason": "遗失"})
    assert stamp(open_docx(api.get(f"/copies/{copy.id}/export.docx"))) != "受控"
    distribution.recall_copy(controller, new, {"outcome": "returned"})
    assert stamp(open_docx(api.get(f"/copies/{new.id}/export.docx"))) != "受控"


def test_a_draft_is_stamped_draft(f, setup):
    controller, doc, rev, holder, copy = setup
    draft = f.draft(doc, reason="修订")
    assert stamp(open_docx(f.api(draft.author).get(f"/revisions/{draft.id}/export.docx"))) == "草稿"


def test_the_stamp_sits_in_the_header_that_repeats_on_every_page(f, setup):
    controller, doc, rev, holder, copy = setup
    workflow.obsolete_document(controller, doc, {"reason": "停用"})
    document = open_docx(f.api(holder).get(f"/revisions/{rev.id}/export.docx"))
    assert len(document.paragraphs) > 20  # several pages of body
    for section in document.sections:
        assert not section.different_first_page_header_footer
        assert not section.header.is_linked_to_previous or section is not document.sections[0]
        assert "作废" in "\n".join(c.text for t in section.header.tables for r in t.rows for c in r.cells)
    # no odd/even header split that would leave pages without it
    assert document.settings.element.find(qn("w:evenAndOddHeaders")) is None
    assert "作废" not in body_text(document)  # the stamp is not a one-off paragraph in the body
    # the page counter is a field, so every page shows its own number
    xml = document.sections[0].header._element.xml
    assert "PAGE" in xml and "NUMPAGES" in xml


def test_export_needs_a_visible_copy(f, setup):
    controller, doc, rev, holder, copy = setup
    resp = f.api(holder).get("/copies/999999/export.docx")
    assert resp.status_code == 404 and resp.is_json


def test_only_the_holder_or_a_controller_gets_the_controlled_copy(f, setup):
    """Anyone else exporting someone's copy must not obtain a second document stamped 受控
    with that 发放号: refused, or stamped as an uncontrolled print."""
    controller, doc, rev, holder, copy = setup
    stranger = f.user("staff")
    resp = f.api(stranger).get(f"/copies/{copy.id}/export.docx")
    if resp.status_code == 200:
        assert stamp(open_docx(resp)) != "受控"
    else:
        assert resp.status_code in (403, 404) and resp.is_json
    assert stamp(open_docx(f.api(controller).get(f"/copies/{copy.id}/export.docx"))) == "受控"
