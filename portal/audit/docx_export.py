"""The Word documents of an audit that people file, on A4 (portal/docx_layout.py): the 内审报告,
a 不符合项报告 per finding and the 纠正/预防措施报告 of a corrective action (QP1401's
纠正预防措施表). Evidence is named by code; what the reader may not see reads （受限）."""
from portal import clock, docx_layout as layout
from portal.audit.models import Audit, CorrectiveAction, Finding
from portal.audit.queries import evidence_for

AUDIT_STATES = {"planned": "计划中", "in_progress": "实施中", "reported": "已报告", "closed": "已关闭"}
CLASSIFICATIONS = {"major": "严重不符合", "minor": "一般不符合", "observation": "观察项", "ofi": "改进机会"}
RESULTS = {"conforming": "符合", "nonconforming": "不符合", "observation": "观察", "not_applicable": "不适用"}
ACTION_STATES = {"open": "待实施", "completed": "已完成待验证", "closed": "已关闭"}
AUDIT_KINDS = {"programme": "年度内审方案", "ad_hoc": "临时审核"}
RESTRICTED = "（受限）"
# Beside the audited departments, the 内审报告 goes to the 管理者代表 (QP1701, QP0101 input).
DISTRIBUTION_EXTRA = ("管理者代表",)


def _filename(number: str, what: str) -> str:
    return f"{number}_{what}.docx".replace("/", "-")


def report_filename(audit: Audit) -> str:
    return _filename(audit.number, "内审报告")


def finding_filename(finding: Finding) -> str:
    return _filename(finding.number, "不符合项报告")


def action_filename(action: CorrectiveAction) -> str:
    return _filename(action.number, "纠正措施报告")


def _when(value) -> str:
    return clock.local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _day(value) -> str:
    return clock.local(value).strftime("%Y-%m-%d") if value else ""


def _name(user) -> str:
    return user.display_name if user else ""


def _footer(document, number: str, state: str, user) -> None:
    layout.footer_note(document, f"{number} · {state} · {_name(user)} 导出 {_when(clock.now())}")


def evidence_refs(user, finding: Finding) -> list[str]:
    """The finding's evidence by code (QP0501, QP0501 A/1, a record number) and its frozen
    searches (#12 “query”), as `user` may see them."""
    from portal.search.evidence import evidence_list

    refs = [e["ref"] or RESTRICTED for e in evidence_for(user, finding)]
    return refs + [f"检索#{e.id}“{e.q}”（{e.total} 条）" for e in evidence_list(user, finding_id=finding.id)]


def _acknowledgement(finding: Finding) -> str:
    if finding.acknowledged_at is None:
        return "未确认"
    return f"{_name(finding.acknowledged_by)} {_when(finding.acknowledged_at)}"


def _verification(action: CorrectiveAction) -> str:
    if action.verified_at is None:
        return f"可于 {action.verify_after} 起验证" if action.verify_after else ""
    verdict = "有效" if action.verified_effective else "无效"
    return f"{verdict}（{_name(action.verified_by)} {_day(action.verified_at)}）{action.verification_note or ''}"


# --- 内审报告 ---------------------------------------------------------------------------------

def render_audit_report(audit: Audit, user) -> bytes:
    """The report of one audit, whatever its state (the state is printed in the plan and footer)."""
    document = layout.new_document()
    layout.company_heading(document, "内部审核报告")
    _plan(document, audit)
    _text(document, "首次会议", audit.opening_notes)
    _text(document, "审核概述", audit.summary)
    _checklist(document, audit)
    _findings(document, audit, user)
    _actions(document, audit)
    _text(document, "末次会议", audit.closing_notes)
    _text(document, "审核结论", audit.conclusion)
    _distribution(document, audit)
    layout.signature_lines(document, [("审核组长", _name(audit.lead_auditor), _day(audit.reported_at)), "批准"])
    _footer(document, audit.number, AUDIT_STATES.get(audit.state, audit.state), user)
    return layout.to_bytes(document)


def _text(document, heading: str, text: str | None) -> None:
    layout.heading(document, heading)
    layout.paragraph(document, text)


def _plan(document, audit: Audit) -> None:
    kind = AUDIT_KINDS.get(audit.kind, audit.kind or "")
    if audit.kind == "ad_hoc" and audit.ad_hoc_reason:
        kind = f"{kind}：{audit.ad_hoc_reason}"
    done = " 至 ".join(d for d in (_day(audit.started_at), _day(audit.reported_at)) if d)
    layout.fields_table(document, [
        ("审核编号", audit.number), ("审核名称", audit.title), ("审核类型", kind),
        ("计划日期", f"{audit.planned_start} 至 {audit.planned_end}"), ("实施日期", done),
        ("受审核部门", "、".join(f"{d.code} {d.name}" for d in audit.departments)),
        ("审核范围（条款）", "；".join(audit.clauses or [])),
        ("审核组长", _name(audit.lead_auditor)), ("审核组员", "、".join(_name(u) for u in audit.team)),
        ("状态", AUDIT_STATES.get(audit.state, audit.state)),
        ("报告日期", _when(audit.reported_at)), ("关闭日期", _when(audit.closed_at))] + _independence(audit))


def _independence(audit: Audit) -> list:
    """The controller's justification for an auditor who is not independent (portal/audit/qualification.py)."""
    if not audit.independence_reason:
        return []
    return [("独立性说明", f"{audit.independence_reason}（{_name(audit.independence_by)} "
                          f"{_day(audit.independence_at)}）")]


def _grid(document, heading: str, headers, rows, widths) -> None:
    layout.heading(document, heading)
    if rows:
        layout.table(document, headers, rows, widths)
    else:
        layout.paragraph(document, "无")


def _checklist(document, audit: Audit) -> None:
    rows = [[i.clause, i.department.name, i.question, RESULTS.get(i.result or "", "未检查"), i.notes,
             _name(i.auditor)] for i in audit.checklist]
    _grid(document, "检查表", ["条款", "部门", "检查内容", "结果", "记录", "审核员"], rows,
          (2.6, 1.8, 4.6, 1.3, 5.0, 1.7))


def _findings(document, audit: Audit, user) -> None:
    rows = [[x.number, CLASSIFICATIONS.get(x.classification, x.classification), x.clause, x.department.name,
             x.statement, "；".join(evidence_refs(user, x)), _acknowledgement(x)] for x in audit.findings]
    _grid(document, "审核发现", ["编号", "类别", "条款", "部门", "事实描述", "证据", "受审核方确认"], rows,
          (2.4, 1.5, 2.0, 1.5, 5.6, 2.4, 1.6))


def _actions(document, audit: Audit) -> None:
    rows = [[a.number, x.number, _name(a.owner), str(a.due_date),
             f"原因：{a.root_cause or '—'}\n措施：{a.plan}", ACTION_STATES.get(a.state, a.state), _verification(a)]
            for x in audit.findings for a in x.actions]
    _grid(document, "纠正措施", ["编号", "对应发现", "责任人", "完成期限", "原因分析与措施", "状态", "验证"], rows,
          (2.2, 2.4, 1.4, 1.8, 5.4, 1.4, 2.4))


def _distribution(document, audit: Audit) -> None:
    layout.heading(document, "分发")
    layout.paragraph(document, "、".join([d.name for d in audit.departments] + list(DISTRIBUTION_EXTRA)))


# --- 不符合项报告 -----------------------------------------------------------------------------

def render_finding_report(finding: Finding, user) -> bytes:
    """One finding as the 不符合项报告 the audited department signs: the fact, the clause, the
    evidence, the acknowledgement and each corrective action with its root cause and verification."""
    audit = finding.audit
    document = layout.new_document()
    layout.company_heading(document, "不符合项报告")
    layout.fields_table(document, [
        ("编号", finding.number), ("审核", f"{audit.number} {audit.title}"),
        ("受审核部门", f"{finding.department.code} {finding.department.name}"),
        ("依据条款", finding.clause), ("类别", CLASSIFICATIONS.get(finding.classification, finding.classification)),
        ("检查内容", finding.checklist_item.question if finding.checklist_item else "—"),
        ("审核员", _name(finding.created_by)), ("日期", _when(finding.created_at))])
    _text(document, "不符合事实描述", finding.statement)
    _text(document, "客观证据", "；".join(evidence_refs(user, finding)) or "—")
    _text(document, "受审核方确认", _acknowledgement(finding))
    layout.heading(document, "纠正措施")
    if not finding.actions:
        layout.paragraph(document, "无")
    for action in finding.actions:
        _action_fields(document, action)
    verifier = next((a for a in reversed(finding.actions) if a.verified_at), None)
    layout.signature_lines(document, [
        ("审核员", _name(finding.created_by), _day(finding.created_at)),
        ("受审核部门确认", _name(finding.acknowledged_by), _day(finding.acknowledged_at)),
        ("验证人", _name(verifier.verified_by) if verifier else "", _day(verifier.verified_at) if verifier else "")])
    _footer(document, finding.number, AUDIT_STATES.get(audit.state, audit.state), user)
    return layout.to_bytes(document)


def _action_fields(document, action: CorrectiveAction) -> None:
    completed = f"{_day(action.completed_at)} {action.completion_note or ''}".strip()
    rows = [("措施编号", action.number), ("责任人", _name(action.owner)), ("完成期限", str(action.due_date)),
            ("纠正（控制和围堵）", action.containment or "—"), ("原因分析", action.root_cause or "—"),
            ("是否可能在别处发生", action.occurs_elsewhere or "—"), ("纠正措施", action.plan),
            ("完成情况", completed or "—"), ("效果验证", _verification(action) or "—"),
            ("状态", ACTION_STATES.get(action.state, action.state)
             + (f"（验证无效重开 {action.reopened_count} 次）" if action.reopened_count else ""))]
    layout.fields_table(document, rows)
    document.add_paragraph()


# --- 纠正/预防措施报告 -------------------------------------------------------------------------

def render_action_report(action: CorrectiveAction, user) -> bytes:
    """QP1401's 纠正预防措施表: the nonconformity, containment, root cause, action, completion and
    verification of effectiveness, with the signatures of the 责任部门, 质保部 and the verifier."""
    finding = action.finding
    document = layout.new_document()
    layout.company_heading(document, "纠正/预防措施报告")
    layout.fields_table(document, [
        ("不合格来源", f"内部审核 {finding.audit.number} · 不符合项 {finding.number}"),
        ("责任部门", f"{finding.department.code} {finding.department.name}"),
        ("不合格事实", f"{finding.statement}（{finding.clause}，"
                       f"{CLASSIFICATIONS.get(finding.classification, finding.classification)}）"),
        ("受审核方确认", _acknowledgement(finding)),
        ("下达人", f"{_name(action.created_by)} {_when(action.created_at)}")])
    document.add_paragraph()
    _action_fields(document, action)
    layout.signature_lines(document, [
        ("责任部门负责人", "", ""), ("质保部审核", "", ""),
        ("验证人", _name(action.verified_by), _day(action.verified_at))])
    _footer(document, action.number, ACTION_STATES.get(action.state, action.state), user)
    return layout.to_bytes(document)


REPORTS = {"audit": (render_audit_report, report_filename), "finding": (render_finding_report, finding_filename),
           "action": (render_action_report, action_filename)}


def download(kind: str, obj, user):
    """The Word report of an audit, finding or action as a download (the browser and the API)."""
    from portal.documents.exports import DOCX_MIME, attachment

    render, filename = REPORTS[kind]
    return attachment(render(obj, user), filename(obj), DOCX_MIME)
