"""Browser pages of the auditor register (内审员名册) and the admin's qualification form."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import clock
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.accounts.permissions import ADMINISTER, RUN_AUDITS, require_role
from portal.audit import qualification
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db

bp = Blueprint("auditors", __name__, template_folder="templates")


@bp.get("/auditors")
@login_required
def register():
    """Every registered auditor: standards, valid until (expired marked) and audits this year."""
    entries = qualification.register(current_user)
    registered = {e["user"].id for e in entries}
    unregistered = [u for u in accounts.list_users()
                    if u.role in RUN_AUDITS and u.is_active and u.id not in registered]
    return render_template("audit/auditors.html", entries=entries, unregistered=unregistered,
                           is_admin=current_user.role in ADMINISTER, year=clock.today().year)


def _user(user_id: int) -> User:
    require_role(current_user, ADMINISTER, "keep the auditor register")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def _render(user: User, values: dict, errors: dict, status: int = 200):
    return render_template("audit/auditor_edit.html", user=user, values=values, errors=errors,
                           row=qualification.qualification_of(user), today=clock.today(),
                           standards=qualification.catalogue_standards()), status


@bp.get("/admin/users/<int:user_id>/auditor")
@login_required
def edit(user_id: int):
    """Admin: a user's 内审员资格 (standards, valid until, note)."""
    user = _user(user_id)
    return _render(user, qualification.qualification_state(qualification.qualification_of(user)) or {}, {})


@bp.post("/admin/users/<int:user_id>/auditor")
@login_required
def save(user_id: int):
    """Admin: register, change or (withdraw=1) withdraw a user's qualification."""
    user = _user(user_id)
    form = request.form
    if form.get("withdraw") == "1":
        qualification.set_qualification(current_user, user, None)
        flash(_("The auditor qualification of %(name)s is withdrawn.", name=user.display_name), "success")
        return redirect(url_for("auditors.register"))
    values = {"standards": form.getlist("standards"), "qualified_until": form.get("qualified_until", ""),
              "note": form.get("note", "")}
    try:
        qualification.set_qualification(current_user, user, qualification.parse_qualification(values, prefix=""))
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render(user, values, exc.fields, 422)
    flash(_("The auditor qualification of %(name)s is saved.", name=user.display_name), "success")
    return redirect(url_for("auditors.register"))
