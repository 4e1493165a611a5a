"""Who may read which part of the trail."""
from portal.accounts.permissions import is_controller
from portal.errors import NotAllowed


def require_trail_access(user, object_type: str | None, object_id: int | None) -> None:
    """Controllers, admins and auditors read the whole trail; others one visible object's."""
    if is_controller(user) or user.role == "auditor":
        return
    if object_type in ("document", "revision") and object_id is not None:
        from portal.documents import queries

        getter = queries.get_document if object_type == "document" else queries.get_revision
        getter(user, object_id)  # NotFound when the user may not see it
        return
    raise NotAllowed("Only controllers and auditors may read the whole trail.")
