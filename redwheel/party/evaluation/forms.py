"""Forms of the evaluation pages: shape only; the services hold the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.dates import local_date
from redwheel.core.forms import SafeTextMixin
from redwheel.orgs.models import OrgUnit
from redwheel.party.evaluation.models import Grade
from redwheel.party.evaluation.services import FIRST_YEAR, MAX_TEXT


class OpenRoundForm(SafeTextMixin, forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=OrgUnit.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=FIRST_YEAR, max_value=9999)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["year"].initial = local_date().year


class SelfAssessmentForm(SafeTextMixin, forms.Form):
    text = forms.CharField(
        label=_("My self-assessment"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("How you studied, served and kept the party's rules this year."),
    )


class BallotForm(forms.Form):
    """One required choice of the four grades per other member."""

    def __init__(self, *args, subjects, **kwargs):
        super().__init__(*args, **kwargs)
        self.subjects = subjects
        for subject in subjects:
            self.fields[f"m{subject.pk}"] = forms.ChoiceField(
                label=subject.driver.name,
                choices=Grade.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose a grade for this member.")},
            )

    def rows(self):
        return [(subject, self[f"m{subject.pk}"]) for subject in self.subjects]

    def choices(self) -> dict[int, str]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items()}


class ConclusionForm(SafeTextMixin, forms.Form):
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    note = forms.CharField(
        label=_("Reasons"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecordForm(SafeTextMixin, forms.Form):
    note = forms.CharField(label=_("Committee note"), required=False, max_length=300)
