"""Request shapes for the access-management pages (role grants, unit settings, platforms,
their API tokens, joint-building agreements). The rules live in the services; a service's
`ValidationFailed` is put back on the form's fields by `core.forms.submit`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.accounts.models import Role, TokenScope
from redwheel.core.forms import SafeTextMixin
from redwheel.orgs.models import OrgUnit, Platform


class GrantForm(SafeTextMixin, forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_("The full 11-digit number. A number without an account gets one."),
    )
    display_name = forms.CharField(
        label=_("Name"),
        max_length=60,
        help_text=_("Used only when the number has no account yet."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    password = forms.CharField(
        label=_("Initial password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Only for a new account; an existing account keeps its password. Hand it over "
            "safely and ask the person to change it after the first sign-in."
        ),
    )


class UnitEditForm(SafeTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    region_code = forms.CharField(label=_("Region code (GB/T 2260)"), max_length=6)
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive unit stays in the tree and keeps its history."),
    )


class PlatformSettingsForm(SafeTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Platform.Kind.choices)
    commission_cap_percent = forms.DecimalField(
        label=_("Published commission cap (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
    )
    # A plain text field: the URL rules (scheme, no private targets) are the model's, and its
    # errors are shown on this field.
    webhook_url = forms.CharField(label=_("Webhook URL"), max_length=200, required=False)
    webhook_secret = forms.CharField(
        label=_("New webhook secret"),
        max_length=128,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the current secret."),
    )
    clear_webhook_secret = forms.BooleanField(label=_("Remove the webhook secret"), required=False)

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {
            "name": data["name"],
            "kind": data["kind"],
            "commission_cap_percent": data["commission_cap_percent"],
            "webhook_url": data["webhook_url"].strip(),
        }
        if data["clear_webhook_secret"]:
            fields["webhook_secret"] = ""
        elif data["webhook_secret"]:
            fields["webhook_secret"] = data["webhook_secret"]
        return fields


class PlatformCreateForm(SafeTextMixin, forms.Form):
    city = forms.ModelChoiceField(label=_("City"), queryset=OrgUnit.objects.none())
    company_id = forms.CharField(label=_("CompanyId"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Platform.Kind.choices)

    def __init__(self, *args, cities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].queryset = cities


class PartnersForm(forms.Form):
    partners = forms.ModelMultipleChoiceField(
        label=_("Partner platforms"),
        queryset=Platform.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, platforms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = platforms


class TokenForm(SafeTextMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=80, help_text=_("What the token is for, e.g. 'badge look-ups'.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=TokenScope.choices, widget=forms.CheckboxSelectMultiple
    )


class AgreementForm(SafeTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    lead_unit = forms.ModelChoiceField(label=_("Lead unit"), queryset=OrgUnit.objects.none())
    partner_units = forms.ModelMultipleChoiceField(
        label=_("Partner units"), queryset=OrgUnit.objects.none()
    )
    signed_on = forms.DateField(
        label=_("Signed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    scope = forms.CharField(
        label=_("What the units do together"), required=False, widget=forms.Textarea
    )

    def __init__(self, *args, lead_units, partner_units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].queryset = lead_units
        self.fields["partner_units"].queryset = partner_units
