"""503 instead of 500 while the database cannot be reached (a PostgreSQL restart, fail-over or
network cut): pages get a short page in the visitor's language, `/api/` paths the standard
error body `{"code": "service_unavailable", "message", "details"}`, both with `Retry-After`.

Only connection failures count (see `is_unavailable`): a failing query on a healthy connection
is a bug and stays a 500. The connection that failed is not kept: Django closes a connection
with errors at the end of the request, and `CONN_HEALTH_CHECKS` (config/settings.py) makes the
next request test a persistent connection before using it, so requests after the database
returns reconnect instead of failing once per stale connection.

A database error can surface in three places: in a view (`process_exception`), in an API
operation (django-ninja answers it itself, through the handler `redwheel.api` registers with
`api_response`), or in another middleware, e.g. the session save in `SessionMiddleware`'s
response phase. Django turns the last kind into a 500 response before any outer middleware
sees an exception, so the `got_request_exception` receiver marks the request and the middleware
swaps that 500 for the 503.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger("redwheel.unavailable")

# Long enough for a PostgreSQL restart or fail-over, short enough that clients come back soon.
RETRY_AFTER_SECONDS = 5

# SQLSTATE classes of a server that is going away or not accepting connections yet:
# 08 connection exception, 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect
# now (starting up / in recovery).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means "the database cannot be reached right now"."""
    if isinstance(exc, InterfaceError):  # a connection that is already closed
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", "")
    if sqlstate is None:
        # psycopg sets no SQLSTATE when the failure is the connection itself: refused,
        # timed out, or closed by the server in the middle of a query.
        return True
    if sqlstate:
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    # SQLite: another process holds the write lock beyond the busy timeout. "no such table"
    # and the like are OperationalErrors too, but they are bugs, not outages.
    return "database is locked" in str(exc)


def _language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)


def api_body() -> dict:
    """The JSON error body (also django-ninja's exception handler's, `redwheel.api`)."""
    return {
        "code": "service_unavailable",
        "message": _("The service is briefly unavailable. Please try again in a moment."),
        "details": {"retry_after": RETRY_AFTER_SECONDS},
    }


def _finish(request, response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    logger.warning(
        "database unavailable: %s %s answered 503", request.method, request.path, exc_info=True
    )
    return response


def unavailable_response(request) -> HttpResponse:
    """The 503 for `request`: JSON under /api/, else the page. Neither touches the database:
    the page is rendered without context processors (they would load the session and user)."""
    with translation.override(_language(request)):
        if request.path.startswith("/api/"):
            return _finish(request, JsonResponse(api_body(), status=503))
        html = render_to_string("core/unavailable.html", {"retry_after": RETRY_AFTER_SECONDS})
    response = HttpResponse(html, status=503)
    response["Content-Language"] = _language(request)
    return _finish(request, response)


def _note_exception(sender, request=None, **kwargs):
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_unavailable(exc):
        request._database_unavailable = True


got_request_exception.connect(_note_exception, dispatch_uid="redwheel.core.unavailable")


class DatabaseUnavailableMiddleware:
    """Put it near the top of MIDDLEWARE (after SecurityMiddleware and WhiteNoise), so that it
    wraps every middleware that may reach the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_unavailable", False):
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if is_unavailable(exception):
            return unavailable_response(request)
        return None
