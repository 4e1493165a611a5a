"""The 管理评审报告 (QR0101-03, QP0101 5.4.3) as Word, on A4: the header block, the inputs
as they were reviewed (frozen, with their SHA-256), the outputs with owners and due dates,
the conclusion, the signature lines and the evidence references by code."""
from portal import clock
from portal import docx_layout as layout
from portal.management_review import inputs as review_inputs
from portal.management_review.models import ManagementReview

STATES = {"planned": "计划中", "held": "已召开，待批准", "closed": "已批准"}
OUTPUT_STATES = {"open": "进行中", "completed": "已完成"}
CLASSES = {"major": "严重不符合", "minor": "一般不符合", "observation": "观察项", "ofi": "改进机会"}
CONCLUSION = (("suitable", "适宜性"), ("adequate", "充分性"), ("effective", "有效性"))
RESTRICTED = "（受限）"


def report_filename(review: ManagementReview) -> str:
    return f"{review.number}_管理评审报告.docx".replace("/", "-")


def render_review_report(review: ManagementReview, user) -> bytes:
    """The report as `user` may read it (references hidden from them read （受限）)."""
    frozen = review.inputs is not None
    data = review_inputs.as_seen_by(user, review.inputs if frozen else review_inputs.compute(review))
    document = layout.new_document()
    layout.company_heading(document, "管理评审报告")
    _header(document, review, frozen)
    layout.heading(document, "一、评审输入")
    if not frozen:
        layout.paragraph(document, f"评审尚未召开：以下输入按 {data['computed_at']} 的数据实时计算，召开时冻结。")
    _audits(document, data)
    _actions(document, data)
    _objectives(document, data)
    _customers_and_documents(document, data)
    _previous(document, data)
    layout.heading(document, "二、评审输出")
    _outputs(document, review)
    layout.heading(document, "三、评审结论")
    _conclusion(document, review)
    layout.heading(document, "四、证据索引")
    layout.paragraph(document, _evidence(review, data))
    layout.signature_lines(document, [
        ("主持人", review.chair.display_name, _day(review.held_at)),
        ("批准", review.chair.display_name if review.approved_at else "", _day(review.approved_at))])
    layout.footer_note(document, f"{review.number} · {STATES.get(review.state, review.state)} · "
                                 f"导出 {_when(clock.now())} {user.display_name}")
    return layout.to_bytes(document)


def _when(value) -> str:
    return clock.local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _day(value) -> str:
    return clock.local(value).strftime("%Y-%m-%d") if value else ""


def _header(document, review: ManagementReview, frozen: bool) -> None:
    rows = [("评审编号", review.number), ("评审名称", review.title),
            ("评审期间", f"{review.period_from} 至 {review.period_to}"), ("会议日期", str(review.meeting_date)),
            ("主持人", review.chair.display_name),
            ("评审组成员", "、".join(u.display_name for u in review.members) or "—"),
            ("组织者", review.created_by.display_name), ("状态", STATES.get(review.state, review.state)),
            ("召开时间", _when(review.held_at) or "—"),
            ("输入 SHA-256", review.inputs_sha256 if frozen else "未冻结"),
            ("批准时间", _when(review.approved_at) or "—"),
            ("保存期限", str(review.retain_until) if review.retain_until else "批准后三年")]
    layout.fields_table(document, rows)


def _audits(document, data: dict) -> None:
    layout.heading(document, "1. 内部审核结果")
    rows = [[a.get("number") or RESTRICTED, a.get("title") or RESTRICTED, a.get("planned_start", ""),
             *(str(a["findings"].get(c, 0)) for c in CLASSES)] for a in data.get("audits") or []]
    totals = data.get("findings") or {}
    rows.append(["合计", "", "", *(str(totals.get(c, 0)) for c in CLASSES)])
    layout.table(document, ["审核编号", "审核名称", "计划日期", *CLASSES.values()], rows,
                 (3.2, 5.4, 2.4, 1.5, 1.5, 1.5, 1.5))
    pending = data.get("audits_not_reported") or 0
    if pending:
        layout.paragraph(document, f"期间内另有 {pending} 次审核尚未报告，未计入。")


def _actions(document, data: dict) -> None:
    layout.heading(document, "2. 不符合和纠正措施")
    a = data.get("actions") or {}
    rows = [["期间内有效的纠正措施", a.get("total", 0)], ["其中期间内新提出", a.get("raised", 0)],
            ["待实施", a.get("open", 0)], ["其中已逾期", a.get("overdue", 0)],
            ["已完成待验证", a.get("completed", 0)], ["已关闭", a.get("closed", 0)],
            ["验证无效（曾重新打开）", a.get("not_effective", 0)]]
    layout.table(document, ["项目", "数量"], [[label, str(n)] for label, n in rows], (12, 5))


def _number(value, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"
    return f"{text}{'%' if unit == '%' else ''}"


def _objectives(document, data: dict) -> None:
    layout.heading(document, "3. 质量目标达成情况")
    rows = [[o["name"], f"{o['comparison']} {_number(o['target'], o['unit'])}", _number(o["value"], o["unit"]),
             f"{_number(o['numerator'])} / {o['denominator']}",
             "—" if o["met"] is None else ("达标" if o["met"] else "未达标")]
            for o in data.get("objectives") or []]
    layout.table(document, ["质量目标", "目标值", "实际值", "分子 / 分母", "达成"], rows, (6, 2.8, 2.6, 3, 2.6))


def _forms(block: dict) -> str:
    return "、".join(f"{f.get('code') or RESTRICTED}（{f.get('count', 0)}）" for f in block.get("forms") or []) or "—"


def _customers_and_documents(document, data: dict) -> None:
    layout.heading(document, "4. 顾客反馈和文件控制")
    c, s, d = data.get("complaints") or {}, data.get("satisfaction") or {}, data.get("documents") or {}
    share = c.get("on_time_share")
    rows = [["顾客投诉（记录）", str(c.get("total", 0)), _forms(c)],
            ["其中已处理完毕", str(c.get("closed", 0)), ""],
            ["其中按时处理", str(c.get("on_time", 0)), "按时率 " + (f"{share}%" if share is not None else "—")],
            ["顾客满意度调查", str(s.get("total", 0)), _forms(s)],
            ["期间内发布的文件版本", str(d.get("released", 0)), ""],
            ["逾期未评审的文件", str(d.get("overdue_reviews", 0)), ""],
            ["期间内完成的定期评审", str(d.get("reviews_done", 0)), ""],
            ["文件更改申请（已实施）", f"{d.get('change_requests', 0)}（{d.get('change_requests_implemented', 0)}）", ""]]
    layout.table(document, ["项目", "数量", "依据（表单编号及记录数）"], rows, (6, 3, 8))


def _previous(document, data: dict) -> None:
    layout.heading(document, "5. 上次管理评审输出的落实情况")
    previous = data.get("previous_review")
    if not previous:
        layout.paragraph(document, "无上次管理评审。")
        return
    layout.paragraph(document, f"上次评审：{previous.get('number') or RESTRICTED}（{previous.get('meeting_date')}）")
    rows = [[o.get("decision") or RESTRICTED, o.get("owner_name", ""), o.get("due_date", ""),
             OUTPUT_STATES.get(o.get("state"), o.get("state")) + ("（逾期）" if o.get("overdue") else "")]
            for o in data.get("previous_outputs") or []]
    layout.table(document, ["决定/措施", "责任人", "完成期限", "状态"], rows, (9, 2.6, 2.6, 2.8))


def _outputs(document, review: ManagementReview) -> None:
    rows = [[str(i), o.decision, o.owner.display_name, str(o.due_date), OUTPUT_STATES.get(o.state, o.state),
             f"{_day(o.completed_at)} {o.completion_note or ''}".strip()]
            for i, o in enumerate(review.outputs, 1)]
    if not rows:
        layout.paragraph(document, "无。")
        return
    layout.table(document, ["序号", "决定/改进措施", "责任人", "完成期限", "状态", "完成情况"], rows,
                 (1.2, 6.4, 2.2, 2.3, 1.6, 3.3))


def _conclusion(document, review: ManagementReview) -> None:
    conclusion = review.conclusion or {}
    rows = [(label, "—" if key not in conclusion else ("是" if conclusion[key] else "否")) for key, label in CONCLUSION]
    layout.fields_table(document, [(f"体系{label}", value) for label, value in rows])
    layout.paragraph(document, review.summary or "（待主持人批准）")


def _evidence(review: ManagementReview, data: dict) -> str:
    refs = [a.get("number") or RESTRICTED for a in data.get("audits") or []]
    for key in ("complaints", "satisfaction"):
        refs += [f.get("code") or RESTRICTED for f in (data.get(key) or {}).get("forms") or []]
    previous = data.get("previous_review")
    if previous:
        refs.append(previous.get("number") or RESTRICTED)
    refs.append(f"质量目标 {len(data.get('objectives') or [])} 项")
    digest = f"；输入 SHA-256：{review.inputs_sha256}" if review.inputs_sha256 else ""
    return "、".join(refs) + digest
