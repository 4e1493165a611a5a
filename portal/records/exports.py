"""Registers (台账) and the records list (记录清单) as Excel."""
from flask import Response

from portal import clock
from portal.documents.exports import XLSX_MIME, attachment
from portal.records.docx_export import (STATUS_LABELS, display_value, field_label, record_data,
                                        revision_fields)
from portal.xlsx import workbook_bytes


def register_response(form, records) -> Response:
    """One form's 台账: a row per record with every field as a column."""
    fields = revision_fields(form.current_revision)
    header = ["编号", "版本", "状态", "部门", "填写人", "填写时间"] + [field_label(f) for f in fields]
    rows = []
    for rec in records:
        data = record_data(rec)
        rows.append([rec.number, rec.revision_label, STATUS_LABELS.get(rec.status, rec.status),
                     rec.department.name if rec.department else "", rec.created_by.display_name,
                     clock.local(rec.created_at).strftime("%Y-%m-%d %H:%M")]
                    + [display_value(f, data.get(f.get("name"))) for f in fields])
    data = workbook_bytes(f"{form.title}台账", header, rows)
    return attachment(data, f"{form.code}_{form.title}_台账.xlsx".replace("/", "-"), XLSX_MIME)


def records_list_response(entries) -> Response:
    """记录清单: every form with owner, retention and how many records exist."""
    header = ["表单编号", "表单名称", "版本", "责任部门", "保存期限(年)", "记录数"]
    rows = [[e["form"].code, e["form"].title,
             e["form"].current_revision.label if e["form"].current_revision else "",
             e["form"].department.name, e["form"].retention_years or "", e["count"]] for e in entries]
    return attachment(workbook_bytes("记录清单", header, rows), f"记录清单_{clock.today().isoformat()}.xlsx", XLSX_MIME)
