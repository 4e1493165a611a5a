"""Domain exceptions raised by services and mapped to HTTP statuses by views."""


class DomainError(Exception):
    """Base class: a rule said no. `code` is the snake_case reason for the API."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """Duplicate or not allowed in the current state."""

    status = 409
    code = "conflict"


class InvalidState(Conflict):
    code = "invalid_state"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedType(DomainError):
    status = 415
    code = "unsupported_file_type"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class BadRequest(DomainError):
    status = 400
    code = "bad_request"
