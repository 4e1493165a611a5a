"""JSON API for the company calendar (CONTRACT "Company calendar")."""
from portal.api_support import api_blueprint

bp = api_blueprint("calendar_api")
