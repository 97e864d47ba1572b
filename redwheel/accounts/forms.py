from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from redwheel.accounts.services import TEXT_SCALES, AccountLocked
from redwheel.core.errors import ValidationFailed
from redwheel.core.forms import SafeTextMixin
from redwheel.core.validators import clean_mobile


def _mobile_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "autofocus": True}
        ),
        **kwargs,
    )


class LoginForm(SafeTextMixin, AuthenticationForm):
    """Mobile number + password. A locked account gets its own clear message."""

    username = _mobile_field()
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The mobile number or password is wrong."),
    }

    def clean(self):
        try:
            return super().clean()
        except AccountLocked as exc:
            raise forms.ValidationError(str(exc.message), code="account_locked") from exc


class PasswordChangeForm(SafeTextMixin, forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class ActivationPhoneForm(SafeTextMixin, forms.Form):
    phone = _mobile_field()

    def clean_phone(self):
        try:
            return clean_mobile(self.cleaned_data["phone"])
        except ValidationFailed as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code) from exc


class ActivationCodeForm(SafeTextMixin, forms.Form):
    code = forms.RegexField(
        label=_("Code from the SMS"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6-digit code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
    new_password1 = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class PreferencesForm(forms.Form):
    """The settings page's elderly mode (长辈模式) and text size."""

    elderly_mode = forms.BooleanField(
        label=_("Elderly mode (长辈模式)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_elderly_mode-help"}),
        help_text=_(
            "Larger text, more space between lines, bigger buttons and stronger contrast, on "
            "every device you sign in on."
        ),
    )
    text_scale = forms.TypedChoiceField(
        label=_("Text size"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[(scale, f"{scale} %") for scale in TEXT_SCALES],
    )


class ElderlyToggleForm(SafeTextMixin, forms.Form):
    """The "长辈版" switch in the header of every driver page: turns elderly mode on or off."""

    elderly_mode = forms.ChoiceField(choices=[("on", "on"), ("off", "off")])
    next = forms.CharField(required=False, max_length=2000)
