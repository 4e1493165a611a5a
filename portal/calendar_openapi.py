"""The calendar and department-manager operations of /api/v1/openapi.json (merged by
portal.openapi.spec)."""

OPERATIONS: list = []
ANSWERS: dict = {}
BODIES: dict = {}
