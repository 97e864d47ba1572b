from django.contrib import admin

from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.orgs import services
from redwheel.orgs.models import JointAgreement, OrgUnit, Platform


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedAdmin):
    list_display = ["name", "kind", "branch_type", "region_code", "platform", "is_active"]
    list_filter = ["kind", "branch_type", "is_active", "platform"]
    search_fields = ["name"]
    fields = ["name", "kind", "branch_type", "parent", "region_code", "platform", "is_active"]
    autocomplete_fields = ["parent"]

    def get_readonly_fields(self, request, obj=None):
        return ["kind", "branch_type", "parent", "platform"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.unit_update(
                actor=request.user,
                unit=obj,
                name=data["name"],
                region_code=data["region_code"],
                is_active=data["is_active"],
            )
        else:
            created = services.unit_create(
                actor=request.user,
                name=data["name"],
                kind=data["kind"],
                parent=data["parent"],
                region_code=data["region_code"],
                branch_type=data["branch_type"],
                platform=data["platform"],
            )
            obj.pk, obj.path = created.pk, created.path


@admin.register(Platform)
class PlatformAdmin(ScopedAdmin):
    list_display = ["name", "company_id", "kind", "commission_cap_percent"]
    list_filter = ["kind"]
    search_fields = ["name", "company_id"]
    filter_horizontal = ["partners"]

    def get_readonly_fields(self, request, obj=None):
        return ["city"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.platform_update(
                actor=request.user,
                platform=obj,
                **{
                    k: data[k]
                    for k in (
                        "name",
                        "kind",
                        "commission_cap_percent",
                        "webhook_url",
                        "webhook_secret",
                    )
                },
            )
        else:
            created = services.platform_create(
                actor=request.user,
                city=data["city"],
                company_id=data["company_id"],
                name=data["name"],
                kind=data["kind"],
                commission_cap_percent=data["commission_cap_percent"],
                webhook_url=data["webhook_url"],
                webhook_secret=data["webhook_secret"],
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        if form.instance.kind == Platform.Kind.AGGREGATOR:
            services.platform_set_partners(
                actor=request.user,
                aggregator=form.instance,
                partners=list(form.cleaned_data["partners"]),
            )


@admin.register(JointAgreement)
class JointAgreementAdmin(ScopedAdmin):
    scope_model = OrgUnit
    scope_path = "lead_unit"
    list_display = ["name", "lead_unit", "signed_on", "ends_on"]
    filter_horizontal = ["partner_units"]
    search_fields = ["name"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.agreement_create(
            actor=request.user,
            name=data["name"],
            lead_unit=data["lead_unit"],
            partner_units=list(data["partner_units"]),
            signed_on=data["signed_on"],
            ends_on=data["ends_on"],
            scope=data["scope"],
        )
        obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        pass  # partner units were set by the service
