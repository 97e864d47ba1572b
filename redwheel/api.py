"""The JSON API under /api/v1/. Every error answers {"code", "message", "details"}.

That includes what Django would otherwise answer in HTML: an unknown path or a path whose id
does not match its converter (`/api/v1/drivers/abc`) answers 404 `not_found`, a method the
path does not take answers 405 `method_not_allowed` (with `Allow`), see `RedWheelAPI.urls`.
"""

import functools
from importlib import import_module

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponseNotAllowed
from django.urls import re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from redwheel.core import unavailable
from redwheel.core.errors import DomainError


class RedWheelAPI(NinjaAPI):
    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            pattern.callback = _json_method_not_allowed(pattern.callback)
        # Last: whatever no operation matched under the prefix (csrf-exempt, so that an
        # unknown POST answers 404, not Django's HTML CSRF page).
        return [*patterns, re_path(r"^", _unmatched, name="unmatched")], app_name, namespace


def _json_method_not_allowed(view):
    if getattr(view, "_json_405", False):
        return view

    @functools.wraps(view)  # keeps csrf_exempt
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        allowed = response["Allow"]
        answer = _error(
            request,
            405,
            "method_not_allowed",
            _("This method is not allowed here."),
            {"allowed": [m.strip() for m in allowed.split(",")]},
        )
        answer["Allow"] = allowed
        return answer

    wrapper._json_405 = True
    return wrapper


@csrf_exempt
def _unmatched(request, *args, **kwargs):
    return _error(request, 404, "not_found", _("Not found."))


api = RedWheelAPI(
    title="RedWheel API",
    version="1",
    description="红色方向盘 RedWheel: platform and staff API. See docs/api.md.",
    urls_namespace="api",
    docs_decorator=require_safe,  # the schema and its docs page only read: POST answers 405
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


@api.exception_handler(RequestDataTooBig)
def request_too_big(request, exc):
    # Django would answer its HTML 400 page; DATA_UPLOAD_MAX_MEMORY_SIZE sets the limit.
    return _error(request, 400, "request_too_large", _("The request body is too large."))


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request, exc):
    if not unavailable.is_unavailable(exc):
        raise exc  # a bug, not an outage: Django's 500
    return unavailable.unavailable_response(request)


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
    "redwheel.party.recruitment.api",
    "redwheel.party.meetings.api",
    "redwheel.party.evaluation.api",
    "redwheel.party.dues.api",
    "redwheel.party.mobile.api",
):
    api.add_router("/", import_module(module).router)
