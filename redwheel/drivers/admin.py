from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from redwheel.core.admin_scoping import ScopedAdmin, run_service
from redwheel.core.errors import ValidationFailed
from redwheel.core.validators import clean_identity_number, clean_mobile
from redwheel.drivers import services
from redwheel.drivers.models import ContactPair, Driver, Membership, MembershipActivity, Vehicle
from redwheel.orgs.models import Platform


class DriverCreateForm(forms.ModelForm):
    license_number = forms.CharField(label=_("licence / ID number"), max_length=18)
    mobile = forms.CharField(label=_("mobile number"), max_length=20)
    platforms = forms.ModelMultipleChoiceField(Platform.objects.all(), required=False)

    class Meta:
        model = Driver
        fields = ["name", "branch"]

    # The kernel's rules at the edge, so a bad number is a field error rather than a failed save.
    def clean_license_number(self):
        try:
            return clean_identity_number(self.cleaned_data["license_number"])
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc

    def clean_mobile(self):
        try:
            return clean_mobile(self.cleaned_data["mobile"])
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class MembershipActivityInline(admin.TabularInline):
    model = MembershipActivity
    fields = ["at", "action", "from_state", "to_state", "category", "branch", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Driver)
class DriverAdmin(ScopedAdmin):
    list_display = ["name", "license_masked", "phone_masked", "branch", "badge_consent"]
    list_filter = ["badge_consent", "affiliations__platform"]
    search_fields = ["name", "phone_masked", "license_masked"]
    readonly_fields = [
        "license_masked",
        "phone_masked",
        "badge_consent",
        "badge_consent_changed_at",
        "user",
    ]
    fields = ["name", "branch", *readonly_fields]
    list_select_related = ["branch"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DriverCreateForm
            kwargs["fields"] = ["name", "license_number", "mobile", "branch", "platforms"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "license_number", "mobile", "branch", "platforms"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.driver_update(
                actor=request.user, driver=obj, name=data["name"], branch=data["branch"]
            )
        else:
            created = services.driver_create(
                actor=request.user,
                name=data["name"],
                license_no=data["license_number"],
                phone=data["mobile"],
                branch=data["branch"],
                platforms=list(data["platforms"]),
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        pass  # affiliations were written by the service


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ["driver", "category", "state", "branch", "mobile_branch", "state_changed_at"]
    list_filter = ["state", "category"]
    search_fields = ["driver__name"]
    readonly_fields = [
        "driver",
        "category",
        "state",
        "branch",
        "mobile_branch",
        "checked_in_at",
        "home_organisation",
        "joined_party_on",
        "state_changed_at",
        "rejection_reason",
    ]
    inlines = [MembershipActivityInline]
    actions = ["verify"]

    def has_add_permission(self, request):
        return False  # declarations go through the driver pages or roster import

    @admin.action(description=_("Verify the selected declarations"))
    def verify(self, request, queryset):
        done = sum(
            run_service(
                request, lambda m=m: services.membership_verify(actor=request.user, membership=m)
            )
            for m in queryset.filter(state=Membership.State.DECLARED)
        )
        self.message_user(request, _("%(count)d verified.") % {"count": done})


@admin.register(Vehicle)
class VehicleAdmin(ScopedAdmin):
    scope_model = Driver
    scope_path = "driver"
    list_display = ["plate", "energy", "driver", "brand", "model"]
    search_fields = ["plate"]
    fields = ["driver", "plate", "brand", "model", "seats"]
    autocomplete_fields = ["driver"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.vehicle_add(
            actor=request.user,
            driver=data["driver"],
            plate=data["plate"],
            brand=data["brand"],
            model=data["model"],
            seats=data["seats"],
        )
        obj.pk = created.pk


@admin.register(ContactPair)
class ContactPairAdmin(ScopedAdmin):
    scope_model = Driver
    scope_path = "member"
    list_display = ["member", "driver", "created_at"]
    fields = ["member", "driver"]
    autocomplete_fields = ["member", "driver"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        created = services.contact_pair_create(
            actor=request.user,
            member=form.cleaned_data["member"],
            driver=form.cleaned_data["driver"],
        )
        obj.pk = created.pk


import redwheel.drivers.imports.admin  # noqa: E402, F401  (registers the roster import admin)
