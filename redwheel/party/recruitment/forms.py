"""Forms of the recruitment pages. The step form is built from the step's own definition:
its typed fields, its materials and, at step 24, the outcome."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.party.recruitment import rules
from redwheel.party.recruitment.models import PipelineStep, Responsible, State

DATE = forms.DateInput(attrs={"type": "date"})


class FilterForm(SafeTextMixin, forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=60)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None, required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), ("open", _("Open")), *State.choices],
    )
    stage = forms.TypedChoiceField(
        label=_("Stage"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("All"))] + [(n, str(n)) for n in range(1, 6)],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches


class StepForm(SafeTextMixin, forms.Form):
    done_on = forms.DateField(label=_("Date done"), widget=DATE)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, step: PipelineStep, **kwargs):
        super().__init__(*args, **kwargs)
        self.step = step
        for spec in step.fields or []:
            self.fields[f"v_{spec['code']}"] = _field(spec)
        for spec in step.materials or []:
            types = ", ".join(t.upper() for t in spec.get("types", []))
            self.fields[f"m_{spec['code']}"] = forms.FileField(
                label=spec.get("label", spec["code"]),
                required=False,
                help_text=_("Accepted: %(types)s") % {"types": types}
                + (" · " + str(_("required")) if spec.get("required") else ""),
            )
        if rules.rule_of(step.rules, "outcomes"):
            self.fields["outcome"] = forms.ChoiceField(
                label=_("Outcome"),
                choices=[
                    ("confirm", _("Confirm as full member (按期转正)")),
                    ("extend", _("Extend probation (延长预备期)")),
                    ("cancel", _("Cancel probationary membership (取消预备党员资格)")),
                ],
            )
            self.fields["extend_months"] = forms.IntegerField(
                label=_("Extend by (months)"), required=False, min_value=0, max_value=24
            )

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            spec["code"]: data.get(f"v_{spec['code']}")
            for spec in self.step.fields or []
            if data.get(f"v_{spec['code']}") not in (None, "")
        }

    def uploads(self) -> dict:
        return {
            spec["code"]: self.cleaned_data[f"m_{spec['code']}"]
            for spec in self.step.materials or []
            if self.cleaned_data.get(f"m_{spec['code']}")
        }


def _field(spec: dict) -> forms.Field:
    label, required = spec.get("label", spec["code"]), bool(spec.get("required"))
    kind = spec.get("type")
    if kind == "date":
        return forms.DateField(label=label, required=required, widget=DATE)
    if kind in ("number", "hours"):
        return forms.DecimalField(label=label, required=required, min_value=0, max_digits=8)
    if kind == "bool":
        return forms.BooleanField(label=label, required=required)
    return forms.CharField(label=label, required=required, max_length=500)


class PeopleForm(forms.Form):
    role = forms.ChoiceField(choices=[("mentor", _("Mentors")), ("sponsor", _("Sponsors"))])
    members = forms.ModelMultipleChoiceField(label=_("Members"), queryset=None)

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = members


class ReasonForm(SafeTextMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class DraftForm(SafeTextMixin, forms.Form):
    note = forms.CharField(label=_("What will change"), required=False, max_length=300)


class JSONListField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4, "class": "mono"})

    def prepare_value(self, value):
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False, indent=1)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value.strip():
            return []
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON.")) from exc
        if not isinstance(parsed, list):
            raise forms.ValidationError(_("Write a JSON list: [ ... ]."))
        return parsed


class StepEditForm(SafeTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    responsible = forms.ChoiceField(label=_("Responsible"), choices=Responsible.choices)
    guidance = forms.CharField(label=_("Guidance"), required=False, max_length=300)
    rules = JSONListField(label=_("Interval rules"), required=False)
    fields_ = JSONListField(label=_("Typed fields"), required=False)
    materials = JSONListField(label=_("Required materials"), required=False)


class ApplyForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    applied_on = forms.DateField(label=_("Date of your letter"), required=False, widget=DATE)
    letter = forms.FileField(
        label=_("Application letter (入党申请书)"), help_text=_("PDF, JPG or PNG, at most 10 MB")
    )

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches


class UploadForm(forms.Form):
    step = forms.IntegerField(min_value=1, max_value=25, widget=forms.HiddenInput)
    code = forms.CharField(max_length=40, widget=forms.HiddenInput)
    file = forms.FileField(label=_("File"))
