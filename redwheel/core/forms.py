"""Kernel form helpers: safe text on every field, and how a page shows a service's refusal.

Views raise; they do not catch `DomainError`. A refusal that needs nothing but a page goes on
to `core.middleware.DomainErrorMiddleware`. A view that must show it in place (re-render its
form with the error, or flash the message and redirect as on success) wraps the service call
in `domain_errors`. Out of scope (404) is never shown in place: it always becomes the 404
page."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.utils.translation import gettext_lazy as _

from redwheel.core.errors import DomainError, ValidationFailed
from redwheel.core.validators import validate_safe_text

# Error codes of the kernel validators, and the form field they are about when a service
# raises them without naming a field.
CODE_FIELDS = {"bad_region": "region_code", "bad_phone": "phone"}


@dataclass
class Caught:
    """What a `domain_errors` block ended with: `error` is None when the block succeeded."""

    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def status(self) -> int:
        return self.error.status if self.error is not None else 200

    @property
    def message(self):
        return self.error.message if self.error is not None else ""


@contextmanager
def domain_errors(request=None, *, form: forms.Form | None = None) -> Iterator[Caught]:
    """Run the block; a `DomainError` in it is shown where the user acted and the view goes
    on after the block, with the error in the yielded `Caught`:

        with domain_errors(request) as caught:      # message on the next page
            services.thing_publish(...)
            messages.success(request, _("Published."))
        return redirect("thing:detail", pk)

        with domain_errors(form=form) as caught:    # errors on the form's fields
            thing = services.thing_create(**require_valid(form))
            return redirect("thing:detail", thing.pk)
        return render(request, "thing/form.html", {"form": form}, status=caught.status)

    With `request`, the message is flashed; with `form`, it is put on the form's fields
    (`add_service_errors`); with neither it is only recorded (an htmx fragment shows it).
    404s are not caught: the middleware answers them with the 404 page."""
    caught = Caught()
    try:
        yield caught
    except DomainError as exc:
        if exc.status == 404:
            raise
        caught.error = exc
        if form is not None and not (isinstance(exc, FormInvalid) and exc.form is form):
            add_service_errors(form, exc)
        if request is not None:
            messages.error(request, exc.message)


def submit(form: forms.Form, call):
    """Run `call` — one service call for a valid form — and return its result; on a refusal,
    show it on the form and return None (so only for calls that return something)."""
    with domain_errors(form=form):
        return call()
    return None


class FormInvalid(ValidationFailed):
    """The form refused its own input: its first error is the message (for pages that show one
    message), all of them are in details, and they are already on the form."""

    def __init__(self, form: forms.Form):
        self.form = form
        first = next(iter(form.errors.values()))[0] if form.errors else None
        super().__init__(first, details=form.errors.get_json_data())


def require_valid(form: forms.Form) -> dict:
    """The form's cleaned data, or `FormInvalid`: lets a view validate inside the same
    `domain_errors` block as its service call."""
    if form.is_valid():
        return form.cleaned_data
    raise FormInvalid(form)


def add_service_errors(form: forms.Form, exc: DomainError) -> None:
    """Show a service's error on the form: per field where its details (or its code) name a
    field, else as a form-wide error."""
    details = exc.details if isinstance(exc.details, dict) else {}
    if not details and CODE_FIELDS.get(exc.code) in form.fields:
        details = {CODE_FIELDS[exc.code]: [exc.message]}
    placed = False
    for name, messages_ in details.items():
        if name in form.fields and name not in form.errors:
            for message in messages_ if isinstance(messages_, list | tuple) else [messages_]:
                form.add_error(name, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class SafeTextMixin:
    """Every text field of the form refuses NUL, the other C0 control characters and lone
    surrogates (`core.validators`) with a field error. Put it first: `(SafeTextMixin,
    forms.Form)`. Django's CharField already refuses NUL; this adds the rest of the rule, and
    JSON fields' nested text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # per-instance copies: safe to extend
            if isinstance(field, forms.CharField) and validate_safe_text not in field.validators:
                field.validators.append(validate_safe_text)


class AuditFilterForm(SafeTextMixin, forms.Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=80)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=120)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
