"""The JSON shapes of objectives (CONTRACT.md "Quality objectives")."""
from portal.documents.serializers import iso
from portal.objectives.models import Objective


def objective_json(obj: Objective) -> dict:
    return {"id": obj.id, "name": obj.name, "department": obj.department.code if obj.department else None,
            "target": obj.target, "comparison": obj.comparison, "unit": obj.unit, "frequency": obj.frequency,
            "measure": obj.measure, "active": obj.active, "created_by": obj.created_by.username,
            "created_at": iso(obj.created_at)}
