"""JSON shapes of users and departments."""


def department_json(d) -> dict:
    return {"id": d.id, "code": d.code, "name": d.name, "active": d.active,
            "manager": d.manager.username if d.manager else None}


def user_json(u) -> dict:
    return {"id": u.id, "username": u.username, "name": u.display_name, "role": u.role,
            "department": u.department_code, "active": u.active, "email": u.email,
            "expires": u.expires_on.isoformat() if u.expires_on else None, "auditor": _auditor(u)}


def _auditor(u) -> dict | None:
    """The user's auditor qualification (portal/audit/qualification.py), null for none."""
    from portal.audit.qualification import qualification_json, qualification_of

    return qualification_json(qualification_of(u))
