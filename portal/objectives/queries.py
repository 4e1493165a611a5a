"""Who sees which objectives: every signed-in account, the external reviewer included.
Objectives and their values are aggregates (counts, shares, means) that management review
and certification auditors read; no record or run behind them is shown through them."""
from sqlalchemy import select, true

from portal.errors import NotFound
from portal.extensions import db
from portal.objectives.models import Objective


def visible_to(user):
    """The one SQL filter every list, page and export of objectives uses."""
    return true() if user is not None and user.is_active else Objective.id.is_(None)


def can_view(user, obj: Objective) -> bool:
    return user is not None and user.is_active


def objective_query(user, active: bool | None = None, department_id: int | None = None):
    query = select(Objective).where(visible_to(user)).order_by(Objective.id)
    if active is not None:
        query = query.where(Objective.active.is_(active))
    if department_id is not None:
        query = query.where(Objective.department_id == department_id)
    return query


def get_objective(user, objective_id: int) -> Objective:
    obj = db.session.get(Objective, objective_id)
    if obj is None or not can_view(user, obj):
        raise NotFound("No such objective.")
    return obj
