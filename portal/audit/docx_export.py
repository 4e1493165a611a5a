"""The 内审报告 (internal audit report) as Word: plan, 检查表, findings and corrective actions."""
import io

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from portal import clock
from portal.audit.models import Audit
from portal.audit.queries import evidence_for
from portal.validation import xml_safe

AUDIT_STATES = {"planned": "计划中", "in_progress": "实施中", "reported": "已报告", "closed": "已关闭"}
CLASSIFICATIONS = {"major": "严重不符合", "minor": "一般不符合", "observation": "观察项", "ofi": "改进机会"}
RESULTS = {"conforming": "符合", "nonconforming": "不符合", "observation": "观察", "not_applicable": "不适用"}
ACTION_STATES = {"open": "待实施", "completed": "已完成待验证", "closed": "已关闭"}


def report_filename(audit: Audit) -> str:
    return f"{audit.number}_内审报告.docx".replace("/", "-")


def render_audit_report(audit: Audit, user) -> bytes:
    """The report of one audit, whatever its state (the state is printed in the header)."""
    document = docx.Document()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("内部审核报告")
    run.bold, run.font.size = True, Pt(16)
    _plan(document, audit)
    _section(document, "审核概述", audit.summary)
    _checklist(document, audit)
    _findings(document, audit, user)
    _actions(document, audit)
    _section(document, "审核结论", audit.conclusion)
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = f"{audit.number} · {AUDIT_STATES.get(audit.state, audit.state)} · 导出 {_when(clock.now())}"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _when(value) -> str:
    return clock.local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _name(user) -> str:
    return user.display_name if user else ""


def _plan(document, audit: Audit) -> None:
    rows = [("审核编号", audit.number), ("审核名称", audit.title),
            ("计划日期", f"{audit.planned_start} 至 {audit.planned_end}"),
            ("受审核部门", "、".join(f"{d.code} {d.name}" for d in audit.departments)),
            ("审核范围(条款)", "；".join(audit.clauses or [])),
            ("审核组长", _name(audit.lead_auditor)), ("审核组员", "、".join(_name(u) for u in audit.team)),
            ("状态", AUDIT_STATES.get(audit.state, audit.state)),
            ("报告日期", _when(audit.reported_at)), ("关闭日期", _when(audit.closed_at))]
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, xml_safe(value or "")


def _section(document, heading: str, text: str | None) -> None:
    document.add_heading(heading, level=2)
    document.add_paragraph(xml_safe(text or "—"))


def _grid(document, heading: str, header: list[str], rows: list[list[str]]) -> None:
    document.add_heading(heading, level=2)
    if not rows:
        document.add_paragraph("无")
        return
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, header):
        cell.text = label
    for row in rows:
        for cell, value in zip(table.add_row().cells, row):
            cell.text = xml_safe(value or "")


def _checklist(document, audit: Audit) -> None:
    rows = [[i.clause, i.department.name, i.question, RESULTS.get(i.result or "", "未检查"), i.notes,
             _name(i.auditor)] for i in audit.checklist]
    _grid(document, "检查表", ["条款", "部门", "检查内容", "结果", "记录", "审核员"], rows)


def _findings(document, audit: Audit, user) -> None:
    """The evidence column names only what the reader may see (queries.evidence_for)."""
    rows = [[x.number, CLASSIFICATIONS.get(x.classification, x.classification), x.clause, x.department.name,
             x.statement, "；".join(e["ref"] or "（受限）" for e in evidence_for(user, x))]
            for x in audit.findings]
    _grid(document, "审核发现", ["编号", "类别", "条款", "部门", "事实描述", "证据"], rows)


def _actions(document, audit: Audit) -> None:
    rows = []
    for finding in audit.findings:
        for a in finding.actions:
            verdict = "" if a.verified_effective is None else ("有效" if a.verified_effective else "无效")
            rows.append([a.number, finding.number, _name(a.owner), str(a.due_date), a.plan,
                         ACTION_STATES.get(a.state, a.state),
                         f"{verdict} {_name(a.verified_by)} {a.verification_note or ''}".strip()])
    _grid(document, "纠正措施", ["编号", "对应发现", "责任人", "完成期限", "措施", "状态", "验证"], rows)
