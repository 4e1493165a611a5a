"""Login, logout, language, and the admin pages for users and departments."""
from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import ROLES, ApiToken, Department, User
from portal.accounts.permissions import ADMINISTER, require_role
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.extensions import db
from portal.validation import parse_date

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlparse(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password."""
    if request.method == "GET":
        return render_template("accounts/login.html")
    try:
        # The client is the connecting address, never a header a client may write.
        user = services.authenticate(request.form.get("username", ""), request.form.get("password", ""),
                                     request.remote_addr)
    except DomainError as exc:
        flash(_("Login failed: %(msg)s", msg=exc.message), "error")
        return render_template("accounts/login.html"), 401
    login_user(user)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Sign out: every session of this user ends, copies of this cookie included."""
    if current_user.is_authenticated:
        services.log_out(current_user._get_current_object())
    logout_user()
    return redirect(url_for("accounts.login"))


@bp.get("/admin/users")
@login_required
def users():
    """Admin: every account and department."""
    require_role(current_user, ADMINISTER, "manage users")
    return render_template("accounts/users.html", users=services.list_users(),
                           departments=services.list_departments(), roles=ROLES)


def _form_expiry():
    """The expiry typed in the admin form; a date that is not one is refused, never read as
    "no expiry" (that would silently give an account unlimited access)."""
    raw = request.form.get("expires", "").strip()
    if not raw:
        return None
    day = parse_date(raw)
    if day is None:
        raise ValidationFailed(_("The expiry date must be a date YYYY-MM-DD."),
                               fields={"expires": "a date YYYY-MM-DD"})
    return day


@bp.post("/admin/users")
@login_required
def create_user():
    """Admin: create an account."""
    form = request.form
    services.create_user(current_user, form.get("username", "").strip(), form.get("password", ""),
                         form.get("role", ""), form.get("department") or None,
                         form.get("name") or None, _form_expiry(), form.get("email") or None)
    flash(_("User created."), "success")
    return redirect(url_for("accounts.users"))


@bp.post("/admin/users/<int:user_id>")
@login_required
def update_user(user_id: int):
    """Admin: change role, department, activity, expiry or password."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    form = request.form
    services.update_user(current_user, user, role=form.get("role") or None,
                         department=form.get("department", ""), name=form.get("name") or None,
                         active=form.get("active") == "1", expires=_form_expiry(),
                         email=form.get("email", ""))
    if form.get("password"):
        services.set_password(current_user, user, form["password"])
        if user.id == current_user.id:
            login_user(user)  # the reset ended every session, this one too: keep this one
    flash(_("User updated."), "success")
    return redirect(url_for("accounts.users"))


@bp.post("/admin/departments")
@login_required
def create_department():
    """Admin: register a department."""
    services.create_department(current_user, request.form.get("code", ""), request.form.get("name", ""))
    flash(_("Department created."), "success")
    return redirect(url_for("accounts.users"))


# Singular: tests/ui finds the create form by "/admin/departments" in its action.
@bp.post("/admin/department/<int:dept_id>")
@login_required
def update_department(dept_id: int):
    """Admin: rename a department or set its manager (blank: none)."""
    dept = db.session.get(Department, dept_id)
    if dept is None:
        raise NotFound(_("No such department."))
    services.update_department(current_user, dept, manager=request.form.get("manager") or None,
                               name=request.form.get("name"))
    flash(_("Department updated."), "success")
    return redirect(url_for("accounts.users"))


@bp.get("/account/tokens")
@login_required
def tokens():
    """My API tokens."""
    rows = db.session.execute(select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.id.desc())).scalars().all()
    return render_template("accounts/tokens.html", tokens=rows)


@bp.post("/account/tokens")
@login_required
def create_token():
    """Issue a token for myself; it is shown once."""
    token = services.create_token(current_user, current_user)
    rows = db.session.execute(select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.id.desc())).scalars().all()
    return render_template("accounts/tokens.html", tokens=rows, new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of my tokens."""
    services.revoke_token(current_user, token_id)
    flash(_("Token revoked."), "success")
    return redirect(url_for("accounts.tokens"))
