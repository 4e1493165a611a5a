"""The runs register (运行台账) as Excel."""
from flask import Response

from portal import clock
from portal.documents.exports import XLSX_MIME, attachment
from portal.xlsx import workbook_bytes

STATE_LABELS = {"open": "进行中", "closed": "已完成", "cancelled": "已取消"}
PRIORITY_LABELS = {"ordinary": "一般", "emergency": "紧急"}


def _when(value) -> str:
    return clock.local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def register_response(runs) -> Response:
    """One row per run: number, procedure, subject, state, the current step, late/overdue counts."""
    from portal.procedures.queries import is_overdue

    now = clock.now()
    header = ["编号", "程序", "版本", "事项", "部门", "优先级", "状态", "开始时间", "完成时间",
              "当前步骤", "当前步骤期限", "逾期步骤数", "超时完成步骤数", "取消原因"]
    rows = []
    for run in runs:
        current = next((s for s in run.steps if s.state == "pending"), None)
        rows.append([run.number, f"{run.document.code} {run.document.title}", run.revision_label, run.subject,
                     run.department.name, PRIORITY_LABELS.get(run.priority, run.priority),
                     STATE_LABELS.get(run.state, run.state), _when(run.started_at),
                     _when(run.closed_at or run.cancelled_at),
                     current.name if current and run.state == "open" else "",
                     _when(current.due_at) if current and run.state == "open" else "",
                     sum(1 for s in run.steps if is_overdue(s, now)), sum(1 for s in run.steps if s.late),
                     run.cancel_reason or ""])
    data = workbook_bytes("流程运行台账", header, rows)
    return attachment(data, f"流程运行台账_{clock.today().isoformat()}.xlsx", XLSX_MIME)
