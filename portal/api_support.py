"""Plumbing shared by every JSON endpoint: auth, body parsing, paging, errors."""
import re

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from portal.errors import BadRequest, DomainError, NotAllowed, NotAuthenticated
from portal.extensions import db
from portal.validation import MAX_ID, has_surrogates

bp = Blueprint("api_root", __name__)
MAX_PER_PAGE = 100


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def protocol_headers(exc: HTTPException) -> list[tuple[str, str]]:
    """The headers werkzeug's error carries besides its own HTML content type: `Allow` on a
    405 (RFC 9110 requires it; clients and fuzzers read it), `WWW-Authenticate`, `Retry-After`."""
    return [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]


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
            body, status = error_response(exc.code or 500, code, exc.description or exc.name)
            return body, status, protocol_headers(exc)
        if exc.code is None or exc.code < 400:  # redirects raised by routing
            return exc
        from portal.views import render_http_error

        page, status = render_http_error(exc)
        return page, status, protocol_headers(exc)

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
    """The request's JSON object; 400 for anything malformed, too deeply nested, holding NUL
    or a lone surrogate, or not an object."""
    if not request.is_json:
        raise BadRequest(_("Send a JSON object with Content-Type: application/json."),
                         code="expected_json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the C parser's own guard, far past MAX_JSON_DEPTH
        raise _too_deep() from None
    if data is None:
        raise BadRequest(_("The request body is not valid UTF-8 JSON."), code="malformed_json")
    if not isinstance(data, dict):
        raise BadRequest(_("Expected a JSON object."), code="not_an_object")
    _check_json_tree(data)
    return data


MAX_JSON_DEPTH = 32  # no request of this API nests deeper than a few levels


def _too_deep() -> BadRequest:
    return BadRequest(_("The JSON body is nested more than %(limit)d levels deep.", limit=MAX_JSON_DEPTH),
                      code="too_deep")


def _check_json_tree(data) -> None:
    """Walk the parsed body with a stack, not recursion: a container deeper than
    MAX_JSON_DEPTH is refused before anything inside it is looked at, and every key and
    string is checked as text."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            if isinstance(key, str):
                check_text(key)
            if isinstance(item, str):
                check_text(item)
            elif isinstance(item, (dict, list)):
                stack.append((item, depth + 1))


def check_text(text: str) -> None:
    """NUL cannot be stored in PostgreSQL text, and a lone surrogate in no UTF-8 column nor
    in the trail hash: both are refused at the door, wherever text comes in."""
    if "\x00" in text:
        raise BadRequest(_("Text must not contain NUL characters."), code="nul_character")
    if has_surrogates(text):
        raise BadRequest(_("Text must not contain lone surrogates (invalid Unicode)."),
                         code="invalid_text")


# Headers whose values reach the portal's code (tokens are looked up, never stored).
HEADERS_READ = ("Authorization", "Idempotency-Key")


def reject_bad_text_in_request() -> None:
    """Query strings, form fields and the headers we read are checked like JSON text
    (check_text) before any handler runs. Werkzeug re-quotes invalid UTF-8 in query strings
    and urlencoded forms ("%ED%A0%80" arrives as that text), so only NUL can really come
    that way; the check is the same everywhere all the same."""
    for values in (request.args, request.form if request.mimetype in FORM_TYPES else {}):
        for key, value in values.items(multi=True) if values else ():
            check_text(key)
            check_text(value)
    for name in HEADERS_READ:
        check_text(request.headers.get(name, ""))


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
