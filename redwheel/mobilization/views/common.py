"""What the staff pages share: the page size, the writable units of a create form, and the
one way an action post runs its service call and shows the outcome."""

from django.contrib import messages
from django.shortcuts import redirect

from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.guards import writable_or_404
from redwheel.mobilization import selectors

PAGE_SIZE = 30


def writable_units(request):
    """The units a create form may pick; 404 before the form is read if there is none."""
    return writable_or_404(selectors.units(request.user, "change"))


def run(request, form, call, success, on_error, redirect_to):
    """Validate `form` (or None) and run `call(data)`: on success flash `success` and redirect;
    a refusal is flashed and the page re-rendered by `on_error(status)` (404s become the 404
    page, in the kernel middleware)."""
    with domain_errors(request) as caught:
        result = call(require_valid(form) if form is not None else {})
        messages.success(request, success)
        return redirect_to(result) if callable(redirect_to) else redirect(redirect_to)
    return on_error(caught.status)


def back_to_detail(pk):
    return lambda _result: redirect("mobilization:mobilization_detail", pk=pk)
