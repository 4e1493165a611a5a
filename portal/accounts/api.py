"""JSON API for the signed-in user, users, departments and tokens."""
from flask import g, jsonify
from flask_babel import gettext as _

from portal.accounts import services
from portal.accounts.models import Department, User
from portal.accounts.permissions import ADMINISTER, require_role
from portal.accounts.serializers import department_json, user_json
from portal.api_support import api_blueprint, created, json_body
from portal.errors import NotFound
from portal.extensions import db
from portal.validation import Fields

bp = api_blueprint("accounts_api")


@bp.get("/me")
def me():
    """The account behind the token."""
    return jsonify(user_json(g.user))


@bp.get("/departments")
def list_departments():
    """Every department."""
    items = [department_json(d) for d in services.list_departments()]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/departments")
def create_department():
    """Register a department (admin)."""
    f = Fields(json_body())
    code, name = f.text("code", 32, required=True), f.text("name", 200, required=True)
    f.done("Invalid department.")
    return created(department_json(services.create_department(g.user, code, name)))


DEPARTMENT_FIELDS = ("manager", "name")


@bp.patch("/departments/<int:dept_id>")
def update_department(dept_id: int):
    """Set a department's manager (a username or null) or rename it (admin)."""
    require_role(g.user, ADMINISTER, "manage departments")
    dept = db.session.get(Department, dept_id)
    if dept is None:
        raise NotFound(_("No such department."))
    data = json_body()
    f = Fields(data)
    for key in data.keys() - set(DEPARTMENT_FIELDS):
        f.fail(key, "unknown field")
    values = {"name": f.text("name", 200)}
    if "manager" in data:
        if data["manager"] is not None and not isinstance(data["manager"], str):
            f.fail("manager", "a username or null")
        values["manager"] = data["manager"]
    f.done(_("Invalid department."))
    return jsonify(department_json(services.update_department(g.user, dept, **values)))


@bp.get("/users")
def list_users():
    """Every account (admin)."""
    require_role(g.user, ADMINISTER, "list users")
    items = [user_json(u) for u in services.list_users()]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/users")
def create_user():
    """Create an account (admin)."""
    f = Fields(json_body())
    values = dict(username=f.text("username", 64, required=True),
                  password=f.text("password", 200, required=True),
                  role=f.text("role", 32, required=True), department=f.text("department", 32),
                  name=f.text("name", 200), expires=f.day("expires"), email=f.text("email", 200))
    f.done("Invalid user.")
    return created(user_json(services.create_user(g.user, **values)))


@bp.patch("/users/<int:user_id>")
def update_user(user_id: int):
    """Change role, department, name, active flag or expiry (admin)."""
    require_role(g.user, ADMINISTER, "manage users")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    data = json_body()
    f = Fields(data)
    values = dict(role=f.text("role", 32), department=f.text("department", 32),
                  name=f.text("name", 200), email=f.text("email", 200))
    if "active" in data:
        if not isinstance(data["active"], bool):
            f.fail("active", "true or false")
        values["active"] = data["active"]
    if "expires" in data:
        values["expires"] = f.day("expires")
    f.done("Invalid user.")
    if "auditor" in data:  # the auditor register, in the same transaction as the other changes
        from portal.audit import qualification

        qualification.set_qualification(g.user, user, qualification.parse_qualification(data["auditor"]),
                                        commit=data.keys() == {"auditor"})
    if data.keys() != {"auditor"}:
        services.update_user(g.user, user, **values)
    return jsonify(user_json(user))


@bp.post("/tokens")
def create_token():
    """A new token for the caller; shown once."""
    token = services.create_token(g.user, g.user)
    return created({"token": token, "user": g.user.username})


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke a token (its owner or an admin)."""
    row = services.revoke_token(g.user, token_id)
    return jsonify({"id": row.id, "revoked_at": row.revoked_at.isoformat()})
