"""The Word documents people file (内审报告, 不符合项报告, 纠正措施报告): A4 with 2 cm margins, the company
name, weighted columns, header rows repeated on every page, no row split across pages, signature
lines, evidence by code, the distribution; hostile text stays text; only for those who may see."""
import io

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm

from portal.docx_layout import TEXT_WIDTH_CM


def open_docx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.data[:2] == b"PK"
    return docx.Document(io.BytesIO(response.data))


def text_of(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    parts += [p.text for s in document.sections for p in s.footer.paragraphs]
    return "\n".join(parts)


def table_with(document, header: str):
    return next(t for t in document.tables if header in [c.text for c in t.rows[0].cells])


def assert_a4(document):
    for section in document.sections:
        assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
        assert all(abs(getattr(section, m) - Mm(20)) < Mm(1)
                   for m in ("left_margin", "right_margin", "top_margin", "bottom_margin"))


@pytest.fixture
def filed(f, api, running, finding, action, owner, second_auditor, app):
    """An audit with a finding citing a document by code, acknowledged, its action completed and
    verified, reported; the company name configured."""
    app.config["COMPANY_NAME"] = "厦门恒达机电有限公司"
    doc = f.document(code="QP0501")
    made = finding(evidence=[{"ref": "QP0501"}], statement="<script>alert('x')</script> 现场使用作废版本")
    assert f.api(owner).post(f"/findings/{made['id']}/acknowledge").status_code == 200
    act = action(on=made)
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "已收回", "occurs_elsewhere": "其他部门同样核查"})
    f.api(second_auditor).post(f"/actions/{act['id']}/verify", json={"effective": True, "note": "抽查有效"})
    api.patch(f"/audits/{running['id']}", json={"opening_notes": "首次会议纪要", "closing_notes": "末次会议纪要"})
    api.post(f"/audits/{running['id']}/report", json={"summary": "概述", "conclusion": "基本有效"})
    return {"audit": running, "finding": made, "action": act, "doc": doc}


def test_the_audit_report_is_an_a4_document_to_file(api, filed, owner, lead):
    document = open_docx(api.get(f"/audits/{filed['audit']['id']}/report.docx"))
    assert_a4(document)
    assert document.paragraphs[0].text == "厦门恒达机电有限公司" and document.paragraphs[1].text == "内部审核报告"
    text = text_of(document)
    for expected in ("首次会议纪要", "末次会议纪要", "QP0501", owner.display_name, "分发", "生产部、售后服务部、管理者代表",
                     "审核组长", "批准", "<script>alert('x')</script>", filed["action"]["number"], "发放回收记录未核对"):
        assert expected in text, expected
    findings = table_with(document, "事实描述")
    widths = [c.width for c in findings.rows[0].cells]
    headers = [c.text for c in findings.rows[0].cells]
    assert max(widths) == widths[headers.index("事实描述")] and widths[headers.index("编号")] < widths[4] / 2
    assert sum(widths) <= TEXT_WIDTH_CM * 360000 + 1000
    for table in document.tables:
        rows = table._tbl.tr_lst
        assert all(tr.trPr is not None and tr.trPr.find(qn("w:cantSplit")) is not None for tr in rows)
    assert findings._tbl.tr_lst[0].trPr.find(qn("w:tblHeader")) is not None
    signature = table_with(document, "签字")
    assert [r.cells[0].text for r in signature.rows[1:]] == ["审核组长", "批准"]
    assert signature.rows[1].cells[1].text == lead.display_name and signature.rows[1].cells[2].text


def test_the_nonconformity_report_of_one_finding(api, filed, owner, second_auditor):
    document = open_docx(api.get(f"/findings/{filed['finding']['id']}/report.docx"))
    assert_a4(document)
    text = text_of(document)
    for expected in ("不符合项报告", filed["finding"]["number"], "ISO 9001:2015 7.5.3", "一般不符合", "QP0501",
                     "受审核方确认", owner.display_name, "发放回收记录未核对", "其他部门同样核查", "有效",
                     second_auditor.display_name, "受审核部门确认", "验证人"):
        assert expected in text, expected


def test_the_corrective_action_report_follows_qp1401(api, filed, second_auditor):
    response = api.get(f"/actions/{filed['action']['id']}/report.docx")
    assert "%E7%BA%A0%E6%AD%A3%E6%8E%AA%E6%96%BD%E6%8A%A5%E5%91%8A" in response.headers["Content-Disposition"]
    document = open_docx(response)
    assert_a4(document)
    text = text_of(document)
    for expected in ("纠正/预防措施报告", "不合格事实", "纠正（控制和围堵）", "原因分析", "是否可能在别处发生",
                     "纠正措施", "效果验证", "责任部门负责人", "质保部审核", second_auditor.display_name,
                     filed["audit"]["number"], filed["finding"]["number"]):
        assert expected in text, expected


def test_without_a_company_name_the_title_comes_first(api, running, app):
    app.config["COMPANY_NAME"] = ""
    document = open_docx(api.get(f"/audits/{running['id']}/report.docx"))
    assert document.paragraphs[0].text == "内部审核报告"


def test_the_reports_follow_the_visibility_rule(f, finding, action):
    made = finding()
    act = action(on=made)
    reviewer = f.api(f.user("external_reviewer"))  # the audit is still running: hidden from them
    for path in (f"/findings/{made['id']}/report.docx", f"/actions/{act['id']}/report.docx"):
        assert reviewer.get(path).status_code == 404
        assert f.api(f.user("staff")).get(path).status_code == 200
    assert reviewer.get("/findings/999999/report.docx").status_code == 404


def test_the_browser_downloads_them_too(browser, kit, lead, filed):
    web = browser(lead)
    page = kit.page(web, f"/audits/{filed['audit']['id']}")
    for path in (f"/findings/{filed['finding']['id']}/report.docx", f"/actions/{filed['action']['id']}/report.docx"):
        assert path in page
        assert_a4(open_docx(web.get(path)))
