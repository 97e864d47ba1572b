"""Request shapes for the appeal pages. Business rules stay in the services."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.appeals.models import Case, Category, Level, Mediation, Status
from redwheel.core.forms import SafeTextMixin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class FileForm(SafeTextMixin, forms.Form):
    """The driver's appeal; the hidden key makes a double submit create one case."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    category = forms.ChoiceField(label=_("What is it about?"), choices=Category.choices)
    punishment = forms.TypedChoiceField(
        label=_("Penalty you contest"), required=False, coerce=int, empty_value=None
    )
    title = forms.CharField(label=_("In one line"), max_length=120)
    description = forms.CharField(
        label=_("What happened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField(label=_("Photos or files (JPEG, PNG, PDF; up to 10 MB)"))

    def __init__(self, *args, punishments=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.punishment_rows = {p.pk: p for p in punishments}
        choices = [("", _("None"))] + [
            (p.pk, f"{p.punished_at:%Y-%m-%d} {p.platform.name} {p.reason}"[:80])
            for p in punishments
        ]
        self.fields["punishment"].choices = choices
        if not self.punishment_rows:
            del self.fields["punishment"]

    def clean_punishment(self):
        pk = self.cleaned_data.get("punishment")
        return self.punishment_rows.get(pk) if pk else None


class IntakeForm(FileForm):
    """Staff record an appeal taken by phone (12328-style) on the driver's behalf."""

    driver_number = forms.CharField(
        label=_("Driver's mobile or licence number"),
        max_length=24,
        help_text=_("Looked up exactly; only drivers you may see are found."),
    )
    mediation = forms.BooleanField(label=_("Passenger–driver dispute (mediation)"), required=False)
    passenger = forms.CharField(label=_("Passenger"), max_length=60, required=False)
    order_ref = forms.CharField(label=_("Order number"), max_length=64, required=False)
    facts = forms.CharField(
        label=_("Facts"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    proposed_settlement = forms.CharField(
        label=_("Proposed settlement"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    compensate_first = forms.BooleanField(
        label=_("Compensate first, sort out later (先赔后理)"), required=False
    )
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), required=False, max_digits=10, decimal_places=2, min_value=0
    )

    field_order = [
        "driver_number",
        "idempotency_key",
        "category",
        "title",
        "description",
        "attachments",
    ]


class FilterForm(SafeTextMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=40,
        help_text=_("Case number, title or driver name."),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), ("open", _("Open")), *Status.choices],
    )
    level = forms.TypedChoiceField(
        label=_("Level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *Level.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("Any")), *Category.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class TextForm(SafeTextMixin, forms.Form):
    text = forms.CharField(
        label=_("Text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class OptionalTextForm(SafeTextMixin, forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class InfoForm(TextForm):
    attachments = MultipleFileField(label=_("Photos or files (JPEG, PNG, PDF; up to 10 MB)"))


class RateForm(SafeTextMixin, forms.Form):
    satisfied = forms.TypedChoiceField(
        label=_("Are you satisfied with the answer?"),
        widget=forms.RadioSelect,
        choices=[("1", _("Satisfied")), ("0", _("Not satisfied"))],
        coerce=lambda v: v == "1",
    )
    text = forms.CharField(label=_("Comment"), max_length=500, required=False)


class MergeForm(SafeTextMixin, forms.Form):
    into = forms.ModelChoiceField(label=_("Merge into"), queryset=Case.objects.none())

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Case.objects.filter(pk__in=[c.pk for c in targets])


class MediationForm(SafeTextMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Mediation.Outcome.choices, required=False
    )
    outcome_note = forms.CharField(
        label=_("Outcome details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    proposed_settlement = forms.CharField(
        label=_("Proposed settlement"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    compensate_first = forms.BooleanField(
        label=_("Compensate first, sort out later (先赔后理)"), required=False
    )
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), required=False, max_digits=10, decimal_places=2, min_value=0
    )


class MonthForm(SafeTextMixin, forms.Form):
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
