"""Browser pages for objectives."""
from flask import Blueprint

bp = Blueprint("objectives", __name__, template_folder="templates")
