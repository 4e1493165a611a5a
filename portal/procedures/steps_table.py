"""A procedure revision's steps as the 流程 table: on the revision page and in its Word export
(the same HTML, so the paper and the screen cannot disagree)."""
from __future__ import annotations

from html import escape

from flask_babel import gettext as _

from portal.extensions import db


def _clock(step: dict) -> str:
    due = step.get("due_hours")
    if isinstance(due, dict):
        parts = [(_("Ordinary") if key == "ordinary" else _("Emergency"), hours) for key, hours in due.items()]
        return "; ".join(_("%(priority)s %(hours)s h", priority=name, hours=_number(hours)) for name, hours in parts)
    if due is not None:
        return _("%(hours)s h", hours=_number(due))
    if step.get("due_working_days"):
        return _("%(days)d working days", days=step["due_working_days"])
    return ""


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _form_label(form_id) -> str:
    from portal.documents.models import Document

    form = db.session.get(Document, form_id) if form_id else None
    return f"{form.code} {form.title}" if form is not None else ""


def _responsible(step: dict) -> str:
    from portal.accounts.models import Department
    from sqlalchemy import select

    parts = []
    if step.get("department"):
        name = db.session.execute(select(Department.name).where(Department.code == step["department"])).scalar()
        parts.append(name or step["department"])
    if step.get("role"):
        parts.append(_(step["role"]))
    return " · ".join(parts)


def steps_table_html(steps: list[dict] | None) -> str:
    """``<h2>流程</h2><table>…</table>``, every text escaped; empty without steps."""
    if not steps:
        return ""
    head = (_("No."), _("Step"), _("Form"), _("Responsible"), _("Time limit"), _("Escalate to"))
    rows = ["<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    for number, step in enumerate(steps, 1):
        target = _("Department manager") if step.get("escalate_to", "manager") == "manager" else _("Document controllers")
        cells = (str(number), step.get("name", ""), _form_label(step.get("form_id")), _responsible(step),
                 _clock(step), target)
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    title = escape(_("Process steps"))
    return f"<h2>{title}</h2><table>{''.join(rows)}</table>"
