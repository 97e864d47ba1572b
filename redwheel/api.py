"""The JSON API under /api/v1/. Every error answers {"code", "message", "details"}."""

from importlib import import_module

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from redwheel.core.errors import DomainError

api = NinjaAPI(
    title="RedWheel API",
    version="1",
    description="红色方向盘 RedWheel: platform and staff API. See docs/api.md.",
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, details=None):
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    response = _error(request, exc.status, exc.code, str(exc.message), exc.details)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    return _error(
        request, 400, "invalid_request", _("The request is not valid."), {"errors": exc.errors}
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return _error(request, 401, "unauthorized", _("Authentication is required."))


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    # ninja raises HttpError(400) for a body that is not valid JSON.
    code = "invalid_request" if exc.status_code == 400 else "http_error"
    return _error(request, exc.status_code, code, str(exc))


for module in (
    "redwheel.orgs.api",
    "redwheel.drivers.api",
    "redwheel.exchange.api",
    "redwheel.scoring.api",
    "redwheel.appeals.api",
    "redwheel.mobilization.api",
):
    api.add_router("/", import_module(module).router)
