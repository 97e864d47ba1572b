"""Request shapes for the driver pages. Business rules stay in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.drivers.models import Category, Membership
from redwheel.drivers.selectors import (
    CATEGORY_PROSPECTIVE,
    STATE_ACTIVE,
    STATE_CHECKED_IN,
    STATE_NONE,
)
from redwheel.orgs.models import OrgUnit, Platform


class DriverFilterForm(SafeTextMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=40,
        help_text=_("Name, full phone or licence number, or the last 4 digits."),
    )
    platform = forms.ModelChoiceField(
        label=_("Platform"),
        queryset=Platform.objects.none(),
        required=False,
        empty_label=_("All platforms"),
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("All units"),
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[
            ("", _("All categories")),
            *Category.choices,
            (CATEGORY_PROSPECTIVE, _("Activists and applicants")),
        ],
    )
    state = forms.ChoiceField(
        label=_("Membership"),
        required=False,
        choices=[
            ("", _("Any")),
            *Membership.State.choices,
            (STATE_ACTIVE, _("Declared or verified")),
            (STATE_CHECKED_IN, _("Checked in")),
            (STATE_NONE, _("No membership record")),
        ],
    )
    party = forms.BooleanField(label=_("Party members only"), required=False)

    def __init__(self, *args, platforms, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = platforms
        self.fields["branch"].queryset = units


class ReasonForm(SafeTextMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(SafeTextMixin, forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RevealForm(SafeTextMixin, forms.Form):
    field = forms.ChoiceField(
        label=_("Number"),
        choices=[("phone", _("Mobile number")), ("license_no", _("Licence / ID number"))],
    )
    reason = forms.CharField(label=_("Why do you need to see it?"), max_length=300)


class TransferForm(SafeTextMixin, forms.Form):
    to_branch = forms.ModelChoiceField(label=_("New branch"), queryset=OrgUnit.objects.none())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_branch"].queryset = branches


class CheckInForm(SafeTextMixin, forms.Form):
    mobile_branch = forms.ModelChoiceField(
        label=_("Mobile-member branch"), queryset=OrgUnit.objects.none()
    )
    home_organisation = forms.CharField(
        label=_("Home party organisation"), max_length=150, required=False
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mobile_branch"].queryset = branches


class DeclareForm(SafeTextMixin, forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=OrgUnit.objects.none())
    joined_party_on = forms.DateField(
        label=_("Joined the party on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    home_organisation = forms.CharField(
        label=_("Home party organisation"), max_length=150, required=False
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches


class ContactPairForm(SafeTextMixin, forms.Form):
    number = forms.CharField(label=_("Other driver's full mobile or licence number"), max_length=24)


class BadgeForm(SafeTextMixin, forms.Form):
    consented = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1"
    )
