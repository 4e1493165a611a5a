"""JSON API for objectives (CONTRACT.md)."""
from portal.api_support import api_blueprint

bp = api_blueprint("objectives_api")
