"""The form designer: a controller defines a draft form revision's fields in the browser."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.documents import queries, services
from portal.documents.form_schema import COLUMN_TYPES, FIELD_TYPES
from portal.errors import ValidationFailed

bp = Blueprint("designer", __name__, template_folder="templates")
BLANK_ROWS = 5


def _split_choices(raw: str) -> list[str]:
    for sep in ("\n", "、", "，", ","):
        raw = raw.replace(sep, "|")
    return [c.strip() for c in raw.split("|") if c.strip()]


def _parse_columns(raw: str) -> list[dict]:
    """Columns written one per line or ';'-separated as name:label:type[:choice|choice]."""
    columns = []
    for part in raw.replace("\n", ";").split(";"):
        bits = [b.strip() for b in part.split(":")] if part.strip() else []
        if not bits:
            continue
        if len(bits) < 3:
            raise ValidationFailed(_("Table columns are written name:label:type."), fields={"columns": part})
        column = {"name": bits[0], "label": bits[1], "type": bits[2]}
        if len(bits) > 3:
            column["choices"] = _split_choices(bits[3])
        columns.append(column)
    return columns


def fields_from_form(form) -> list[dict]:
    """The designer's rows as field definitions; blank rows are ignored. A row whose label,
    type, choices or columns did not come (a hand-made post with shorter lists) gets them
    empty, so the schema check names what is missing instead of failing on an index."""
    columns = {key: form.getlist(key) for key in ("label", "type", "choices", "columns")}

    def nth(key: str, i: int) -> str:
        return columns[key][i] if i < len(columns[key]) else ""

    fields = []
    for i, name in enumerate(form.getlist("name")):
        if not name.strip():
            continue
        field = {"name": name.strip(), "label": nth("label", i).strip(),
                 "type": nth("type", i), "required": f"required_{i}" in form}
        if field["type"] == "choice":
            field["choices"] = _split_choices(nth("choices", i))
        if field["type"] == "table":
            field["columns"] = _parse_columns(nth("columns", i))
        fields.append(field)
    return fields


def column_text(field: dict) -> str:
    return "; ".join(":".join([c["name"], c["label"], c["type"]] + (["|".join(c["choices"])] if c.get("choices") else []))
                     for c in field.get("columns", []))


@bp.route("/revisions/<int:rev_id>/fields", methods=["GET", "POST"])
@login_required
def design(rev_id: int):
    """Edit the fields of a draft form revision (approved like any other revision)."""
    rev = queries.get_revision(current_user, rev_id)
    if request.method == "POST":
        services.update_revision(current_user, rev, {"fields": fields_from_form(request.form)})
        flash(_("Form fields saved."), "success")
        return redirect(url_for("designer.design", rev_id=rev.id))
    return render_template("records/designer.html", rev=rev, doc=rev.document, fields=rev.fields or [],
                           blank=BLANK_ROWS, types=FIELD_TYPES, column_types=COLUMN_TYPES,
                           column_text=column_text,
                           editable=rev.state == "draft" and services.can_edit_revision(current_user, rev))
