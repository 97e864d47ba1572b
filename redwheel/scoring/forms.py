from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin


class GrantForm(SafeTextMixin, forms.Form):
    rule_code = forms.ChoiceField(label=_("Rule"))
    occurred_at = forms.DateTimeField(
        label=_("When it happened"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    note = forms.CharField(label=_("Evidence / note"), max_length=300, required=False)

    def __init__(self, *args, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule_code"].choices = [(r.code, f"{r.name} (+{r.points})") for r in rules]
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))


class ReverseForm(SafeTextMixin, forms.Form):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=300)
