"""The objectives operations and schemas of /api/v1/openapi.json (merged by portal.openapi.spec)."""

OPERATIONS: list = []
ANSWERS: dict = {}
BODIES: dict = {}
