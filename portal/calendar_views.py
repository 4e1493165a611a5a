"""The admin's page of the company calendar."""
from flask import Blueprint

bp = Blueprint("calendar", __name__)
