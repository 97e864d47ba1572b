"""Filter forms of the exchange pages. Platform and unit choices are limited to the viewer's
scope by the view; a value outside them makes the view answer 404."""

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.exchange import metrics
from redwheel.orgs.models import OrgUnit, Platform

SCOPED_FIELDS = ("platform", "branch")


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return metrics.parse_month(value)
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."), code="month") from None


class _ScopedForm(SafeTextMixin, forms.Form):
    def __init__(self, *args, platforms=None, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "platform" in self.fields:
            self.fields["platform"].queryset = platforms
        if "branch" in self.fields:
            self.fields["branch"].queryset = units

    def out_of_scope(self) -> bool:
        """A platform or unit was given that is not among the viewer's choices."""
        return any(name in self.errors for name in SCOPED_FIELDS)


def _platform_field():
    return forms.ModelChoiceField(
        label=_("Platform"),
        queryset=Platform.objects.none(),
        required=False,
        empty_label=_("All platforms"),
    )


def _branch_field():
    return forms.ModelChoiceField(
        label=_("Party unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("All units"),
    )


class ReportFilterForm(_ScopedForm):
    month = MonthField(label=_("Month"), required=False)
    platform = _platform_field()
    branch = _branch_field()


class MetricFilterForm(ReportFilterForm):
    members = forms.BooleanField(label=_("Verified party members only"), required=False)


class RejectionFilterForm(_ScopedForm):
    platform = _platform_field()
    record_type = forms.ChoiceField(label=_("Record type"), required=False)
    code = forms.ChoiceField(label=_("Code"), required=False)

    def __init__(self, *args, record_types=(), codes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [("", _("All types"))] + [(t, t) for t in record_types]
        self.fields["code"].choices = [("", _("All codes"))] + [(c, c) for c in codes]


class UnknownDriverFilterForm(_ScopedForm):
    platform = _platform_field()
    resolved = forms.BooleanField(label=_("Include resolved"), required=False)
