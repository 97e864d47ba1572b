"""The last stop for a `DomainError` a page view let through: the one place that turns a refusal
into a page response, so views raise and do not catch. The API never gets here: django-ninja
answers its own errors (`redwheel.api`) as JSON before middleware sees them.

What a view wants to do with an error *before* it gets here (re-render its form, flash the
message and redirect) is `redwheel.core.forms.domain_errors`."""

from django.contrib.auth.views import redirect_to_login
from django.core.handlers.exception import response_for_exception
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from redwheel.core.errors import DomainError


def _way_back(request) -> str:
    """Where the error page's link goes: the page the user came from when it is ours, else home
    (a foreign Referer must not become a link we offer)."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("home")


def error_response(request, exc: DomainError):
    """The page for an error: out of scope is the ordinary 404 (so ids leak nothing), no login
    is the login page, anything else the message with the error's status and a way back."""
    if exc.status == 404:
        return response_for_exception(request, Http404(str(exc.message)))
    if exc.status == 401:
        return redirect_to_login(request.get_full_path())
    template = "core/_error.html" if getattr(request, "htmx", False) else "core/error.html"
    response = render(
        request,
        template,
        {"error": exc, "message": exc.message, "back": _way_back(request)},
        status=exc.status,
    )
    for name, value in exc.headers.items():
        response[name] = value
    return response


class DomainErrorMiddleware:
    """Put it last in MIDDLEWARE: it needs the session, messages and `request.htmx` set up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return error_response(request, exception)
        return None
