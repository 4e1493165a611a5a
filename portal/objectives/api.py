"""JSON API for objectives (CONTRACT.md "Quality objectives")."""
from flask import Response, g, jsonify, request

from portal.api_support import api_blueprint, created, json_body, paginate
from portal.objectives import exports, periods, queries, services
from portal.objectives.chart import render_chart
from portal.objectives.serializers import objective_json

bp = api_blueprint("objectives_api")
SVG_MIME = "image/svg+xml"


@bp.post("/objectives")
def create_objective():
    """Define an objective (controllers)."""
    return created(objective_json(services.create_objective(g.user, json_body())))


@bp.get("/objectives")
def list_objectives():
    """Objectives, oldest first; ?active=1|0."""
    raw = request.args.get("active")
    active = {"1": True, "true": True, "0": False, "false": False}.get(raw or "")
    return jsonify(paginate(queries.objective_query(g.user, active=active), objective_json))


@bp.get("/objectives/<int:objective_id>")
def get_objective(objective_id: int):
    return jsonify(objective_json(queries.get_objective(g.user, objective_id)))


@bp.patch("/objectives/<int:objective_id>")
def update_objective(objective_id: int):
    """Change the name, target or activity (controllers)."""
    obj = queries.get_objective(g.user, objective_id)
    return jsonify(objective_json(services.update_objective(g.user, obj, json_body())))


def range_args(frequency: str) -> tuple:
    """?from=&to= as given, each defaulting to the ends of the last 12 periods."""
    default = periods.last_periods(frequency)
    return (request.args.get("from") or default[0].label, request.args.get("to") or default[-1].label)


def department_arg():
    return request.args.get("department") or None


@bp.get("/objectives/<int:objective_id>/values")
def objective_values(objective_id: int):
    """One row per period: {period, department, numerator, denominator, value, target, met}."""
    obj = queries.get_objective(g.user, objective_id)
    first, last = range_args(obj.frequency)
    items = services.values(obj, first, last, department_arg())
    return jsonify({"items": items, "total": len(items)})


@bp.get("/objectives/<int:objective_id>/chart.svg")
def objective_chart(objective_id: int):
    """The trend chart of the values as SVG."""
    obj = queries.get_objective(g.user, objective_id)
    first, last = range_args(obj.frequency)
    rows = services.values(obj, first, last, department_arg())
    svg = render_chart(obj.name, rows, obj.target, obj.unit, obj.comparison)
    # Shown in place, but saved under a name like every other file the API answers.
    return Response(svg, mimetype=SVG_MIME,
                    headers={"Content-Disposition": f"inline; filename=\"objective-{obj.id}.svg\""})


@bp.get("/objectives.xlsx")
def export_values():
    """The values of every active objective as Excel."""
    tables = services.values_of_all(g.user, request.args.get("from"), request.args.get("to"), department_arg())
    return exports.values_response(tables)
