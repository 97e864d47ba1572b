"""Forms of the ledger pages: shape only; the services check the formats and dates."""

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.orgs.models import OrgUnit
from redwheel.party.mobile.services import MAX_NOTES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EntryForm(SafeTextMixin, forms.Form):
    national_ref = forms.CharField(
        label=_("National system reference (全国党员管理信息系统)"),
        required=False,
        max_length=40,
        help_text=_("6–32 letters, digits or hyphens. Leave empty if you do not know it yet."),
    )
    activity_card_no = forms.CharField(
        label=_("Activity card no. (流动党员活动证)"),
        required=False,
        max_length=30,
        help_text=_("4–20 letters, digits or hyphens."),
    )
    away_since = forms.DateField(
        label=_("Away since"),
        required=False,
        widget=DATE,
        help_text=_("The day you left your home branch; the check-in date if empty."),
    )
    expected_return = forms.DateField(label=_("Expected return"), required=False, widget=DATE)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @classmethod
    def for_entry(cls, entry, **kwargs):
        if entry is None:
            return cls(**kwargs)
        initial = {
            name: getattr(entry, name)
            for name in ("national_ref", "activity_card_no", "away_since", "expected_return")
        }
        return cls(initial={**initial, "notes": entry.notes}, **kwargs)

    def entry_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in EntryForm.base_fields}


class CheckInForm(EntryForm):
    mobile_branch = forms.ModelChoiceField(
        label=_("Mobile-member branch"), queryset=OrgUnit.objects.none()
    )
    home_organisation = forms.CharField(
        label=_("Home party organisation"),
        required=False,
        max_length=150,
        help_text=_("Where your party relationship is kept."),
    )
    field_order = ["mobile_branch", "home_organisation"]

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mobile_branch"].queryset = branches


class TransferForm(SafeTextMixin, forms.Form):
    to_organisation = forms.CharField(label=_("Transferred to"), max_length=150)
    transferred_on = forms.DateField(label=_("Transferred on"), widget=DATE)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=40)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
