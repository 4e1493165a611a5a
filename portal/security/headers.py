"""Security headers on every response (CSP without inline script)."""
from flask import request

# Inline style attributes are allowed (the sanitiser keeps a few, e.g. text-align from
# imported Word files, and restricts their values); inline script never is.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")
HSTS = "max-age=31536000"  # a year; not includeSubDomains: other hosts of the domain are not ours


def register_security_headers(app) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if _for_someone(request) and request.endpoint != "static":
            # What a signed-in user sees (pages, API answers, downloads) stays out of browser
            # and proxy caches: the back button after logout, a shared computer.
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response


def _for_someone(request) -> bool:
    """True for a request made as a user: a session user or a bearer token."""
    from flask_login import current_user

    return (request.headers.get("Authorization", "").startswith("Bearer ")
            or bool(current_user and current_user.is_authenticated))
