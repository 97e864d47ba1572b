from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.validators import validate_safe_text


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
