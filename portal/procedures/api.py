"""JSON API for procedures (CONTRACT.md)."""
from portal.api_support import api_blueprint

bp = api_blueprint("procedures_api")
