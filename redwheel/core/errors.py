"""One error shape for the whole system: a stable code, a translated message, details."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule said no. `code` is stable for API clients; `message` is for people."""

    code = "domain_error"
    status = 400
    default_message = _("The request could not be completed.")
    headers: dict[str, str] = {}  # extra response headers, e.g. Retry-After

    def __init__(self, message=None, *, code: str | None = None, details=None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.details = details if details is not None else {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class NotFound(DomainError):
    """Also used for objects outside the caller's scope, so ids leak nothing."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    default_message = _("Authentication is required.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 400
    default_message = _("Some fields are not valid.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
    default_message = _("This action is not allowed in the current state.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("This conflicts with existing data.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Please try again later.")

    def __init__(self, message=None, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.headers = {"Retry-After": str(retry_after)}
