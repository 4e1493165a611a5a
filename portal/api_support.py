"""Plumbing shared by every JSON endpoint: auth, body parsing, paging, errors."""
import re

from flask import Blueprint, g, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from portal.errors import BadRequest, DomainError, NotAllowed, NotAuthenticated
from portal.extensions import db
from portal.validation import MAX_ID

bp = Blueprint("api_root", __name__)
MAX_PER_PAGE = 100


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def register_error_handlers(app) -> None:
    """Domain errors become their status; nothing on /api/ ever answers with HTML."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return error_response(exc.status, exc.code, exc.message, exc.fields)
        from portal.views import render_domain_error

        return render_domain_error(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        db.session.rollback()
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            return error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code is None or exc.code < 400:  # redirects raised by routing
            return exc
        from portal.views import render_http_error

        return render_http_error(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if request.path.startswith("/api/"):
            return error_response(500, "internal_error", "Internal error; it has been logged.")
        from flask import render_template

        return render_template("error.html", status=500, message="Internal error"), 500


def authenticate_api_request():
    """Resolve the bearer token into g.user; read-only accounts may only GET."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise NotAuthenticated("Send Authorization: Bearer <token>.", code="missing_token")
    from portal.accounts.services import user_for_token

    g.user = user_for_token(header[7:].strip())
    if g.user.is_read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
        raise NotAllowed("This account is read-only.", code="read_only")


def api_blueprint(name: str) -> Blueprint:
    """A blueprint whose every endpoint requires a valid bearer token."""
    blueprint = Blueprint(name, __name__)
    blueprint.before_request(authenticate_api_request)
    return blueprint


def json_body() -> dict:
    """The request's JSON object; 400 for anything malformed or not an object."""
    if not request.is_json:
        raise BadRequest("Send a JSON object with Content-Type: application/json.",
                         code="expected_json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    if data is None:
        raise BadRequest("The request body is not valid UTF-8 JSON.", code="malformed_json")
    if not isinstance(data, dict):
        raise BadRequest("Expected a JSON object.", code="not_an_object")
    if _contains_nul(data):
        raise BadRequest("Text must not contain NUL characters.", code="nul_character")
    return data


def _contains_nul(value) -> bool:
    """NUL cannot be stored in PostgreSQL text and never belongs in a document."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def reject_nul_in_request() -> None:
    """Query strings and form fields with NUL are refused before any handler runs."""
    for values in (request.args, request.form if request.mimetype in FORM_TYPES else {}):
        for key, value in values.items(multi=True) if values else ():
            if "\x00" in key or "\x00" in value:
                raise BadRequest("Text must not contain NUL characters.", code="nul_character")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def id_arg(name: str) -> int | None:
    """An optional integer id from the query string; out-of-range ids are simply unknown."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise BadRequest(f"{name} must be a positive integer.", code="bad_parameter")
    value = int(raw) if len(raw) <= 19 else MAX_ID + 1  # int() refuses 4,300+ digits
    if value > MAX_ID:
        from portal.errors import NotFound

        raise NotFound(f"No object with {name}={raw}.")
    return value


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def int_arg(name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # int() also takes "٢٠٢٦", " 5", "1_000" and "+5"; a query parameter is ASCII digits
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise BadRequest(f"{name} must be a whole number.", code="bad_parameter")
    if len(raw) > 19:
        raise BadRequest(f"{name} is too large.", code="bad_parameter")
    value = min(int(raw), MAX_ID)
    if value < low:
        raise BadRequest(f"{name} must be at least {low}.", code="bad_parameter")
    return min(value, high) if high else value


def paginate(query, serialize) -> dict:
    """Run a select() one page at a time: {items, total, page, per_page}."""
    page = int_arg("page", 1, 1, 10**6)
    per_page = int_arg("per_page", 20, 1, MAX_PER_PAGE)
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar()
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return {"items": [serialize(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def created(payload: dict):
    return jsonify(payload), 201


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API (no authentication)."""
    from portal.openapi import spec

    return jsonify(spec())
