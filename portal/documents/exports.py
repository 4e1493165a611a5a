"""Word and Excel exports: a revision with its header block, the master list."""
from urllib.parse import quote

from flask import Response
from flask_babel import gettext as _

from portal import clock
from portal.documents.models import HISTORIC_STATES, Revision
from portal.validation import xml_safe
from portal.xlsx import workbook_bytes

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A plain export of the revision in force is 非受控: only a numbered copy is 受控.
STAMPS = {"effective": "非受控", "superseded": "作废", "obsolete": "作废"}
MEANING_LABELS = {"prepare": "编制", "review": "审核", "approve": "批准"}
CONFIDENTIALITY_LABELS = {"public": "公开", "internal": "内部公开", "confidential": "秘密"}


def stamp_for(rev: Revision) -> str:
    return STAMPS.get(rev.state, "草稿")


def _fmt(dt) -> str:
    return clock.local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _signature_lines(rev: Revision):
    from portal.documents.docx_export import SignatureLine

    signed = [s for s in rev.signatures_in_round() if s.decision == "accept"]
    return [SignatureLine(MEANING_LABELS[s.meaning], s.printed_name or s.signer.display_name,
                          _fmt(s.signed_at)) for s in signed]


def _approver_name(rev: Revision) -> str:
    approvals = [s for s in rev.signatures_in_round() if s.meaning == "approve" and s.decision == "accept"]
    return approvals[-1].printed_name if approvals else ""


def _history_lines(rev: Revision):
    from portal.change_requests.queries import numbers_by_revision
    from portal.documents.docx_export import HistoryLine

    earlier = [r for r in rev.document.revisions
               if r.state in HISTORIC_STATES and r.id != rev.id and r.id < rev.id]
    requests = numbers_by_revision(r.id for r in earlier + [rev])
    return [HistoryLine(r.label, r.effective_date.isoformat() if r.effective_date else "",
                        r.change_summary or "", _reason(r.change_reason, requests.get(r.id)),
                        r.author.display_name, _approver_name(r)) for r in earlier + [rev]]


def _reason(reason: str | None, request_number: str | None) -> str:
    """The 更改原因 cell: the reason, and the 文件更改申请 the revision implements."""
    return "\n".join(t for t in (reason, f"更改申请 {request_number}" if request_number else None) if t)


def export_context(rev: Revision, user, copy=None):
    """Everything the Word export shows; a controlled copy carries 受控, its 发放号 and holder."""
    from portal.documents.docx_export import ExportContext
    from portal.procedures.steps_table import steps_table_html

    doc = rev.document
    stamp = stamp_for(rev)
    note = f"{stamp} · 由 {user.display_name} 于 {_fmt(clock.now())} 导出"
    if copy is not None and copy.status in ("issued", "acknowledged") and rev.state == "effective":
        stamp, note = "受控", f"受控副本 · 发放号 {copy.copy_no} · 持有人 {copy.holder_name}"
    return ExportContext(
        code=doc.code, title=doc.title, revision_label=rev.label, stamp=stamp,
        effective_date=rev.effective_date.isoformat() if rev.effective_date else None,
        issued_date=_fmt(rev.released_at)[:10] or None,
        confidentiality=CONFIDENTIALITY_LABELS.get(doc.confidentiality, doc.confidentiality),
        signatures=_signature_lines(rev), body_html=rev.body_html + steps_table_html(rev.steps),
        history=_history_lines(rev),
        footer_note=note)


def attachment(data: bytes, filename: str, mimetype: str) -> Response:
    """A download with a UTF-8 file name (RFC 5987) and an ASCII fallback."""
    filename = xml_safe(filename)  # a stored lone surrogate cannot be percent-encoded
    fallback = "".join(c if c.isascii() and c.isalnum() or c in "-_." else "_" for c in filename)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": disposition})


def docx_response(rev: Revision, user, copy=None) -> Response:
    from portal.documents.docx_export import render_docx

    data = render_docx(export_context(rev, user, copy))
    suffix = f"_{copy.copy_no}" if copy is not None else ""
    name = f"{rev.document.code}_{rev.label}_{rev.document.title}{suffix}.docx".replace("/", "-")
    return attachment(data, name, DOCX_MIME)


MASTER_LIST_COLUMNS = ("文件编号", "文件名称", "类别", "版本", "实施日期", "责任部门", "下次评审", "相关条款")


def master_list_rows(docs) -> list[tuple]:
    rows = []
    for d in docs:
        rev = d.current_revision
        rows.append((d.code, d.title, _(d.doc_type), rev.label if rev else "",
                     rev.effective_date.isoformat() if rev and rev.effective_date else "",
                     d.department.name, d.next_review_due.isoformat() if d.next_review_due else "",
                     "; ".join(d.clauses or [])))
    return rows


def master_list_response(docs) -> Response:
    """受控文件清单 as .xlsx: one row per document in force."""
    data = workbook_bytes("受控文件清单", list(MASTER_LIST_COLUMNS), [list(r) for r in master_list_rows(docs)],
                          [18, 36, 12, 8, 12, 16, 12, 40])
    return attachment(data, f"受控文件清单_{clock.today().isoformat()}.xlsx", XLSX_MIME)


EXTERNAL_COLUMNS = ("文件编号", "文件名称", "发布机构/来源", "版本/年号", "收文日期", "适用范围", "状态", "下次评审")


def external_list_response(docs) -> Response:
    """外来文件清单 as .xlsx."""
    rows = [[d.code, d.title, d.external_source or "", d.external_edition or "",
             d.received_on.isoformat() if d.received_on else "", d.applicability or "", _(d.status),
             d.next_review_due.isoformat() if d.next_review_due else ""] for d in docs]
    data = workbook_bytes("外来文件清单", list(EXTERNAL_COLUMNS), rows, [18, 36, 20, 12, 12, 30, 8, 12])
    return attachment(data, f"外来文件清单_{clock.today().isoformat()}.xlsx", XLSX_MIME)
