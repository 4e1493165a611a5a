"""The values of the objectives as Excel (质量目标统计表)."""
from flask import Response

from portal.documents.exports import XLSX_MIME, attachment
from portal import clock
from portal.xlsx import workbook_bytes

UNIT_LABELS = {"%": "%", "score": "分", "count": "次"}
FREQUENCY_LABELS = {"month": "月", "quarter": "季度", "year": "年"}


def values_response(tables: list[tuple]) -> Response:
    """`tables`: (objective, rows of services.values) pairs; one line per objective and period."""
    header = ["质量目标", "部门", "频次", "周期", "分子", "分母", "实际值", "比较", "目标值", "单位", "是否达标"]
    lines = []
    for obj, rows in tables:
        for row in rows:
            met = "" if row["met"] is None else ("达标" if row["met"] else "未达标")
            lines.append([obj.name, row["department"] or "", FREQUENCY_LABELS.get(obj.frequency, obj.frequency),
                          row["period"], row["numerator"], row["denominator"],
                          "" if row["value"] is None else row["value"], obj.comparison, obj.target,
                          UNIT_LABELS.get(obj.unit, obj.unit), met])
    data = workbook_bytes("质量目标统计", header, lines, widths=[28, 10, 8, 10, 10, 10, 10, 6, 10, 6, 10])
    return attachment(data, f"质量目标统计_{clock.today().isoformat()}.xlsx", XLSX_MIME)
