"""The one place that says which role may do what."""
from flask_babel import gettext as _

from portal.errors import NotAllowed

MANAGE_DOCUMENTS = ("admin", "controller")
ADMINISTER = ("admin",)
AUTHOR = ("admin", "controller", "staff", "approver", "auditor")
# Plan and run internal audits, and verify corrective actions.
RUN_AUDITS = ("admin", "controller", "auditor")


def require_role(user, roles: tuple[str, ...], what: str) -> None:
    """Raise NotAllowed unless the user is active and holds one of the roles."""
    if user is None or not user.is_active or user.role not in roles:
        raise NotAllowed(f"Your role may not {what}.")


def require_writer(user) -> None:
    """External reviewers are read-only everywhere."""
    if user is None or user.is_read_only:
        raise NotAllowed(_("This account is read-only."), code="read_only")


def is_controller(user) -> bool:
    return user is not None and user.role in MANAGE_DOCUMENTS
