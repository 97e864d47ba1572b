"""Back office for accounts. Every save path calls a service; nothing writes models directly."""

import contextlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from redwheel.accounts import services
from redwheel.accounts.models import Grant, PlatformToken, TokenScope, User
from redwheel.core import crypto
from redwheel.core.errors import DomainError, ValidationFailed
from redwheel.core.permissions import can
from redwheel.core.validators import clean_mobile


class _RequestForm(forms.ModelForm):
    """A model form that knows the admin user, for permission pre-checks in clean()."""

    request = None


def _with_request(admin_obj, request, obj, kwargs):
    form = super(type(admin_obj), admin_obj).get_form(request, obj, **kwargs)
    return type(form.__name__, (form,), {"request": request})


class UserAddForm(_RequestForm):
    phone = forms.CharField(label=_("Mobile number"), max_length=20)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Leave empty for a driver who will activate the account by SMS code."),
    )

    class Meta:
        model = User
        fields = ["display_name"]

    def clean_phone(self):
        try:
            phone = clean_mobile(self.cleaned_data["phone"])
        except ValidationFailed as exc:
            raise forms.ValidationError(str(exc.message)) from exc
        if User.objects.filter(phone_index=crypto.blind_index(phone)).exists():
            raise forms.ValidationError(_("An account with this mobile number already exists."))
        return phone


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "phone_masked",
        "is_active",
        "is_staff",
        "is_superuser",
        "activated_at",
        "locked_until",
        "date_joined",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["display_name"]
    search_help_text = _("Search by name, or by the full mobile number.")
    ordering = ["-date_joined"]
    fields = [
        "display_name",
        "phone_masked",
        "is_active",
        "is_staff",
        "is_superuser",
        "activated_at",
        "failed_logins",
        "locked_until",
        "last_login",
        "date_joined",
    ]
    readonly_fields = [
        "phone_masked",
        "activated_at",
        "failed_logins",
        "locked_until",
        "last_login",
        "date_joined",
    ]

    def get_fields(self, request, obj=None):
        return ["display_name", "phone", "password"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = list(self.readonly_fields)
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser"]
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UserAddForm
        return super().get_form(request, obj, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            with contextlib.suppress(ValidationFailed):
                term = clean_mobile(term)
            results |= queryset.filter(phone_index=crypto.blind_index(term))
        return results, may_have_duplicates

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                user = services.user_create(
                    actor=request.user,
                    phone=form.cleaned_data["phone"],
                    display_name=form.cleaned_data["display_name"],
                    password=form.cleaned_data["password"] or None,
                )
                obj.__dict__.update(user.__dict__)
                return
            current = User.objects.get(pk=obj.pk)
            changes = {
                f: form.cleaned_data[f]
                for f in services.USER_EDITABLE_FIELDS
                if f in form.cleaned_data
            }
            services.user_update(actor=request.user, user=current, **changes)
        except DomainError as exc:
            raise PermissionDenied(str(exc.message)) from exc

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: audit entries point at users


class GrantForm(_RequestForm):
    class Meta:
        model = Grant
        fields = ["user", "unit", "role"]

    def clean(self):
        data = super().clean()
        unit = data.get("unit")
        if unit is not None and not can(self.request.user, "grant", unit):
            self.add_error("unit", _("You may not grant roles on this unit."))
        return data


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    form = GrantForm
    list_display = ["user", "unit", "role", "granted_by", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "unit", "granted_by"]
    autocomplete_fields = ["user"]
    search_fields = ["user__display_name", "unit__name"]

    def get_form(self, request, obj=None, **kwargs):
        return _with_request(self, request, obj, kwargs)

    def has_change_permission(self, request, obj=None):
        return False  # revoke and grant again: each is one audited service call

    def save_model(self, request, obj, form, change):
        grant = services.grant_create(
            actor=request.user,
            user=form.cleaned_data["user"],
            unit=form.cleaned_data["unit"],
            role=form.cleaned_data["role"],
        )
        obj.__dict__.update(grant.__dict__)

    def delete_model(self, request, obj):
        services.grant_revoke(actor=request.user, grant=obj)

    def delete_queryset(self, request, queryset):
        for grant in queryset.select_related("unit"):
            services.grant_revoke(actor=request.user, grant=grant)


class TokenAddForm(_RequestForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=TokenScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = PlatformToken
        fields = ["platform", "name"]

    def clean(self):
        data = super().clean()
        platform = data.get("platform")
        if platform is not None and not can(self.request.user, "grant", platform):
            self.add_error("platform", _("You may not create tokens for this platform."))
        return data


@admin.register(PlatformToken)
class PlatformTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "platform",
        "key_prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["platform", "revoked_at"]
    list_select_related = ["platform", "created_by"]
    search_fields = ["name", "key_prefix", "platform__name"]
    readonly_fields = [
        "platform",
        "name",
        "key_prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ["platform", "name", "scopes"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TokenAddForm
        return _with_request(self, request, obj, kwargs)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the audit trail keeps the token

    def save_model(self, request, obj, form, change):
        token, secret = services.token_create(
            actor=request.user,
            platform=form.cleaned_data["platform"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
        )
        obj.__dict__.update(token.__dict__)
        messages.warning(
            request,
            _(
                "Copy this secret now and give it to the platform; it is stored hashed and will "
                "never be shown again: %(secret)s"
            )
            % {"secret": secret},
        )

    @admin.action(description=_("Revoke selected tokens"), permissions=["view"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("platform"):
            services.token_revoke(actor=request.user, token=token)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
